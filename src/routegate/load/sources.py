"""Where input files come from: the working tree, or a git ref (``git:REF:path``).

A PR check takes its baseline policy from the base branch with
``--baseline git:origin/main:policies/assistant.yaml``: no copy, no checkout.
Both kinds of source answer the same three questions (read this file, does
that sibling exist, what is its name for error messages), so loaders never
care which one they hold.

Paths named *inside* a config (a policy's catalog, a suite's data files) are
resolved by :func:`resolve_inside`, which refuses anything that would leave
the folder the config was read from.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from routegate.errors import InputError

GIT_PREFIX = "git:"


@dataclass(frozen=True)
class Source:
    """A readable file: ``ref is None`` for the working tree, else a git object ``ref:path``."""

    path: PurePosixPath
    """For the working tree: the path as given (absolute or relative to cwd).
    For git: the path relative to the repository root."""
    ref: str | None = None
    repo: Path | None = None
    """Top level of the git repository (git sources only)."""

    @property
    def display(self) -> str:
        return f"git:{self.ref}:{self.path}" if self.ref is not None else str(self.path)

    def read_bytes(self) -> bytes:
        if self.ref is None:
            try:
                return Path(self.path).read_bytes()
            except FileNotFoundError:
                raise InputError.single(self.display, "file not found") from None
            except IsADirectoryError:
                raise InputError.single(self.display, "is a folder; expected a file") from None
            except OSError as exc:
                raise InputError.single(self.display, f"cannot read: {exc.strerror}") from None
        result = _git(self.repo, "cat-file", "blob", f"{self.ref}:{self.path}")
        if result.returncode != 0:
            raise InputError.single(self.display, f"not found at git ref {self.ref!r}")
        return result.stdout

    def read_text(self) -> str:
        data = self.read_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError.single(self.display, f"not valid UTF-8 (byte {exc.start})") from None

    def exists(self) -> bool:
        if self.ref is None:
            return Path(self.path).is_file()
        return _git(self.repo, "cat-file", "-e", f"{self.ref}:{self.path}").returncode == 0

    def sibling(self, name: str) -> Source:
        return Source(self.path.parent / name, self.ref, self.repo)

    def find_upward(self, name: str) -> Source | None:
        """``name`` in this file's folder or the nearest ancestor folder that has it.

        In the working tree the search stops at the git top level (or the
        filesystem root outside a repository); in a git ref, at the ref's root.
        """
        if self.ref is not None:
            folder = self.path.parent
            while True:
                candidate = Source(folder / name, self.ref, self.repo)
                if candidate.exists():
                    return candidate
                if folder == PurePosixPath(".") or folder == folder.parent:
                    return None
                folder = folder.parent
        here = Path(self.path).resolve().parent
        stop = _toplevel(here)
        for place in [here, *here.parents]:
            found = place / name
            if found.is_file():
                return Source(PurePosixPath(_relative_display(found)))
            if stop is not None and place == stop:
                return None
        return None


def _relative_display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _git(repo: Path | None, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise InputError.single("git", "git is not installed; needed for git:REF:path sources") from None


def _toplevel(folder: Path) -> Path | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=folder, capture_output=True, text=True, check=False
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Path(result.stdout.strip()).resolve() if result.returncode == 0 else None


def parse_source(spec: str) -> Source:
    """``path`` or ``git:REF:path`` -> Source. Git paths are taken relative to the cwd."""
    if not spec.startswith(GIT_PREFIX):
        return Source(PurePosixPath(spec))
    rest = spec[len(GIT_PREFIX) :]
    ref, sep, path = rest.rpartition(":")
    if not sep or not ref or not path:
        raise InputError.single(spec, "expected git:REF:path, e.g. git:origin/main:policies/assistant.yaml")
    repo = _toplevel(Path.cwd())
    if repo is None:
        raise InputError.single(spec, "git:REF:path needs the current folder to be inside a git repository")
    absolute = (Path.cwd() / path).resolve()
    try:
        relative = absolute.relative_to(repo)
    except ValueError:
        raise InputError.single(spec, f"path is outside the repository {repo}") from None
    if _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise InputError.single(spec, f"unknown git ref {ref!r}")
    return Source(PurePosixPath(relative.as_posix()), ref, repo)


def resolve_inside(folder: Path, name: str, *, file: str, field: str, line: int = 0, col: int = 0) -> Path:
    """``folder / name``, refusing absolute paths and anything that escapes ``folder``."""
    candidate = PurePosixPath(name)
    if candidate.is_absolute() or ".." in candidate.parts or "\\" in name:
        raise InputError.single(file, f"path {name!r} must be relative and stay inside {folder}", field, line, col)
    resolved = (folder / candidate).resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise InputError.single(file, f"path {name!r} leaves the folder {folder} (via a link)", field, line, col)
    return resolved
