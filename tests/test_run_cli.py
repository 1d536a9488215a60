"""`routegate run` end to end: real parquet on disk, the real CLI in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from routegate.importers.synthetic import write_synthetic_suite

ROUTEGATE = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")


def routegate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROUTEGATE, *args], capture_output=True, text=True, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_suite(tmp_path_factory.mktemp("synthetic"), 3000, seed=11)


def test_run_writes_traces_and_summaries(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = routegate("run", "--policy", str(suite / "policy.yaml"), "--suite", str(suite), "--out", str(out))
    assert result.returncode == 0, result.stderr
    traces = pq.read_table(out / "traces.parquet")
    assert traces.num_rows == 3000
    for column in (
        "suite",
        "example_id",
        "task_type",
        "initial_tier",
        "final_tier",
        "final_model",
        "models_tried",
        "attempts",
        "fell_back",
        "escalated",
        "error",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_ms",
        "quality",
        "privacy_breach",
    ):
        assert column in traces.column_names
    for column in ("suite", "initial_tier", "final_tier", "final_model", "error_kind"):  # plain strings on disk
        assert traces.schema.field(column).type == pa.string(), column
    assert traces.schema.field("models_tried").type == pa.list_(pa.string())
    summary = json.loads((out / "summary.json").read_text())
    overall = summary["metrics"]["overall"]
    assert overall["n"] == 3000
    assert overall["cost_usd"] == pytest.approx(pc.sum(traces.column("cost_usd")).as_py(), rel=1e-9)
    assert overall["privacy_breaches"] == 0  # the bench policy keeps PII on the private tier
    assert sum(overall["tier_mix"].values()) == pytest.approx(1 - overall["error_rate"])
    assert summary["policy"]["sha256"]
    assert summary["suites"][0]["sha256"]
    assert summary["seed"] == 20240101
    md = (out / "summary.md").read_text()
    assert "## By task\\_type" in md
    assert summary["policy"]["sha256"] in md


def test_same_inputs_give_identical_bytes(suite: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = routegate(
            "run", "--policy", str(suite / "policy.yaml"), "--suite", str(suite), "--out", str(tmp_path / name)
        )
        assert result.returncode == 0, result.stderr
    for file in ("summary.json", "summary.md"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_seed_is_explicit_and_reported(suite: Path, tmp_path: Path) -> None:
    result = routegate(
        "run", "--policy", str(suite / "policy.yaml"), "--suite", str(suite), "--out", str(tmp_path), "--seed", "5"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["seed"] == 5


def _drop_recordings(suite: Path, target: Path, model: str, count: int) -> tuple[Path, list[str]]:
    """Copy the suite, dropping the first ``count`` recordings of ``model``; return the dropped example ids."""
    shutil.copytree(suite, target)
    rec = pq.read_table(target / "recordings.parquet")
    is_model = pc.equal(rec.column("model"), model).to_numpy(zero_copy_only=False)
    drop = is_model & (pa.array(range(rec.num_rows)).to_numpy() < (is_model.argmax() + count))
    pq.write_table(rec.filter(pa.array(~drop)), target / "recordings.parquet")
    return target, rec.filter(pa.array(drop)).column("example_id").to_pylist()


def test_missing_recordings_stop_before_any_work(suite: Path, tmp_path: Path) -> None:
    broken, dropped = _drop_recordings(suite, tmp_path / "suite", "synth-fast", 25)
    # Only requests that start on the fast tier can ever call synth-fast (no step escalates into fast).
    full = routegate(
        "run", "--policy", str(suite / "policy.yaml"), "--suite", str(suite), "--out", str(tmp_path / "full")
    )
    assert full.returncode == 0, full.stderr
    traces = pq.read_table(tmp_path / "full" / "traces.parquet").to_pandas().set_index("example_id")
    needed = [e for e in dropped if traces.loc[e, "initial_tier"] == "fast"]
    assert 10 < len(needed) < 25
    out = tmp_path / "out"
    result = routegate("run", "--policy", str(broken / "policy.yaml"), "--suite", str(broken), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{len(needed)} (model, example) pairs" in result.stderr
    assert result.stderr.count("(synth-fast, r") == 10
    assert "--on-missing skip" in result.stderr
    assert not out.exists()


def test_on_missing_skip_counts_the_calls_as_failed(suite: Path, tmp_path: Path) -> None:
    broken, _ = _drop_recordings(suite, tmp_path / "suite", "synth-fast", 25)
    out = tmp_path / "out"
    result = routegate(
        "run",
        "--policy",
        str(broken / "policy.yaml"),
        "--suite",
        str(broken),
        "--out",
        str(out),
        "--on-missing",
        "skip",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert 10 < summary["missing_recordings"]["total"] < 25
    # every request that starts on the fast tier calls synth-fast first: each missing pair is one skipped call
    assert summary["skipped_calls"] == summary["missing_recordings"]["total"]


def test_bad_input_exits_2_without_traceback(tmp_path: Path, suite: Path) -> None:
    result = routegate(
        "run", "--policy", str(tmp_path / "nope.yaml"), "--suite", str(suite), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2
    assert "nope.yaml:0:0: -: file not found" in result.stderr
    assert "Traceback" not in result.stderr
    result = routegate(
        "run", "--policy", str(suite / "policy.yaml"), "--suite", str(tmp_path), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 2
    assert "suite.yaml" in result.stderr


def test_an_unwritable_output_folder_is_bad_input_not_a_traceback(suite: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = routegate(
        "run", "--policy", str(suite / "policy.yaml"), "--suite", str(suite), "--out", str(blocker / "out")
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot write" in result.stderr
