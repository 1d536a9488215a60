"""Live runs and `routegate record` against a real local server process (routegate.providers.fakeserver):
replay equals the live run, kill -9 mid-recording then resume, canary keys never written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import example_row, routegate_exe, write_catalog, write_policy, write_suite
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import RunOptions, run_policy
from routegate.providers.live import LiveFactory
from routegate.providers.record import JOURNAL, SCHEMA, merge

CANARY = "sk-canary-RG-d41d8cd98f00b204"


def start_server(*args: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "routegate.providers.fakeserver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("PORT "), line
    return proc, int(line.split()[1])


@pytest.fixture
def server() -> Iterator[int]:
    proc, port = start_server("--api-key", CANARY)
    yield port
    stop_server(proc)


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def live_project(tmp: Path, port: int, n: int = 12) -> tuple[Path, Path]:
    providers = {
        "openai": {"api": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": "RG_CANARY_KEY"},
        "anthropic": {"api": "anthropic", "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": "RG_CANARY_KEY"},
        "local": {"api": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "api_key_env": "RG_CANARY_KEY"},
    }
    write_catalog(tmp, providers=providers)
    policy = write_policy(tmp, rules=[], escalation={"steps": []})
    examples = [example_row(i, reference=str(len(f"question number {i}") % 97), task_type="math") for i in range(n)]
    suite = write_suite(tmp / "suite", examples, [], scoring={"scorer": "numeric"})
    pq.write_table(SCHEMA.empty_table(), suite / "recordings.parquet")
    return policy, suite


def test_live_run_replays_to_the_same_numbers(tmp_path: Path, server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RG_CANARY_KEY", CANARY)
    policy_path, suite_path = live_project(tmp_path, server)
    policy, suite = load_policy(str(policy_path)), load_suite(suite_path)
    with LiveFactory() as factory:
        live = run_policy(policy, [suite], RunOptions(provider=factory, on_missing="skip"))
        rows = [
            {**_row(suite.examples.column("id")[i].as_py(), p.models[j], o)}
            for p in factory.providers
            for (i, j), o in p.outcomes.items()
        ]
    assert live.summary.metrics["overall"]["quality"]["mean"] == 1.0  # the server answers the reference
    pq.write_table(merge(suite.whole("recordings"), rows), suite_path / "recordings.parquet")
    replayed = run_policy(policy, [load_suite(suite_path)], RunOptions(on_missing="skip"))  # gpt-big was never asked
    for col in ("final_model", "input_tokens", "output_tokens", "cost_usd", "latency_ms", "quality", "error"):
        assert replayed.traces.column(col).to_pylist() == live.traces.column(col).to_pylist(), col
    assert replayed.summary.metrics == live.summary.metrics


def _row(example_id: str, model: str, out: object) -> dict[str, object]:
    from routegate.providers.record import outcome_row

    return outcome_row(example_id, model, out)  # type: ignore[arg-type]


def test_record_kill_and_resume_gives_a_valid_suite_without_duplicates(tmp_path: Path) -> None:
    proc, port = start_server("--delay-ms", "100", "--api-key", CANARY)
    try:
        _, suite_path = live_project(tmp_path, port, n=60)
        env = {**os.environ, "RG_CANARY_KEY": CANARY}
        args = [routegate_exe(), "record", "--suite", str(suite_path), "--models", "gpt-small,claude-mid"]
        args += ["--batch-size", "16"]
        args += ["--catalog", str(tmp_path / "models.yaml")]
        # 8 batches of 16 calls of 100 ms each: the kill lands after the first batch is journaled
        child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        journal = suite_path / JOURNAL
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (journal.exists() and journal.stat().st_size > 0):
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=10)
        assert journal.exists()
        done_before = len(journal.read_text().splitlines())
        assert 0 < done_before < 120
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0, again.stderr
        assert f"{done_before} resumed" in again.stdout
        assert not journal.exists()
        suite = load_suite(suite_path)
        pairs = list(
            zip(
                suite.recordings.column("example_id").to_pylist(),
                suite.recordings.column("model").to_pylist(),
                strict=True,
            )
        )
        assert len(pairs) == len(set(pairs)) == 120
        assert set(suite.recordings.column("error").to_pylist()) == {""}
        # --only-missing with everything recorded makes no call
        third = subprocess.run(
            [*args, "--only-missing"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert third.returncode == 0
        assert third.stdout.startswith("recorded 0 calls")
        for text in (again.stdout, again.stderr, third.stdout, third.stderr):
            assert CANARY not in text
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert CANARY.encode() not in path.read_bytes(), path
    finally:
        stop_server(proc)


def _live_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI with ``--providers live`` in ``env``; never raises on a non-zero exit."""
    command = [routegate_exe(), args[0], "--providers", "live", *args[1:]]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_cli_live_run_and_gate_never_write_the_key(tmp_path: Path, server: int) -> None:
    policy, suite = live_project(tmp_path, server)
    env = {**os.environ, "RG_CANARY_KEY": CANARY}
    out = tmp_path / "out"
    run_args = ("run", "--policy", str(policy), "--suite", str(suite), "--out")
    run = _live_cli(env, *run_args, str(out / "run"))
    assert run.returncode == 0, run.stderr
    assert "quality 100.0%" in run.stdout
    summary = json.loads((out / "run" / "summary.json").read_text())
    assert summary["missing_recordings"] is None  # a live run uses no recordings
    assert "live providers (no recordings used)" in (out / "run" / "summary.md").read_text()
    gate = _live_cli(
        env,
        "gate",
        "--baseline",
        str(policy),
        "--candidate",
        str(policy),
        "--suite",
        str(suite),
        "--out",
        str(out / "gate"),
    )
    assert gate.returncode in (0, 1), gate.stderr
    # a wrong key: the server answers 401, every call fails as client_error; the key is still nowhere
    bad = _live_cli({**env, "RG_CANARY_KEY": CANARY + "-wrong"}, *run_args, str(out / "bad"))
    assert bad.returncode == 0
    assert "errors 100.00%" in bad.stdout
    unset = _live_cli({k: v for k, v in env.items() if k != "RG_CANARY_KEY"}, *run_args, str(out / "unset"))
    assert unset.returncode == 2
    assert "RG_CANARY_KEY" in unset.stderr
    for proc in (run, gate, bad, unset):
        assert CANARY not in proc.stdout + proc.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "summary.json" for p in written)
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), path
