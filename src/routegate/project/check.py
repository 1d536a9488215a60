"""``routegate check --base REF``: gate exactly what a branch changed, against its own base version.

    find changes (merge base..working tree) -> plan (which declared policies, against what, why)
    -> load every input (both sides; bad input stops here, before any report)
    -> gate each policy (``pipeline.gate_policies``) -> its reports in its own folder -> one verdict

What is gated, for a policy declared in the project file (``routegate.yaml``):
- the policy file was edited: its merge-base version against the working tree's;
- it was renamed: its old path's merge-base version against the new file (and the rename reported);
- its catalog, gates file, a scenario file or one of its suites was edited: the merge-base version of
  the policy (with the catalog of that commit) against the working tree's, both over the suites as they
  are now, the gates and scenarios as they are now;
- it is new: against its entry's ``reference`` if it has one, else against itself, which leaves the
  absolute gates only (privacy, error rate, latency ceilings, fast-tier share), and says so;
- with ``--all``: every declared policy against its merge-base version.
A deleted declared policy is reported, never an error. docs/ci.md documents the command.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from routegate.errors import InputError
from routegate.project.changes import ChangeSet
from routegate.project.config import Gated, Project

SUITE_EDITED = "suite edited: "
"""How ``Gating.why`` begins for a policy gated because one of its suites changed."""


@dataclass(frozen=True)
class Gating:
    """One policy to gate: which file, why, against what."""

    policy: str
    """The policy file, relative to the repository root."""
    why: str
    """What made it gated, in words (``policy edited``, ``catalog edited: policies/models.yaml`` ...)."""
    baseline: str
    """The baseline as ``--baseline`` takes it: ``git:SHA:path`` of the merge base, or a working-tree file."""
    candidate: str
    """The candidate, a working-tree file."""
    entry: Gated
    """The project file's entry: suites, gates, scenarios, missing recordings."""
    absolute_only: bool = False
    """A new policy with no reference: gated against itself, so only the absolute gates can fail."""


@dataclass(frozen=True)
class Note:
    """A change that is reported but not gated."""

    path: str
    """The file, relative to the repository root."""
    what: str
    """What happened to it, in words."""


@dataclass(frozen=True)
class CheckPlan:
    """What ``routegate check`` gates, and what it only reports."""

    changes: ChangeSet
    """Every file the branch changed since the merge base."""
    gatings: tuple[Gating, ...]
    """The policies to gate, sorted by path."""
    notes: tuple[Note, ...]
    """Deleted and renamed policies, sorted by path."""


def plan_check(project: Project, changes: ChangeSet, catalogs: dict[str, str], *, every: bool = False) -> CheckPlan:
    """Decide what to gate. ``catalogs``: each declared policy's catalog file (repository-relative)."""
    base = changes.merge_base
    gatings: list[Gating] = []
    notes: list[Note] = []
    for policy in project.policies():
        entry = project.entry_for(policy)
        assert entry is not None  # policies() lists matched files only
        change = changes.change_of(policy)
        absolute = here(project, policy)
        if change is not None and change.status == "added":
            if entry.reference is not None:
                if not (project.root / entry.reference).is_file():
                    raise InputError.single(
                        entry.at, f"the reference policy {entry.reference!r} is not in the working tree"
                    )
                why = f"new policy, gated against its reference {entry.reference}"
                gatings.append(Gating(policy, why, here(project, entry.reference), absolute, entry))
            else:
                why = "new policy, no reference: the absolute gates only"
                gatings.append(Gating(policy, why, absolute, absolute, entry, absolute_only=True))
            continue
        if change is not None and change.status == "renamed" and change.old_path is not None:
            notes.append(Note(policy, f"renamed from {change.old_path}"))
            old = f"git:{base}:{here(project, change.old_path)}"
            gatings.append(Gating(policy, f"renamed from {change.old_path}", old, absolute, entry))
            continue
        reason = _why(policy, entry, changes, catalogs.get(policy))
        if reason is None and every:
            reason = "every declared policy (--all)"
        if reason is not None:
            gatings.append(Gating(policy, reason, f"git:{base}:{absolute}", absolute, entry))
    for change in changes.changes:
        if change.status == "deleted" and project.entry_for(change.path) is not None:
            notes.append(Note(change.path, "deleted"))
    gone = {n.path for n in notes} | {c.old_path for c in changes.changes if c.old_path is not None}
    for entry in project.entries:
        if "*" not in entry.pattern and entry.pattern not in gone and not (project.root / entry.pattern).is_file():
            raise InputError.single(entry.at, f"no policy file {entry.pattern!r}; declare an existing file or a glob")
    return CheckPlan(
        changes, tuple(sorted(gatings, key=lambda g: g.policy)), tuple(sorted(notes, key=lambda n: n.path))
    )


def here(project: Project, path: str) -> str:
    """A repository-relative ``path`` as the command line names it: relative to the current folder."""
    return os.path.relpath(project.root / path)


def _why(policy: str, entry: Gated, changes: ChangeSet, catalog: str | None) -> str | None:
    """Why an existing, not renamed policy is gated, or ``None`` when nothing it depends on changed."""
    if changes.change_of(policy) is not None:
        return "policy edited"
    if catalog is not None and changes.touched(catalog):
        return f"catalog edited: {catalog}"
    if entry.gates is not None and changes.touched(entry.gates):
        return f"gates file edited: {entry.gates}"
    for scenario in entry.scenarios:
        if changes.touched(scenario):
            return f"scenario edited: {scenario}"
    for suite in entry.suites:
        if changes.touched(suite):
            return SUITE_EDITED + suite
    return None


def catalog_files(project: Project, policies: Sequence[str]) -> dict[str, str]:
    """Each working-tree policy's catalog file, relative to the repository root (policies that do not
    load are left out here: loading them for the gate reports their problems)."""
    from routegate.load.policy import load_policy

    out: dict[str, str] = {}
    for policy in policies:
        try:
            loaded = load_policy(str(project.root / policy))
        except InputError:
            continue
        path = Path(loaded.catalog_source).resolve()
        if path.is_relative_to(project.root.resolve()):
            out[policy] = path.relative_to(project.root.resolve()).as_posix()
    return out
