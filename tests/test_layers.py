"""The package's layering: no module imports a module of a higher layer, and every module has a layer.

The layers follow the pipeline (issue 15): what is loaded, then replayed, then measured,
gated and reported, then orchestrated and exposed. Imports are read with ``ast`` from every module under
src/routegate, those inside functions and under ``TYPE_CHECKING`` included. Also here: the size limit on
modules and the process-global tricks that have no place in the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "routegate"

# Lowest first. A pattern ``name.*`` covers the package ``name`` and everything under it; a plain name
# covers that module alone. The most specific pattern wins (``routegate.pipeline`` over ``routegate``).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base",
        (
            "routegate._version",
            "routegate.errors",
            "routegate.writer",
            "routegate.units",
            "routegate.arrow.*",
            "routegate.pii.*",
            "routegate.scoring.*",
        ),
    ),
    ("load", ("routegate.load.*",)),
    (
        "engine, providers, faults",
        ("routegate.engine.*", "routegate.providers.*", "routegate.faults.*"),
    ),
    ("stats", ("routegate.stats.*",)),
    ("gates", ("routegate.gates.*",)),
    ("report", ("routegate.report.*",)),
    ("orchestration", ("routegate.pipeline",)),
    (
        "entry points and tools",
        (
            "routegate.cli",
            "routegate.inputs",
            "routegate.outputs",
            "routegate.progress",
            "routegate.power",
            "routegate.importers.*",
            "routegate.project.*",
            "routegate",
        ),
    ),
)
MAX_LINES = 400
FORBIDDEN = ("ctypes", "mallopt", "meta_path", "gc.freeze")


def module_name(path: Path, root: Path = PACKAGE) -> str:
    """The dotted name of the module at ``path`` in the package whose folder is ``root``."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package at ``root``, by dotted name."""
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    """The index in ``LAYERS`` of the most specific pattern covering ``module``, or None when none does."""
    best: tuple[int, int] | None = None  # (specificity, layer)
    for index, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if pattern.endswith(".*"):
                base = pattern[:-2]
                covers = module == base or module.startswith(base + ".")
                specificity = 2 * base.count(".")
            else:
                covers = module == pattern
                specificity = 2 * pattern.count(".") + 1
            if covers and (best is None or specificity > best[0]):
                best = (specificity, index)
    return None if best is None else best[1]


def imported_modules(module: str, source: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The package modules that ``source`` (the text of ``module``) imports anywhere in its body.

    ``from a import b`` names the module ``a.b`` when there is one, else the module ``a``; relative
    imports are resolved against ``module``'s package.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base


def layer_violations(modules: dict[str, str], packages: set[str]) -> list[str]:
    """Every import of a higher layer among ``modules`` (name to source text), one line each."""
    known = set(modules)
    found = []
    for module, source in sorted(modules.items()):
        low = layer_of(module)
        for imported in sorted(set(imported_modules(module, source, module in packages, known))):
            if imported.partition(".")[0] != "routegate":
                continue
            high = layer_of(imported)
            if low is not None and high is not None and high > low:
                found.append(f"{module} -> {imported} (layer {low} {LAYERS[low][0]} -> layer {high} {LAYERS[high][0]})")
    return found


def read_package() -> tuple[dict[str, str], set[str]]:
    """The source text of every module of the package, and the names of its packages."""
    paths = package_modules()
    sources = {name: path.read_text(encoding="utf-8") for name, path in paths.items()}
    return sources, {name for name, path in paths.items() if path.name == "__init__.py"}


def test_the_checker_finds_an_upward_import_in_every_form() -> None:
    """Plain, from, relative, in a function and under TYPE_CHECKING: each upward import is reported once."""
    modules = {
        "routegate.load.suite": (
            "from typing import TYPE_CHECKING\n"
            "import numpy\n"
            "from routegate.errors import InputError\n"
            "from . import policy\n"
            "if TYPE_CHECKING:\n"
            "    from routegate.engine.plan import Plan\n"
            "def f():\n"
            "    import routegate.stats.measure\n"
            "    from ..report import html\n"
            "    from .. import pipeline\n"
        ),
        "routegate.load.policy": "",
        "routegate.engine": "from .plan import Plan\n",
        "routegate.engine.plan": "from routegate.load.suite import Suite\n",
        "routegate.stats.measure": "",
        "routegate.report.html": "",
        "routegate.pipeline": "",
        "routegate.errors": "",
    }
    assert layer_violations(modules, {"routegate.engine"}) == [
        "routegate.load.suite -> routegate.engine.plan (layer 1 load -> layer 2 engine, providers, faults)",
        "routegate.load.suite -> routegate.pipeline (layer 1 load -> layer 6 orchestration)",
        "routegate.load.suite -> routegate.report.html (layer 1 load -> layer 5 report)",
        "routegate.load.suite -> routegate.stats.measure (layer 1 load -> layer 3 stats)",
    ]


def test_the_most_specific_pattern_places_a_module() -> None:
    assert layer_of("routegate.pii.detect") == 0
    assert layer_of("routegate.pii") == 0
    assert layer_of("routegate.engine.detection") == 2
    assert layer_of("routegate") == 7
    assert layer_of("routegate.gates") == 4
    assert layer_of("routegate.gatekeeper") is None
    assert layer_of("routegate.pipeline") == 6


def test_every_module_has_a_layer() -> None:
    """A new module must be placed in ``LAYERS`` before it can be imported by anything."""
    unplaced = [name for name in package_modules() if layer_of(name) is None]
    assert not unplaced, "modules not in the layer table: " + ", ".join(unplaced)


def test_no_module_imports_a_higher_layer() -> None:
    sources, packages = read_package()
    assert len(sources) > 50  # the whole package was read
    violations = layer_violations(sources, packages)
    assert not violations, "imports of a higher layer:\n" + "\n".join(violations)


def test_no_module_is_longer_than_the_limit() -> None:
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in package_modules().items()}
    long = [f"{name}: {n} lines" for name, n in sorted(lengths.items()) if n > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines:\n" + "\n".join(long)


def test_the_package_uses_no_process_global_tricks() -> None:
    """No ctypes, malloc tuning, import hooks or GC freezing anywhere under src/ (a grep of every text file)."""
    files = [p for p in sorted(PACKAGE.parent.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    assert any(p.suffix == ".py" for p in files)
    hits = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {word}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        for word in FORBIDDEN
        if word in line
    ]
    assert not hits, "\n".join(hits)
