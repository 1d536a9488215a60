"""The attempt loop on small hand-computed suites: every routing path, priced and timed by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from routegate.arrow.memo import Memo
from routegate.engine.chains import policy_models
from routegate.engine.replay import replay
from routegate.engine.result import Replay
from routegate.load.catalog import Catalog
from routegate.load.policy import PolicySpec
from routegate.providers import ERROR_NAMES, RecordedProvider

CATALOG = Catalog.model_validate(
    {
        "version": "test",
        "providers": {"a": {}, "b": {}, "home": {}},
        "models": {
            # $1 / $2 per 1M tokens -> 1e-6 / 2e-6 per token
            "cheap": {
                "provider": "a",
                "privacy": "external",
                "context_window": 1000,
                "price": {"input_per_1m": 1, "output_per_1m": 2, "source": "t", "as_of": "2024-01-01"},
            },
            "backup": {
                "provider": "b",
                "privacy": "external",
                "context_window": 1000,
                "price": {"input_per_1m": 3, "output_per_1m": 4, "source": "t", "as_of": "2024-01-01"},
            },
            "big": {
                "provider": "b",
                "privacy": "external",
                "context_window": 1000,
                "price": {"input_per_1m": 10, "output_per_1m": 30, "source": "t", "as_of": "2024-01-01"},
            },
            "local": {
                "provider": "home",
                "privacy": "private",
                "context_window": 1000,
                "price": {"input_per_1m": 0, "output_per_1m": 0, "source": "t", "as_of": "2024-01-01"},
            },
        },
    }
)


def policy(**overrides: Any) -> PolicySpec:
    base: dict[str, Any] = {
        "name": "p",
        "version": "1",
        "owner": "t",
        "tiers": {
            "fast": {"models": ["cheap", "backup"]},
            "reasoning": {"models": ["big"]},
            "private": {"models": ["local"], "private": True},
        },
        "rules": [
            {"name": "pii", "when": {"pii": True}, "tier": "private"},
            {"name": "math", "when": {"task_type": ["math"]}, "tier": "reasoning"},
        ],
        "default_tier": "fast",
    }
    base.update(overrides)
    return PolicySpec.model_validate(base)


def examples(rows: list[dict[str, Any]]) -> pa.Table:
    full = [
        {"id": f"e{i}", "task_type": "qa", "pii": False, "stakes": "normal", "sla": "interactive", **r}
        for i, r in enumerate(rows)
    ]
    n = len(full)
    return pa.table(
        {
            "id": [r["id"] for r in full],
            "messages": [[{"role": "user", "content": "q"}]] * n,
            "task_type": [r["task_type"] for r in full],
            "pii": [r["pii"] for r in full],
            "stakes": [r["stakes"] for r in full],
            "sla": [r["sla"] for r in full],
            "tags": [[] for _ in full],
            "reference": [None] * n,
            "input_tokens": [10] * n,
            "arrival_ms": [float(i) for i in range(n)],
        }
    )


def recordings(rows: list[dict[str, Any]]) -> pa.Table:
    """Each row: example_id, model, and optionally error, tokens, latency, confidence, quality."""
    full = [
        {
            "response": "answer",
            "input_tokens": 100,
            "output_tokens": 10,
            "latency_ms": 50.0,
            "error": "",
            "confidence": None,
            "quality": 1.0,
            **r,
        }
        for r in rows
    ]
    return pa.table(
        {
            "example_id": pa.array([r["example_id"] for r in full], pa.string()),
            "model": pa.array([r["model"] for r in full], pa.string()),
            "response": pa.array([None if r["error"] else r["response"] for r in full], pa.string()),
            "input_tokens": pa.array([r["input_tokens"] for r in full], pa.int64()),
            "output_tokens": pa.array([r["output_tokens"] for r in full], pa.int64()),
            "latency_ms": pa.array([r["latency_ms"] for r in full], pa.float64()),
            "error": pa.array([r["error"] for r in full], pa.string()),
            "confidence": pa.array([r["confidence"] for r in full], pa.float64()),
            "quality": pa.array([r["quality"] for r in full], pa.float64()),
        }
    )


def run(spec: PolicySpec, ex: pa.Table, rec: pa.Table) -> Replay:
    models = policy_models(spec)
    return replay(ex, spec, CATALOG, RecordedProvider.from_tables(ex, rec, models), models=models)


def tried(result: Replay, i: int) -> list[str]:
    rows = result.attempts.filter(pa.compute.equal(result.attempts.column("request"), i))
    return [str(m) for m in rows.column("model").to_pylist()]


def tier_name(result: Replay, index: int) -> str:
    return result.plan.tiers[index]


def test_rules_first_match_and_default_tier() -> None:
    ex = examples([{"pii": True, "task_type": "math"}, {"task_type": "math"}, {}])
    rec = recordings(
        [{"example_id": e, "model": m} for e in ("e0", "e1", "e2") for m in ("cheap", "backup", "big", "local")]
    )
    result = run(policy(), ex, rec)
    assert [tier_name(result, t) for t in result.plan.tier] == ["private", "reasoning", "fast"]
    assert [tried(result, i) for i in range(3)] == [["local"], ["big"], ["cheap"]]
    assert result.plan.rule.tolist() == [0, 1, -1]


@pytest.mark.parametrize("kind", ["timeout", "rate_limit", "server_error"])
def test_default_fallback_kinds_move_down_the_chain(kind: str) -> None:
    ex = examples([{}])
    rec = recordings(
        [
            {
                "example_id": "e0",
                "model": "cheap",
                "error": kind,
                "input_tokens": 100,
                "output_tokens": 0,
                "latency_ms": 3000.0,
            },
            {"example_id": "e0", "model": "backup", "latency_ms": 200.0},
        ]
    )
    result = run(policy(), ex, rec)
    assert tried(result, 0) == ["cheap", "backup"]
    assert result.fell_back[0]
    assert not result.failed[0]
    assert result.models[result.final_model[0]] == "backup"
    # cost: failed call billed 100 input tokens at $1/1M; backup 100 in at $3/1M + 10 out at $4/1M
    assert result.cost_usd[0] == pytest.approx(100e-6 + 300e-6 + 40e-6)
    assert result.latency_ms[0] == pytest.approx(3200.0)
    assert result.input_tokens[0] == 200
    assert result.output_tokens[0] == 10


@pytest.mark.parametrize("kind", ["refusal", "client_error", "context_length"])
def test_error_kinds_not_listed_end_the_request(kind: str) -> None:
    ex = examples([{}])
    rec = recordings([{"example_id": "e0", "model": "cheap", "error": kind}, {"example_id": "e0", "model": "backup"}])
    result = run(policy(), ex, rec)
    assert tried(result, 0) == ["cheap"]
    assert result.failed[0]
    assert not result.fell_back[0]
    assert ERROR_NAMES[result.last_error[0]] == kind
    assert result.final_model[0] == -1


def test_refusal_falls_back_when_the_policy_says_so() -> None:
    ex = examples([{}])
    rec = recordings(
        [{"example_id": "e0", "model": "cheap", "error": "refusal"}, {"example_id": "e0", "model": "backup"}]
    )
    result = run(policy(fallback={"on": ["refusal"]}), ex, rec)
    assert tried(result, 0) == ["cheap", "backup"]
    assert not result.failed[0]


def test_chain_exhaustion_fails_the_request() -> None:
    ex = examples([{}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "cheap", "error": "server_error", "latency_ms": 10.0},
            {"example_id": "e0", "model": "backup", "error": "timeout", "latency_ms": 20.0},
        ]
    )
    result = run(policy(), ex, rec)
    assert tried(result, 0) == ["cheap", "backup"]
    assert result.failed[0]
    assert result.fell_back[0]
    assert ERROR_NAMES[result.last_error[0]] == "timeout"
    assert result.latency_ms[0] == pytest.approx(30.0)
    assert tier_name(result, result.final_tier[0]) == "fast"


ESCALATE = {
    "steps": [{"from": "fast", "to": "reasoning", "below_confidence": 0.6}],
    "always_for_stakes": ["high"],
    "max_escalations": 1,
}


def test_escalation_by_confidence_and_by_stakes() -> None:
    ex = examples([{}, {}, {"stakes": "high"}, {}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "cheap", "confidence": 0.3},  # low: escalates
            {"example_id": "e1", "model": "cheap", "confidence": 0.9},  # confident: stays
            {"example_id": "e2", "model": "cheap", "confidence": 0.99},  # high stakes: escalates anyway
            {"example_id": "e3", "model": "cheap", "confidence": None},  # unknown: stays, flagged
            *({"example_id": e, "model": "big", "quality": 0.5} for e in ("e0", "e1", "e2", "e3")),
        ]
    )
    result = run(policy(escalation=ESCALATE), ex, rec)
    assert [tried(result, i) for i in range(4)] == [["cheap", "big"], ["cheap"], ["cheap", "big"], ["cheap"]]
    assert result.escalated.tolist() == [True, False, True, False]
    assert result.confidence_missing.tolist() == [False, False, False, True]
    assert [tier_name(result, t) for t in result.final_tier] == ["reasoning", "fast", "reasoning", "fast"]
    assert result.final_recorded_quality().tolist() == [0.5, 1.0, 0.5, 1.0]
    kinds = result.attempts.column("kind").to_pylist()
    assert kinds.count("escalation") == 2


def test_escalation_bound() -> None:
    spec = policy(
        tiers={
            "fast": {"models": ["cheap"]},
            "balanced": {"models": ["backup"]},
            "reasoning": {"models": ["big"]},
        },
        rules=[],
        escalation={
            "steps": [
                {"from": "fast", "to": "balanced", "below_confidence": 0.5},
                {"from": "balanced", "to": "reasoning", "below_confidence": 0.5},
            ],
            "max_escalations": 1,
        },
    )
    ex = examples([{}])
    rec = recordings([{"example_id": "e0", "model": m, "confidence": 0.1} for m in ("cheap", "backup", "big")])
    assert tried(run(spec, ex, rec), 0) == ["cheap", "backup"]
    two = spec.model_copy(update={"escalation": spec.escalation.model_copy(update={"max_escalations": 2})})
    assert tried(run(two, ex, rec), 0) == ["cheap", "backup", "big"]


def test_failed_escalation_keeps_the_cheaper_answer() -> None:
    ex = examples([{}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "cheap", "confidence": 0.1, "quality": 0.7},
            {"example_id": "e0", "model": "big", "error": "server_error"},
        ]
    )
    result = run(policy(escalation=ESCALATE), ex, rec)
    assert tried(result, 0) == ["cheap", "big"]
    assert not result.failed[0]
    assert result.escalated[0]
    assert result.models[result.final_model[0]] == "cheap"
    assert tier_name(result, result.final_tier[0]) == "fast"
    assert result.final_recorded_quality()[0] == 0.7


def test_privacy_breach_when_a_pii_request_falls_back_to_an_external_model() -> None:
    spec = policy(
        tiers={"fast": {"models": ["cheap"]}, "private": {"models": ["local", "big"]}},
        rules=[{"name": "pii", "when": {"pii": True}, "tier": "private"}],
    )
    ex = examples([{"pii": True}, {"pii": True}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "local", "error": "server_error"},
            {"example_id": "e0", "model": "big"},
            {"example_id": "e1", "model": "local"},
            {"example_id": "e1", "model": "big"},
        ]
    )
    result = run(spec, ex, rec)
    assert result.privacy_breach.tolist() == [True, False]
    assert result.breach_attempt.tolist() == [1, -1]


def test_latency_budget_stops_fallback_and_escalation() -> None:
    spec = policy(escalation=ESCALATE, sla={"interactive": {"latency_budget_ms": 1000}})
    ex = examples([{}, {}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "cheap", "error": "timeout", "latency_ms": 1000.0},
            {"example_id": "e0", "model": "backup"},
            {"example_id": "e1", "model": "cheap", "confidence": 0.1, "latency_ms": 1500.0},
            {"example_id": "e1", "model": "big"},
        ]
    )
    result = run(spec, ex, rec)
    assert tried(result, 0) == ["cheap"]
    assert result.failed[0]
    assert tried(result, 1) == ["cheap"]
    assert not result.failed[1]
    assert not result.escalated[1]


def test_missing_recording_counts_as_a_failed_call_that_falls_back() -> None:
    ex = examples([{}])
    rec = recordings([{"example_id": "e0", "model": "backup"}])
    result = run(policy(), ex, rec)
    assert tried(result, 0) == ["cheap", "backup"]
    assert result.attempts.column("error").to_pylist()[0] == len(ERROR_NAMES) - 1
    assert result.cost_usd[0] == pytest.approx(300e-6 + 40e-6)


def test_attempt_start_times_follow_arrival_and_elapsed_time() -> None:
    ex = examples([{}, {}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "cheap", "error": "timeout", "latency_ms": 700.0},
            {"example_id": "e0", "model": "backup"},
            {"example_id": "e1", "model": "cheap"},
        ]
    )
    result = run(policy(), ex, rec)
    starts = dict(
        zip(
            zip(
                result.attempts.column("request").to_pylist(),
                result.attempts.column("attempt").to_pylist(),
                strict=True,
            ),
            result.attempts.column("start_ms").to_pylist(),
            strict=True,
        )
    )
    assert starts == {(0, 0): 0.0, (1, 0): 1.0, (0, 1): 700.0}


def test_loop_runs_in_few_batch_steps_whatever_the_size() -> None:
    n = 5000
    ex = examples([{}] * n)
    rng = np.random.default_rng(1)
    errs = rng.random(n) < 0.2
    rows = [{"example_id": f"e{i}", "model": "cheap", "error": "timeout" if errs[i] else ""} for i in range(n)]
    rows += [{"example_id": f"e{i}", "model": "backup"} for i in range(n)]
    steps: list[int] = []
    spec = policy()
    models = policy_models(spec)
    rec = recordings(rows)
    result = replay(
        ex,
        spec,
        CATALOG,
        RecordedProvider.from_tables(ex, rec, models),
        models=models,
        on_step=lambda s, p: steps.append(p),
    )
    assert steps == [int(errs.sum()), 0]
    assert int(result.fell_back.sum()) == int(errs.sum())


def test_texts_fetched_later_equal_texts_gathered_during_the_replay() -> None:
    ex = examples([{}, {}, {}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "cheap", "response": "zero"},
            {"example_id": "e1", "model": "cheap", "error": "timeout"},
            {"example_id": "e1", "model": "backup", "response": "one"},
            {"example_id": "e2", "model": "cheap", "error": "refusal"},
        ]
    )
    spec = policy()
    models = policy_models(spec)
    provider = RecordedProvider.from_tables(ex, rec, models)
    gathered = replay(ex, spec, CATALOG, provider, models=models)
    skipped = replay(ex, spec, CATALOG, provider, models=models, want_text=False)
    assert gathered.final_responses().to_pylist() == ["zero", "one", None]
    assert skipped.final_responses(lambda rows: rec.column("response").take(rows)).to_pylist() == ["zero", "one", None]
    with pytest.raises(RuntimeError):
        skipped.final_responses()


def _same_replay(a: Replay, b: Replay) -> bool:
    arrays = ("final_tier", "final_model", "final_attempt", "n_attempts", "escalated", "failed", "cost_usd")
    return a.attempts.equals(b.attempts) and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in arrays)


def test_a_suite_memo_shared_by_policies_with_different_stakes_and_budgets_keeps_them_apart() -> None:
    ex = examples([{"stakes": "high", "sla": "batch"}, {"stakes": "low"}, {"confidence": 0.9}])
    rec = recordings(
        [
            {"example_id": e, "model": m, "latency_ms": 800.0, "confidence": 0.9}
            for e in ("e0", "e1", "e2")
            for m in ("cheap", "backup", "big")
        ]
    )
    specs = [
        policy(escalation=ESCALATE, sla={"batch": {"latency_budget_ms": 500}}),
        policy(escalation={**ESCALATE, "always_for_stakes": ["low"]}, sla={"batch": {"latency_budget_ms": 5000}}),
    ]
    memo = Memo()
    for spec in specs:
        models = policy_models(spec)
        provider = RecordedProvider.from_tables(ex, rec, models)
        alone = replay(ex, spec, CATALOG, provider, models=models)
        shared = replay(ex, spec, CATALOG, provider, models=models, memo=memo)
        again = replay(ex, spec, CATALOG, provider, models=models, memo=memo)
        assert _same_replay(alone, shared)
        assert _same_replay(alone, again)
    first, second = (run(spec, ex, rec) for spec in specs)
    assert first.escalated.tolist() == [False, False, False]  # e0 is high stakes, but past its 500 ms budget
    assert second.escalated.tolist() == [False, True, False]
    assert all(not v.flags.writeable for v in memo.values())


def test_more_calls_than_twice_the_requests() -> None:
    """Escalation then two fallbacks: three calls for one request (the attempt buffers must grow)."""
    spec = policy(
        escalation=ESCALATE,
        tiers={"fast": {"models": ["cheap"]}, "reasoning": {"models": ["big", "backup"]}},
        rules=[],
        default_tier="fast",
    )
    ex = examples([{"stakes": "high"}])
    rec = recordings(
        [
            {"example_id": "e0", "model": "cheap", "input_tokens": 7},
            {"example_id": "e0", "model": "big", "error": "timeout", "input_tokens": 11},
            {"example_id": "e0", "model": "backup", "error": "rate_limit", "input_tokens": 13},
        ]
    )
    result = run(spec, ex, rec)
    assert tried(result, 0) == ["cheap", "big", "backup"]
    assert result.attempts.column("attempt").to_pylist() == [0, 1, 2]
    assert result.attempts.column("input_tokens").to_pylist() == [7, 11, 13]
    assert result.attempts.column("kind").to_pylist() == ["first", "escalation", "fallback"]
    assert result.final_attempt[0] == 0  # the failed escalation keeps the cheaper answer
    assert not result.failed[0]
    assert result.source_rows.tolist()[1:] == [-1, -1]
