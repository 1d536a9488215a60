"""The ``routegate`` console script (``cli.entry``): exit codes, flushed output, no teardown."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import routegate.cli as cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("code", "expected"), [(None, 0), (0, 0), (1, 1), (2, 2), (256, 0), (257, 1), ("a message", 1)]
)
def test_exit_code_is_the_one_sys_exit_gives(code: object, expected: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli._exit_code(code) == expected
    assert capsys.readouterr().err == ("a message\n" if isinstance(code, str) else "")


class _Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _capture_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_exit(code: int) -> None:
        raise _Exited(code)

    monkeypatch.setattr(os, "_exit", fake_exit)


@pytest.mark.parametrize(("raised", "expected"), [(None, 0), (SystemExit(1), 1), (SystemExit(2), 2)])
def test_entry_exits_with_the_commands_code(
    raised: SystemExit | None, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def command() -> None:
        print("done")
        if raised is not None:
            raise raised

    monkeypatch.setattr(cli, "main", command)
    _capture_exit(monkeypatch)
    with pytest.raises(_Exited) as exited:
        cli.entry()
    assert exited.value.code == expected


def test_entry_lets_an_unexpected_error_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug keeps its traceback and the normal interpreter exit: only SystemExit takes the fast exit."""

    def command() -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(cli, "main", command)
    _capture_exit(monkeypatch)
    with pytest.raises(RuntimeError, match="bug"):
        cli.entry()


def test_the_console_script_is_entry() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "routegate"]
    assert script.value == "routegate.cli:entry"


def test_piped_output_is_complete_and_the_code_kept() -> None:
    """Through a pipe (block-buffered stdout), every line reaches the reader before the fast exit."""
    run = [sys.executable, "-c", "from routegate.cli import entry; entry()"]
    policies = sorted((ROOT / "policies").glob("*.yaml"))
    done = subprocess.run([*run, "validate", *map(str, policies)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [line for line in done.stdout.splitlines() if line.startswith("ok  ")]
    assert len(done.stdout.splitlines()) == len(policies)
    bad = subprocess.run([*run, "nosuch"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "No such command 'nosuch'" in bad.stderr
    missing = subprocess.run([*run, "validate", str(ROOT / "nope.yaml")], capture_output=True, text=True, check=False)
    assert missing.returncode == 2
    assert "nope.yaml:0:0: -: no such file or folder" in missing.stderr
    assert "Traceback" not in missing.stderr
