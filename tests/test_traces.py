"""The traces table's derived columns, checked against a plain per-call reading of the attempts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from routegate.engine.run import SuiteRun, replay_suite
from routegate.engine.traces import for_file, models_tried, write_traces
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import RunOptions, run_policy


@pytest.fixture(scope="module", params=["policy.yaml", "candidate.yaml"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    folder: Path = write_synthetic_suite(tmp_path_factory.mktemp("traces") / "s", 2500, seed=13)
    return replay_suite(load_policy(str(folder / request.param)), load_suite(folder))


def test_models_tried_lists_each_requests_calls_in_call_order(run: SuiteRun) -> None:
    attempts = run.replay.attempts.to_pylist()
    assert max(a["attempt"] for a in attempts) >= 2  # escalations and fallbacks are exercised
    expected: list[list[str]] = [[] for _ in range(run.traces.num_rows)]
    for a in sorted(attempts, key=lambda a: (a["request"], a["start_ms"], a["attempt"])):
        expected[a["request"]].append(a["model"])
    assert models_tried(run.replay).to_pylist() == expected
    assert run.traces.column("models_tried").to_pylist() == expected
    assert run.traces.column("attempts").to_pylist() == [len(e) for e in expected]


def test_final_model_is_the_answering_call_or_null(run: SuiteRun) -> None:
    attempts = run.replay.attempts.column("model").to_pylist()
    final = run.replay.final_attempt
    names = run.traces.column("final_model").to_pylist()
    failed = run.traces.column("error").to_numpy(zero_copy_only=False)
    assert failed.any()
    assert not failed.all()
    for i, name in enumerate(names):
        assert name == (attempts[final[i]] if final[i] >= 0 else None)
    assert np.array_equal(np.array([n is None for n in names]), failed)
    # In memory the name columns are dictionary-encoded; traces.parquet holds the plain types.
    assert pa.types.is_dictionary(run.traces.schema.field("final_model").type)
    plain = for_file(run.traces)
    assert str(plain.schema.field("final_model").type) == "string"
    assert str(plain.schema.field("models_tried").type) == "list<item: string>"
    for name in ("suite", "initial_tier", "final_tier", "error_kind"):
        assert str(plain.schema.field(name).type) == "string"
        assert plain.column(name).to_pylist() == run.traces.column(name).to_pylist()
    assert plain.column("final_model").to_pylist() == names
    assert plain.column("models_tried").to_pylist() == run.traces.column("models_tried").to_pylist()
    assert not any(pa.types.is_dictionary(f.type) for f in plain.schema)


def test_traces_file_reads_back_as_the_plain_table(run: SuiteRun, tmp_path: Path) -> None:
    """traces.parquet is written from the dictionary-encoded columns; any reader gets the plain
    documented types (pyarrow included: no stored Arrow schema turns them back into dictionaries)."""
    path = tmp_path / "traces.parquet"
    write_traces(path, run.traces)
    back = pq.read_table(path)
    plain = for_file(run.traces)
    assert back.schema == plain.schema
    assert back.equals(plain)
    assert b"ARROW:schema" not in (pq.ParquetFile(path).schema_arrow.metadata or {})


def test_traces_of_several_suites_write_as_one_plain_table(tmp_path: Path) -> None:
    """Each suite's traces carry their own dictionaries (the ``suite`` column's differ): the joined
    table still writes, and reads back as the plain joined table."""
    root = Path(__file__).resolve().parents[1]
    suites = [load_suite(root / "eval_suites" / name) for name in ("routellm-mtbench", "alpacaeval")]
    result = run_policy(load_policy(str(root / "policies" / "assistant.yaml")), suites, RunOptions(on_missing="skip"))
    assert result.traces.column("suite").num_chunks == 2
    path = tmp_path / "traces.parquet"
    write_traces(path, result.traces)
    back = pq.read_table(path)
    assert back.equals(for_file(result.traces))
    assert back.column("suite").to_pylist() == ["routellm-mtbench"] * 160 + ["alpacaeval"] * 805


def test_a_recorded_quality_scorer_is_handed_the_column_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``passes_recorded_quality`` (judge), the engine takes the recorded quality as the scores
    itself: the same floats, failures at 0 and unrecorded quality NaN, as scoring through Arrow gives;
    so do the per-model outcomes of the literature metrics and the frontier."""
    from routegate.engine.traces import score_final_answers
    from routegate.scoring.judge import JudgeScorer
    from routegate.stats.outcomes import model_outcomes

    folder: Path = write_synthetic_suite(tmp_path / "s", 3000, seed=5)
    recordings = pq.read_table(folder / "recordings.parquet")
    quality = recordings.column("quality").to_numpy()
    unrecorded = np.random.default_rng(5).random(quality.size) < 0.1
    column = pa.array(quality, pa.float64(), mask=unrecorded | np.isnan(quality))
    pq.write_table(
        recordings.set_column(recordings.column_names.index("quality"), "quality", column),
        folder / "recordings.parquet",
    )
    policy = load_policy(str(folder / "policy.yaml"))
    run = replay_suite(policy, load_suite(folder))
    direct = score_final_answers(run.suite, run.replay)
    outcomes = model_outcomes(load_suite(folder), policy.catalog)
    assert np.isnan(direct).any()
    assert run.replay.failed.any()
    assert (direct[run.replay.failed] == 0).all()
    monkeypatch.setattr(JudgeScorer, "passes_recorded_quality", False)
    assert score_final_answers(run.suite, run.replay).tobytes() == direct.tobytes()
    through_arrow = model_outcomes(load_suite(folder), policy.catalog)  # a fresh suite: nothing memoised
    assert np.isnan(outcomes.quality).any()
    assert through_arrow.quality.tobytes() == outcomes.quality.tobytes()
