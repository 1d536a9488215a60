"""What a branch changed in a suite: its version and sha256 at the merge base and in the working tree.

``routegate check`` states this beside every policy gated because one of its suites changed, so the
reader knows the two sides were replayed over the new recordings (docs/ci.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from routegate.errors import InputError
from routegate.load.manifest import SUITE_FILE, SuiteManifest
from routegate.load.schema import validate_document
from routegate.load.suite import Suite, combined_sha256
from routegate.load.yamlsource import parse_yaml
from routegate.project.changes import run_git


@dataclass(frozen=True)
class SuiteChange:
    """One suite as it was at the merge base and as it is now."""

    suite: str
    """The suite folder, relative to the repository root."""
    old_version: str | None
    """Its version at the merge base; ``None`` when it did not exist there."""
    old_sha256: str | None
    """Its sha256 at the merge base (the same hash ``load_suite`` gives); ``None`` when it did not exist."""
    new_version: str
    """Its version now."""
    new_sha256: str
    """Its sha256 now."""

    def describe(self) -> str:
        """``name 1.0.0 (sha256 abc1234) -> 1.1.0 (sha256 def5678)``, or ``new`` for the old side."""
        old = f"{self.old_version} (sha256 {self.old_sha256[:7]})" if self.old_sha256 and self.old_version else "new"
        return f"{self.suite}: {old} -> {self.new_version} (sha256 {self.new_sha256[:7]})"


def _blob(repo: Path, commit: str, path: PurePosixPath) -> bytes | None:
    """The file at ``path`` in ``commit``, or ``None`` when it is not there."""
    done = run_git(repo, "cat-file", "blob", f"{commit}:{path}")
    return done.stdout if done.returncode == 0 else None


def suite_change(repo: Path, commit: str, folder: str, now: Suite) -> SuiteChange:
    """``folder``'s suite at ``commit`` (read from git, not checked out) against ``now``, its loaded state."""
    base = PurePosixPath(folder)
    text = _blob(repo, commit, base / SUITE_FILE)
    old_version = old_sha = None
    if text is not None:
        try:
            manifest = validate_document(SuiteManifest, parse_yaml(text.decode("utf-8"), f"git:{commit}:{base}"))
        except (InputError, UnicodeDecodeError):
            manifest = None
        if manifest is not None:
            files = {"examples": manifest.examples, "recordings": manifest.recordings}
            blobs = {k: _blob(repo, commit, base / v) for k, v in files.items()}
            if all(b is not None for b in blobs.values()):
                old_version = manifest.version
                old_sha = combined_sha256(manifest, {k: hashlib.sha256(b or b"").hexdigest() for k, b in blobs.items()})
    return SuiteChange(folder, old_version, old_sha, now.version, now.sha256)
