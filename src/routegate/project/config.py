"""The project file, ``routegate.yaml`` at the repository root: which policies are gated, and over what.

A project file lists policy files (or globs), each with the suites it is gated over, its gates
file, its fault scenarios, ``on_missing`` and, for a brand-new file, the reference policy it is
gated against; ``defaults`` fill what an entry leaves out. docs/ci.md documents the format.

It is YAML, not ``[tool.routegate]`` in pyproject.toml: the same safe loader as policies and
suites reports every problem at ``file:line:col``, and the people who edit policies edit YAML.
Every path is relative to the repository root and must stay inside it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from routegate.errors import InputError, Problem
from routegate.load.manifest import SUITE_FILE
from routegate.load.schema import Frozen, validate_document
from routegate.load.sources import resolve_inside
from routegate.load.yamlsource import YamlDocument, parse_yaml

PROJECT_FILE = "routegate.yaml"
"""The project file's name, at the repository root."""

OnMissing = Literal["error", "skip"]


class Defaults(Frozen):
    """What every entry of ``policies`` gets unless it says otherwise."""

    suites: tuple[str, ...] = ()
    """Suite folders the policies are gated over."""
    gates: str | None = None
    """Gates file (``None``: the documented default gates)."""
    scenarios: tuple[str, ...] = ()
    """Fault scenarios to drill (files or built-in names, as ``--scenario`` takes them)."""
    on_missing: OnMissing = "error"
    """A needed recording is missing: stop (``error``) or count the call as failed (``skip``)."""


class PolicyEntry(Frozen):
    """One policy file, or a glob of them, and how it is gated."""

    path: str = Field(min_length=1)
    """A policy file, or a glob (``policies/*.yaml``; ``*`` never crosses a ``/``)."""
    suites: tuple[str, ...] | None = None
    """Suite folders (default: ``defaults.suites``)."""
    gates: str | None = None
    """Gates file (default: ``defaults.gates``)."""
    scenarios: tuple[str, ...] | None = None
    """Fault scenarios (default: ``defaults.scenarios``)."""
    on_missing: OnMissing | None = None
    """Missing recordings (default: ``defaults.on_missing``)."""
    reference: str | None = None
    """The policy a brand-new file is gated against; without one, a new file meets the absolute gates only."""


class ProjectSpec(Frozen):
    """The contents of ``routegate.yaml``."""

    version: Literal[1] = 1
    """The format's version."""
    defaults: Defaults = Defaults()
    """What every entry gets unless it says otherwise."""
    policies: tuple[PolicyEntry, ...] = Field(min_length=1)
    """The gated policies; a file matched by several entries takes the first."""


@dataclass(frozen=True)
class Gated:
    """How one policy file is gated: an entry with its defaults filled in."""

    pattern: str
    """The entry's ``path`` (a file or a glob)."""
    suites: tuple[str, ...]
    """Suite folders, relative to the repository root."""
    gates: str | None
    """Gates file, relative to the repository root; ``None``: the default gates."""
    scenarios: tuple[str, ...]
    """Fault scenarios: files relative to the repository root, or built-in names."""
    on_missing: OnMissing
    """What a missing recording does."""
    reference: str | None
    """The reference policy for a brand-new file, relative to the repository root."""
    at: str
    """Where the entry is, ``file:line:col``, for problems found later (a missing policy file)."""


@dataclass(frozen=True)
class Project:
    """A loaded, checked project file."""

    root: Path
    """The repository root (the project file's folder)."""
    file: str
    """The project file, for messages."""
    entries: tuple[Gated, ...]
    """The entries, in the file's order, defaults filled in."""

    def entry_for(self, path: str) -> Gated | None:
        """The first entry whose pattern matches ``path`` (repository-relative, POSIX), if any."""
        for entry in self.entries:
            if matches(entry.pattern, path):
                return entry
        return None

    def policies(self) -> list[str]:
        """Every policy file in the working tree that an entry matches, sorted."""
        found = {
            path.relative_to(self.root).as_posix()
            for entry in self.entries
            for path in self.root.glob(entry.pattern)
            if path.is_file()
        }
        return sorted(p for p in found if self.entry_for(p) is not None)


