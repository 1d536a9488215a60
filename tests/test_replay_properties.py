"""Properties of the engine that must hold for any suite (Hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routegate.engine.chains import policy_models
from routegate.engine.replay import replay
from routegate.providers.base import calls_are_independent
from routegate.providers.recorded import RecordedProvider
from test_replay import CATALOG, examples, policy, recordings, run

MODELS = ("cheap", "backup", "big")
KINDS = ("", "", "", "timeout", "rate_limit", "server_error", "refusal")


@st.composite
def suites(draw: st.DrawFn) -> tuple[pa.Table, pa.Table]:
    n = draw(st.integers(1, 40))
    ex_rows = [
        {"stakes": draw(st.sampled_from(["low", "normal", "high"])), "task_type": draw(st.sampled_from(["qa", "math"]))}
        for _ in range(n)
    ]
    rec_rows: list[dict[str, Any]] = []
    for i in range(n):
        for model in MODELS:
            rec_rows.append(
                {
                    "example_id": f"e{i}",
                    "model": model,
                    "error": draw(st.sampled_from(KINDS)),
                    "input_tokens": draw(st.integers(0, 5000)),
                    "output_tokens": draw(st.integers(0, 2000)),
                    "latency_ms": draw(st.floats(0, 20000, allow_nan=False)),
                    "confidence": draw(st.one_of(st.none(), st.floats(0, 1))),
                    "quality": draw(st.floats(0, 1)),
                }
            )
    return examples(ex_rows), recordings(rec_rows)


def single(model: str) -> Any:
    return policy(tiers={"only": {"models": [model]}}, rules=[], default_tier="only")


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(suites(), st.sampled_from(MODELS))
def test_single_model_policy_reproduces_the_models_recordings(suite: tuple[pa.Table, pa.Table], model: str) -> None:
    ex, rec = suite
    result = run(single(model), ex, rec)
    mine = rec.filter(pa.compute.equal(rec.column("model"), model))
    price = CATALOG.models[model].price
    expected_cost = (
        np.sum(mine.column("input_tokens").to_numpy()) * price.input_per_1m
        + np.sum(mine.column("output_tokens").to_numpy()) * price.output_per_1m
    ) / 1e6
    assert np.isclose(result.cost_usd.sum(), expected_cost, rtol=1e-12, atol=1e-15)
    ok = np.array([e == "" for e in mine.column("error").to_pylist()])
    quality = np.where(ok, mine.column("quality").to_numpy(), 0.0)
    replayed = np.where(result.failed, 0.0, result.final_recorded_quality())
    assert np.array_equal(replayed, quality)
    assert np.array_equal(result.latency_ms, mine.column("latency_ms").to_numpy())


@settings(max_examples=60, deadline=None)
@given(suites(), st.floats(0.01, 1.0), st.sampled_from([(), ("high",)]))
def test_adding_an_escalation_never_lowers_cost(
    suite: tuple[pa.Table, pa.Table], threshold: float, stakes: tuple[str, ...]
) -> None:
    ex, rec = suite
    tiers = {"fast": {"models": ["cheap", "backup"]}, "reasoning": {"models": ["big"]}}
    without = policy(tiers=tiers, rules=[])
    with_esc = policy(
        tiers=tiers,
        rules=[],
        escalation={
            "steps": [{"from": "fast", "to": "reasoning", "below_confidence": threshold}],
            "always_for_stakes": list(stakes),
        },
    )
    a, b = run(without, ex, rec), run(with_esc, ex, rec)
    assert np.all(b.cost_usd >= a.cost_usd - 1e-15)
    assert np.all(b.latency_ms >= a.latency_ms)
    assert b.failed.sum() <= a.failed.sum()


@settings(max_examples=60, deadline=None)
@given(suites())
def test_removing_every_error_removes_every_fallback(suite: tuple[pa.Table, pa.Table]) -> None:
    ex, rec = suite
    clean = rec.set_column(rec.column_names.index("error"), "error", pa.array([""] * rec.num_rows, pa.string()))
    clean = clean.set_column(
        clean.column_names.index("response"), "response", pa.array(["answer"] * rec.num_rows, pa.string())
    )
    result = run(policy(), ex, clean)
    assert not result.fell_back.any()
    assert not result.failed.any()
    assert set(result.attempts.column("kind").to_pylist()) <= {"first"}


@settings(max_examples=60, deadline=None)
@given(suites(), st.integers(1, 45), st.floats(0.01, 1.0))
def test_replaying_in_chunks_changes_no_result(suite: tuple[pa.Table, pa.Table], chunk: int, threshold: float) -> None:
    """The recorded provider answers each call alone, so the requests may be replayed chunk by chunk
    (``chunk_rows``): every per-request result is the same and so is the set of calls; only the
    order of the attempt rows differs."""
    ex, rec = suite
    spec = policy(
        escalation={
            "steps": [{"from": "fast", "to": "reasoning", "below_confidence": threshold}],
            "always_for_stakes": ["high"],
        }
    )
    models = policy_models(spec)
    provider = RecordedProvider.from_tables(ex, rec, models)
    assert calls_are_independent(provider)
    steps: list[tuple[int, int]] = []
    whole = replay(ex, spec, CATALOG, provider, models=models)
    chunked = replay(
        ex, spec, CATALOG, provider, models=models, chunk_rows=chunk, on_step=lambda s, p: steps.append((s, p))
    )
    for name in ("final_tier", "final_model", "n_attempts", "fell_back", "escalated", "failed", "last_error",
                 "input_tokens", "output_tokens", "cost_usd", "latency_ms", "privacy_breach", "breach_attempt",
                 "confidence_missing"):  # fmt: skip
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name
    assert np.array_equal(whole.final_recorded_quality(), chunked.final_recorded_quality(), equal_nan=True)
    assert whole.final_responses().equals(chunked.final_responses())
    order = [("request", "ascending"), ("attempt", "ascending")]
    assert whole.attempts.sort_by(order).equals(chunked.attempts.sort_by(order))
    assert steps[-1][1] == 0  # the last step leaves nothing pending
    assert all(p <= ex.num_rows for _, p in steps)
