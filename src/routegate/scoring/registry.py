"""The scorer registry: names -> scorers, through the ``routegate.scorers`` entry-point group.

Built-ins are registered the same way as third-party scorers (see pyproject.toml)::

    [project.entry-points."routegate.scorers"]
    numeric = "routegate.scoring.numeric:numeric"

``BUILTINS`` repeats those entry points so built-ins work even when the
installed package metadata is stale. Entry points are only loaded on first
lookup, and each loaded object must be a scorer (``base.as_scorer``).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from routegate.errors import InputError
from routegate.scoring.base import Scorer, as_scorer

GROUP = "routegate.scorers"
FIELD = "scoring.scorer"
BUILTINS: tuple[EntryPoint, ...] = tuple(
    EntryPoint(name, value, GROUP)
    for name, value in {
        "judge": "routegate.scoring.judge:judge",
        "exact_match": "routegate.scoring.text:exact_match",
        "contains": "routegate.scoring.text:contains",
        "regex": "routegate.scoring.text:regex",
        "mcq": "routegate.scoring.mcq:mcq",
        "numeric": "routegate.scoring.numeric:numeric",
        "valid_json": "routegate.scoring.valid_json:valid_json",
    }.items()
)


class Registry:
    """Scorers by name, loaded lazily from entry points (built-ins first, then the given or installed ones)."""

    def __init__(self, points: Iterable[EntryPoint] | None = None) -> None:
        found = list(BUILTINS) + list(entry_points(group=GROUP) if points is None else points)
        self._points: dict[str, list[EntryPoint]] = {}
        for point in found:
            same = self._points.setdefault(point.name, [])
            if all(p.value != point.value for p in same):
                same.append(point)
        self._loaded: dict[str, Scorer] = {}

    def names(self) -> list[str]:
        return sorted(self._points)

    def get(self, name: str) -> Scorer:
        if name in self._loaded:
            return self._loaded[name]
        points = self._points.get(name)
        if not points:
            raise InputError.single("-", f"unknown scorer {name!r}; known scorers: {', '.join(self.names())}", FIELD)
        if len(points) > 1:
            where = ", ".join(f"{p.value} ({_dist(p)})" for p in points)
            raise InputError.single("-", f"scorer {name!r} is registered more than once: {where}", FIELD)
        scorer = _load(points[0])
        self._loaded[name] = scorer
        return scorer


def _load(point: EntryPoint) -> Scorer:
    label = f"scorer {point.name!r} (entry point {point.value} from {_dist(point)})"
    try:
        obj = point.load()
    except Exception as exc:  # a broken plugin: any import-time error, reported with its name
        raise InputError.single("-", f"{label} failed to load: {type(exc).__name__}: {exc}", FIELD) from exc
    scorer = as_scorer(obj)
    if scorer is None:
        raise InputError.single(
            "-", f"{label} is not a scorer: it needs __call__(inp, options) and validate_options(options)", FIELD
        )
    return scorer


def _dist(point: EntryPoint) -> str:
    dist = point.dist
    return (
        f"distribution {dist.name}"
        if dist is not None
        else "routegate built-ins"
        if point in BUILTINS
        else "an unnamed distribution"
    )


_default: Registry | None = None


def default_registry() -> Registry:
    """The registry of installed scorers, built on first use."""
    global _default  # one lazily built registry per process
    if _default is None:
        _default = Registry()
    return _default


def get_scorer(name: str) -> Scorer:
    """The scorer registered as ``name``; ``InputError`` naming the known scorers when there is none."""
    return default_registry().get(name)


def scorer_names() -> list[str]:
    """Every registered scorer name (built-in and installed plugins), sorted; nothing is imported."""
    return default_registry().names()
