"""``routegate validate`` on a project file: the file itself, then everything it declares.

A path naming ``routegate.yaml`` (or any YAML file with a top-level ``policies:`` list and no
``tiers:``) is checked as a project file (``project.config``) and replaced by what it declares:
every policy file its entries match, their suites, gates files, scenario files and reference
policies. ``routegate validate`` with no path validates ``./routegate.yaml`` that way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from routegate.errors import InputError, Problem
from routegate.gates.spec import GatesSpec
from routegate.load.schema import validate_document
from routegate.load.sources import Source
from routegate.load.validate import YAML_SUFFIXES, OtherKind, validate_paths
from routegate.load.yamlsource import parse_yaml
from routegate.project.config import PROJECT_FILE, Project, load_project


def is_project_file(path: str) -> bool:
    """Whether ``path`` is a project file: named ``routegate.yaml``, or YAML with ``policies`` and no ``tiers``."""
    file = Path(path)
    if path.startswith("git:") or not file.is_file() or file.suffix not in YAML_SUFFIXES:
        return False
    if file.name == PROJECT_FILE:
        return True
    try:
        data = parse_yaml(file.read_text(encoding="utf-8"), path).data
    except (InputError, UnicodeDecodeError):
        return False  # validate_paths reports it
    return isinstance(data, dict) and "policies" in data and "tiers" not in data


def declared(project: Project) -> list[str]:
    """Every file and folder the project declares that exists, relative to the current folder, in order."""
    found: list[str] = []
    for name in project.policies():
        found.append(name)
    for entry in project.entries:
        found += entry.suites
        found += [entry.gates] if entry.gates else []
        found += [entry.reference] if entry.reference else []
        found += [s for s in entry.scenarios if s.endswith(YAML_SUFFIXES)]
    here = Path.cwd().resolve()
    out = []
    for name in dict.fromkeys(found):
        path = project.root / name
        out.append(str(path.relative_to(here)) if path.is_relative_to(here) else str(path))
    return out


def expand_projects(paths: Iterable[str]) -> tuple[list[str], list[str], list[Problem]]:
    """(paths to validate, one ``ok`` line per project file, the project files' problems)."""
    targets: list[str] = []
    checked: list[str] = []
    problems: list[Problem] = []
    for spec in paths:
        if not is_project_file(spec):
            targets.append(spec)
            continue
        path = Path(spec).resolve()
        try:
            project = load_project(path.parent, path.name)
        except InputError as exc:
            problems += exc.problems
            continue
        for i, entry in enumerate(project.entries):
            if not any(p.is_file() for p in project.root.glob(entry.pattern)):
                file, line, col = entry.at.rsplit(":", 2)
                what = "no file matches this glob" if "*" in entry.pattern else "no such policy file"
                message = f"{what}: {entry.pattern!r}"
                problems.append(Problem(file, int(line), int(col), f"policies[{i}].path", message, "warning"))
        files = declared(project)
        checked.append(f"project {spec} ({len(project.policies())} policies, {len(files)} files and folders declared)")
        targets += files
    return list(dict.fromkeys(targets)), checked, problems


def _check_gates(source: Source) -> str:
    spec = validate_document(GatesSpec, parse_yaml(source.read_text(), source.display))
    return f"{len(spec.model_fields_set)} section(s) set, the rest default"


GATES = OtherKind("gates", frozenset(GatesSpec.model_fields), _check_gates)
"""Gates files (docs/gates.md): a mapping of GatesSpec's sections."""


def validate_all(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """``validate_paths`` with each project file among ``paths`` expanded (:func:`expand_projects`) and
    gates files known (``GATES``)."""
    targets, checked, problems = expand_projects(paths)
    found, more = validate_paths(targets, (GATES,)) if targets else ([], [])
    return checked + found, problems + more
