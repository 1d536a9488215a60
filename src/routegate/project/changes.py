"""What a branch changed relative to a base ref, read from the ``git`` command line.

``routegate check`` gates only what a pull request touched. :func:`find_changes` answers that
question the way a reviewer reads a pull request: from the merge base of the base ref and ``HEAD``
(not the base branch's tip, so later commits on the base branch are never counted) to the working
tree, so uncommitted edits of tracked files and untracked files that are not ignored count too.
Renames are detected (``-M``); copies count as added files and type changes as modified ones.

Git is called with an argument list, never a shell, and every problem (git missing, not a
repository, an unknown base ref, a shallow clone without the merge base) is an ``InputError``
that says what to do.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from routegate.errors import InputError

ChangeStatus = Literal["added", "modified", "deleted", "renamed"]

GIT_TIMEOUT_SECONDS = 60
SHALLOW_HINT = (
    "this clone is shallow: fetch the full history (git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
)
# `git diff --name-status` letters; any other letter (U: unmerged, X: unknown) reads as "modified".
_STATUS: dict[str, ChangeStatus] = {"A": "added", "C": "added", "D": "deleted", "M": "modified", "T": "modified"}


@dataclass(frozen=True)
class Change:
    """One file the branch added, modified, deleted or renamed."""

    status: ChangeStatus
    """What happened to the file; copies are ``added``, type changes ``modified``."""
    path: str
    """Repository-relative POSIX path; for a rename, the new path."""
    old_path: str | None = None
    """For a rename, the path the file had at the merge base; else None."""


@dataclass(frozen=True)
class ChangeSet:
    """Every change from the merge base of a base ref and ``HEAD`` to the working tree."""

    repo: Path
    """Top level of the repository."""
    base_ref: str
    """The base ref as given (``origin/main``)."""
    merge_base: str
    """Full sha of the merge base of ``base_ref`` and ``HEAD``: where the changes are counted from."""
    head: str
    """Full sha of ``HEAD``."""
    changes: tuple[Change, ...]
    """The changes, sorted by path."""

    def touched(self, path_or_folder: str) -> bool:
        """Whether a change's path or old path is ``path_or_folder`` or lies in it as a folder.

        ``path_or_folder`` is repository-relative (``policies``, ``policies/``, ``policies/a.yaml``);
        ``.`` stands for the whole repository.
        """
        wanted = PurePosixPath(path_or_folder).as_posix()
        if wanted == ".":
            return bool(self.changes)
        folder = wanted + "/"
        return any(
            path == wanted or path.startswith(folder)
            for change in self.changes
            for path in (change.path, change.old_path)
            if path is not None
        )

    def change_of(self, path: str) -> Change | None:
        """The change of the file at ``path`` (its path now, or its old path before a rename), or None."""
        wanted = PurePosixPath(path).as_posix()
        by_path = next((change for change in self.changes if change.path == wanted), None)
        if by_path is not None:
            return by_path
        return next((change for change in self.changes if change.old_path == wanted), None)


def find_changes(base_ref: str, *, repo: Path | None = None) -> ChangeSet:
    """What the branch checked out in ``repo`` (default: the cwd's repository) changed relative to ``base_ref``.

    Counts from the merge base of ``base_ref`` and ``HEAD`` to the working tree: committed changes,
    uncommitted edits of tracked files, and untracked files that are not ignored (as added).
    """
    top = _find_toplevel(Path.cwd() if repo is None else repo)
    head = _resolve_commit(top, "HEAD")
    if head is None:
        raise InputError.single(str(top), "the repository has no commits yet (HEAD does not name a commit)")
    if base_ref.startswith("-"):  # git would read it as an option
        raise InputError.single(str(top), f"unknown git ref {base_ref!r}: a git ref never starts with '-'")
    base = _resolve_commit(top, base_ref)
    if base is None:
        raise InputError.single(str(top), _unknown_ref_message(top, base_ref))
    merge_base = _find_merge_base(top, base_ref, base)
    changes = _merge_untracked(_diff_changes(top, merge_base), _untracked_paths(top))
    return ChangeSet(top, base_ref, merge_base, head, tuple(sorted(changes.values(), key=lambda c: c.path)))


def _find_toplevel(folder: Path) -> Path:
    if not folder.is_dir():
        raise InputError.single(str(folder), "folder not found; expected a folder inside a git repository")
    result = run_git(folder, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise InputError.single(str(folder), "not inside a git repository; routegate check compares git branches")
    return Path(os.fsdecode(result.stdout).strip()).resolve()


def _resolve_commit(top: Path, ref: str) -> str | None:
    result = run_git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return result.stdout.decode("ascii").strip() if result.returncode == 0 else None


def _unknown_ref_message(top: Path, ref: str) -> str:
    remote, branch = _remote_and_branch(top, ref)
    if remote is None:
        fetch = f"if it is a branch of the remote, fetch it: git fetch origin {branch} (then name it origin/{branch})"
    else:
        fetch = f"fetch it first: git fetch {remote} {branch}"
    message = f"unknown git ref {ref!r} (base ref); {fetch}"
    return f"{message}; {SHALLOW_HINT}" if _is_shallow(top) else message


def _remote_and_branch(top: Path, ref: str) -> tuple[str | None, str]:
    """``upstream/main`` -> (``upstream``, ``main``) when ``upstream`` is a remote (``origin`` always is);
    ``main`` -> (None, ``main``)."""
    name = ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
    first, sep, rest = name.partition("/")
    remotes = run_git(top, "remote").stdout.decode("utf-8", "replace").split()
    if sep and rest and (first in remotes or first == "origin"):
        return first, rest
    return None, name


def _is_shallow(top: Path) -> bool:
    return run_git(top, "rev-parse", "--is-shallow-repository").stdout.strip() == b"true"


def _find_merge_base(top: Path, base_ref: str, base: str) -> str:
    result = run_git(top, "merge-base", base, "HEAD")
    if result.returncode == 0:
        return result.stdout.decode("ascii").strip()
    if _is_shallow(top):
        message = f"cannot find the merge base of {base_ref!r} and HEAD; {SHALLOW_HINT}"
    elif result.returncode == 1 and not result.stderr.strip():
        message = f"{base_ref!r} and HEAD have no common ancestor; compare against the branch this one started from"
    else:
        message = f"git merge-base {base_ref} HEAD failed: {_stderr(result)}"
    raise InputError.single(str(top), message)


def _diff_changes(top: Path, merge_base: str) -> dict[str, Change]:
    """Tracked files that differ between ``merge_base`` and the working tree, by path."""
    # diff.autoRefreshIndex (git's default, set here over any user's setting) leaves out the files whose
    # timestamps changed but whose content did not. ``merge_base`` is a sha, never an option.
    result = run_git(
        top, "-c", "diff.autoRefreshIndex=true", "diff", "--name-status", "-z", "-M", "--no-color", merge_base
    )
    if result.returncode != 0:
        raise InputError.single(str(top), f"git diff against the merge base failed: {_stderr(result)}")
    fields = result.stdout.split(b"\0")
    changes: dict[str, Change] = {}
    index = 0
    while index < len(fields) and fields[index]:
        letter = fields[index].decode("ascii")[:1]
        if letter in "RC":  # R100\0old\0new\0 (C: a copy, the new file counts as added)
            old, new = os.fsdecode(fields[index + 1]), os.fsdecode(fields[index + 2])
            index += 3
            changes[new] = Change("renamed", new, old) if letter == "R" else Change("added", new)
        else:
            path = os.fsdecode(fields[index + 1])
            index += 2
            changes[path] = Change(_STATUS.get(letter, "modified"), path)
    return changes


def _untracked_paths(top: Path) -> list[str]:
    """Files in the working tree that git does not track and no ignore rule covers."""
    result = run_git(top, "ls-files", "--others", "--exclude-standard", "-z")
    if result.returncode != 0:
        raise InputError.single(str(top), f"git ls-files failed: {_stderr(result)}")
    # A nested repository is listed as its folder, with a trailing slash.
    return [os.fsdecode(name).rstrip("/") for name in result.stdout.split(b"\0") if name]


def _merge_untracked(changes: dict[str, Change], untracked: list[str]) -> dict[str, Change]:
    """``changes`` plus each untracked file as added; a file deleted from git but still on disk is modified."""
    merged = dict(changes)
    for path in untracked:
        known = merged.get(path)
        deleted = known is not None and known.status == "deleted"
        merged[path] = Change("modified" if deleted else "added", path)
    return merged


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8", "replace").strip() or f"exit code {result.returncode}"


def run_git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` in ``folder`` (no shell); git missing or hanging is an ``InputError``."""
    try:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, check=False, timeout=GIT_TIMEOUT_SECONDS)
    except FileNotFoundError:
        raise InputError.single("git", "git is not installed (not found on PATH); routegate check needs it") from None
    except subprocess.TimeoutExpired:
        raise InputError.single("git", f"git {args[0]} did not answer within {GIT_TIMEOUT_SECONDS} s") from None