def matches(pattern: str, path: str) -> bool:
    """Whether repository-relative ``path`` matches ``pattern`` (a path, or a glob whose ``*`` stays in one folder)."""
    if pattern.count("/") != path.count("/") and "**" not in pattern:
        return False
    return fnmatch.fnmatchcase(path, pattern)


def load_project(root: Path, name: str = PROJECT_FILE) -> Project:
    """Load and check ``root / name``; raise ``InputError`` naming every problem at ``file:line:col``."""
    path = root / name
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError.single(
            display, f"no project file; add {name} at the repository root to declare the gated policies (docs/ci.md)"
        ) from None
    except UnicodeDecodeError:
        raise InputError.single(display, "not valid UTF-8") from None
    doc = parse_yaml(text, display)
    spec = validate_document(ProjectSpec, doc)
    problems: list[Problem] = []
    entries = tuple(_gated(spec, i, entry, root, doc, problems) for i, entry in enumerate(spec.policies))
    if problems:
        raise InputError(problems)
    return Project(root=root, file=display, entries=entries)


def _gated(spec: ProjectSpec, i: int, entry: PolicyEntry, root: Path, doc: YamlDocument, out: list[Problem]) -> Gated:
    """``entry`` with its defaults, every path checked (inside the root; suites and files exist)."""
    where: tuple[str | int, ...] = ("policies", i)
    d = spec.defaults
    suites_from = (*where, "suites") if entry.suites is not None else ("defaults", "suites")
    suites = entry.suites if entry.suites is not None else d.suites
    gates_from = (*where, "gates") if entry.gates is not None else ("defaults", "gates")
    scenarios_from = (*where, "scenarios") if entry.scenarios is not None else ("defaults", "scenarios")
    scenarios = entry.scenarios if entry.scenarios is not None else d.scenarios
    gated = Gated(
        pattern=entry.path,
        suites=suites,
        gates=entry.gates if entry.gates is not None else d.gates,
        scenarios=scenarios,
        on_missing=entry.on_missing or d.on_missing,
        reference=entry.reference,
        at="{}:{}:{}".format(doc.file, *doc.position((*where, "path"))),
    )
    # A declared file may be missing (the branch deleted or renamed it): ``routegate check`` decides.
    _inside(root, entry.path, (*where, "path"), doc, out, kind=None)
    if not suites:
        out.append(doc.problem(where, "no suites: give suites here or under defaults"))
    for j, suite in enumerate(suites):
        _inside(root, suite, (*suites_from, j), doc, out, kind="suite")
    if gated.gates is not None:
        _inside(root, gated.gates, gates_from, doc, out, kind="file")
    for j, scenario in enumerate(scenarios):
        if scenario.endswith((".yaml", ".yml")):
            _inside(root, scenario, (*scenarios_from, j), doc, out, kind="file")
    if entry.reference is not None:  # needed only by a new file: ``routegate check`` checks it exists then
        _inside(root, entry.reference, (*where, "reference"), doc, out, kind=None)
    return gated


def _inside(
    root: Path, name: str, at: tuple[str | int, ...], doc: YamlDocument, out: list[Problem], *, kind: str | None
) -> None:
    """Problems for ``name`` leaving ``root``, or (``kind``) not being a suite folder or a file."""
    line, col = doc.position(at)
    try:
        path = resolve_inside(root, name.replace("*", "x"), file=doc.file, field=_field(at), line=line, col=col)
    except InputError as exc:
        out.extend(exc.problems)
        return
    if kind == "suite" and not (path / SUITE_FILE).is_file():
        out.append(doc.problem(at, f"no suite folder {name!r} (a folder holding {SUITE_FILE})"))
    elif kind == "file" and not path.is_file():
        out.append(doc.problem(at, f"no file {name!r}"))


def _field(at: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in at)
