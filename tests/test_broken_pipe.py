"""A reader that closes the pipe early (``routegate explain P | head -3``) ends the command quietly."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import routegate_exe

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "policies/assistant.yaml"],
        ["coverage", "policies/assistant.yaml", "eval_suites/routellm-mtbench"],
    ],
)
def test_a_closed_stdout_ends_quietly_with_128_plus_sigpipe(args: list[str]) -> None:
    child = subprocess.Popen([routegate_exe(), *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stderr is not None
    child.stdout.close()  # the reader is gone before the first line is written
    with child.stderr:
        err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141, err
    assert err == ""  # no "-:0:0: cannot write: Broken pipe", no traceback
