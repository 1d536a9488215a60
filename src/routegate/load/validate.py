"""``routegate validate``: find every policy, catalog and suite under the given paths and check it.

Kinds are told apart by shape: a folder holding ``suite.yaml`` is a suite; a
YAML file with ``tiers`` is a policy; with ``models`` and ``providers``, a
catalog; a caller may add kinds of its own (``OtherKind``: gates files, which a
higher layer defines). Every problem found is collected, so one run lists them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from routegate.errors import InputError, Problem
from routegate.load.manifest import SUITE_FILE
from routegate.load.policy import load_catalog_source, load_policy_source
from routegate.load.sources import Source, parse_source
from routegate.load.suite import check_suite_models, load_suite
from routegate.load.yamlsource import parse_yaml

YAML_SUFFIXES = (".yaml", ".yml")


def _targets(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """Expand folders into the files and suite folders below them, in a stable order."""
    found: list[str] = []
    problems: list[Problem] = []
    for spec in paths:
        if spec.startswith("git:"):
            found.append(spec)
            continue
        path = Path(spec)
        if not path.exists():
            problems.append(Problem(spec, 0, 0, "-", "no such file or folder"))
        elif path.is_file():
            found.append(str(path.parent) if path.name == SUITE_FILE else spec)
        else:
            suites = sorted(p.parent for p in path.rglob(SUITE_FILE))
            found += [str(s) for s in suites]
            for file in sorted(path.rglob("*")):
                is_yaml = file.suffix in YAML_SUFFIXES and file.name != SUITE_FILE and file.is_file()
                if is_yaml and not any(file.is_relative_to(s) for s in suites):
                    found.append(str(file))
    return found, problems


@dataclass(frozen=True)
class OtherKind:
    """A kind of YAML file that ``validate_paths`` does not know by itself (e.g. gates files)."""

    name: str
    """How the ``ok`` line names it, e.g. ``gates``."""
    keys: frozenset[str]
    """Its top-level keys: a mapping whose keys are all among these (and not empty) is of this kind."""
    check: Callable[[Source], str]
    """Load and check it (raising ``InputError`` with every problem); returns the ``ok`` line's detail."""


def classify(source: Source, others: Sequence[OtherKind] = ()) -> str:
    """``policy``, ``catalog``, an ``others`` kind's name or ``unknown`` for a YAML file (parsing errors propagate)."""
    doc = parse_yaml(source.read_text(), source.display)
    keys = set(doc.data) if isinstance(doc.data, dict) else set()
    if "tiers" in keys:
        return "policy"
    if "models" in keys and "providers" in keys:
        return "catalog"
    for other in others:
        if keys and keys <= other.keys:
            return other.name
    return "unknown"


def _not_a_known_kind(others: Sequence[OtherKind]) -> str:
    kinds = [
        "a policy (has 'tiers')",
        "a catalog (has 'models' and 'providers')",
        *(f"a {o.name} file (keys among {', '.join(sorted(o.keys))})" for o in others),
    ]
    return f"not {', '.join(kinds)} or a suite folder"


def validate_paths(paths: Iterable[str], others: Sequence[OtherKind] = ()) -> tuple[list[str], list[Problem]]:
    """Validate everything under ``paths``; return (what was checked, every problem found)."""
    targets, problems = _targets(paths)
    checked: list[str] = []
    catalogs: dict[str, set[str]] = {}
    suites = []
    for target in targets:
        try:
            if not target.startswith("git:") and Path(target).is_dir():
                suite = load_suite(target)
                suites.append(suite)
                problems += suite.warnings
                sizes = f"{suite.examples.num_rows} examples, {suite.recordings.num_rows} recordings"
                checked.append(f"suite   {target} ({sizes})")
                continue
            source = parse_source(target)
            kind = classify(source, others)
            other = next((o for o in others if o.name == kind), None)
            if other is not None:
                checked.append(f"{kind:<7} {target} ({other.check(source)})")
            elif kind == "policy":
                policy = load_policy_source(source)
                problems += policy.warnings
                checked.append(f"policy  {target} (sha256 {policy.sha256[:12]})")
            elif kind == "catalog":
                catalog, _ = load_catalog_source(source)
                catalogs[target] = set(catalog.models)
                checked.append(f"catalog {target} ({len(catalog.models)} models)")
            else:
                problems.append(
                    Problem(
                        source.display,
                        1,
                        1,
                        "-",
                        _not_a_known_kind(others),
                    )
                )
        except InputError as exc:
            problems += exc.problems
    if len(catalogs) == 1:
        ((display, known),) = catalogs.items()
        for suite in suites:
            problems += check_suite_models(suite, known, display)
    return checked, problems
