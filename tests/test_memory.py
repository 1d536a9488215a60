"""The CLI's process settings: NumPy's huge-page advice off unless the environment says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = (
    "import routegate.cli, numpy; "  # importing the CLI applies the settings, before NumPy loads
    "print(numpy._core.multiarray._get_madvise_hugepage())"
)


@pytest.mark.parametrize(("given", "expected"), [(None, "False"), ("1", "True"), ("0", "False")])
def test_cli_process_turns_off_numpy_huge_pages_unless_told(given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if given is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = given
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_library_import_changes_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    probe = "import routegate.suite, routegate.verdict, os; print(os.environ.get('NUMPY_MADVISE_HUGEPAGE'))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
