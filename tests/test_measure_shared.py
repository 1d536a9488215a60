"""Summaries and comparisons share one pull of the columns and one partial sort per group: same numbers
as computing each from the raw arrays."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import changed_policy
from routegate import pipeline
from routegate.arrow.groups import group_rows, slice_groups
from routegate.gates.evaluate import evaluate_gates
from routegate.gates.spec import GatesSpec
from routegate.load.policy import load_policy
from routegate.load.suite import Suite, load_suite
from routegate.pipeline import gate_policies
from routegate.stats.compare import _latency_deltas, compare_runs
from routegate.stats.intervals import (
    BOOTSTRAP_MAX_N,
    SORT_FROM,
    OrderStatistics,
    ci_ranks,
    paired_percentile_deltas,
    percentile_ranks,
    percentiles,
    percentiles_from,
    percentiles_with_ci,
)
from routegate.stats.measure import LATENCY_QS, Columns, latency_ranks, measure
from routegate.stats.notable import notable_examples
from routegate.stats.summary import suite_groups, suite_slices
from routegate.writer import dumps_json

TIERS = ("fast", "balanced", "reasoning")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 99, 100, 101, 1999, 2001, 12345, SORT_FROM, 123_457])
@pytest.mark.parametrize("ties", [False, True])
def test_percentiles_from_order_statistics_are_numpys_floats(n: int, ties: bool) -> None:
    rng = np.random.default_rng(n)
    x = rng.lognormal(6, 1, n)
    if ties:
        x = np.round(x / 50) * 50
    qs = (0, 1, 25, 50, 90, 95, 99, 99.9, 100)
    order = OrderStatistics.of(x, lambda m: percentile_ranks(m, qs))
    expected = np.percentile(x, qs)
    found = percentiles_from(order, qs)
    # Bit for bit: a summary must not change when its percentiles come from a shared partial sort.
    assert [v.hex() for v in found.values()] == [float(v).hex() for v in expected]
    assert found == percentiles(x, qs)


def test_order_statistics_skip_non_finite_values_like_percentiles() -> None:
    x = np.array([5.0, np.nan, 1.0, np.inf, 3.0, 2.0])
    order = OrderStatistics.of(x, lambda m: percentile_ranks(m, LATENCY_QS))
    assert order.n == 4
    assert percentiles_from(order, LATENCY_QS) == percentiles(x, LATENCY_QS)
    empty = OrderStatistics.of(np.array([np.nan]), lambda m: percentile_ranks(m, LATENCY_QS))
    assert empty.n == 0
    assert all(np.isnan(v) for v in percentiles_from(empty, LATENCY_QS).values())


def test_percentile_cis_are_the_order_statistics_of_the_sorted_sample() -> None:
    x = np.random.default_rng(3).exponential(100, 5000)
    s = np.sort(x)
    for q, (est, lo, hi) in zip(LATENCY_QS, percentiles_with_ci(x, LATENCY_QS), strict=True):
        assert est == pytest.approx(np.percentile(x, q), rel=1e-12)
        assert lo <= est <= hi
        ranks = sorted(r for r in ci_ranks(x.size, (q,)))
        assert lo == s[ranks[0]]
        assert hi == s[ranks[-1]]
    assert ci_ranks(x.size, LATENCY_QS) <= latency_ranks(x.size)


def traces(n: int, seed: int, *, latency_nan: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    quality = rng.random(n).round(1)
    latency = rng.lognormal(6, 1, n)
    if latency_nan:
        latency[::97] = np.nan
    tier = rng.choice(np.array([*TIERS, "unknown"]), n)
    return pa.table(
        {
            "example_id": [f"e{i}" for i in range(n)],
            "task_type": rng.choice(np.array(["code", "math", "qa"]), n),
            "final_tier": pa.array(np.where(rng.random(n) < 0.05, np.array(None, dtype=object), tier), pa.string()),
            "quality": pa.array(quality, mask=rng.random(n) < 0.1),
            "cost_usd": rng.random(n) / 100,
            "latency_ms": latency,
            "escalated": rng.random(n) < 0.2,
            "fell_back": rng.random(n) < 0.1,
            "error": rng.random(n) < 0.05,
            "privacy_breach": rng.random(n) < 0.01,
            "confidence_missing": rng.random(n) < 0.03,
        }
    )


def test_measure_counts_and_percentiles_match_direct_numpy() -> None:
    t = traces(6000, 1)
    out = measure(t, TIERS, ["task_type"], groups={"suite": {"s": np.arange(t.num_rows)}} | _slices(t))
    tier = np.array(t.column("final_tier").to_pylist(), dtype=object)
    error = t.column("error").to_numpy(zero_copy_only=False)
    for label, rows in [("overall", np.arange(t.num_rows)), *_slices(t)["task_type"].items()]:
        m = out["overall"] if label == "overall" else out["by_slice"]["task_type"][label]
        n = rows.size
        assert m["n"] == n
        assert m["escalation_rate"] == np.count_nonzero(t.column("escalated").to_numpy(zero_copy_only=False)[rows]) / n
        assert m["privacy_breaches"] == np.count_nonzero(
            t.column("privacy_breach").to_numpy(zero_copy_only=False)[rows]
        )
        for name in TIERS:
            assert m["tier_mix"][name] == np.count_nonzero((tier[rows] == name) & ~error[rows]) / n
        assert m["latency_ms"] == percentiles(t.column("latency_ms").to_numpy()[rows])
        assert m["cost_usd"] == float(t.column("cost_usd").to_numpy()[rows].sum())
    assert set(out["by_tier"]) == set(TIERS)
    assert out["by_tier"]["fast"]["n"] == np.count_nonzero(tier == "fast")


def _slices(t: pa.Table) -> dict[str, dict[str, np.ndarray]]:
    return {"task_type": group_rows(t.column("task_type"))}


@pytest.mark.parametrize("latency_nan", [False, True])
def test_shared_latency_order_statistics_give_the_paired_deltas_of_the_raw_arrays(latency_nan: bool) -> None:
    b, c = traces(5000, 1, latency_nan=latency_nan), traces(5000, 2, latency_nan=latency_nan)
    cb, cc = Columns(b), Columns(c)
    rows = np.flatnonzero(np.arange(5000) % 2 == 0)
    assert rows.size > BOOTSTRAP_MAX_N
    measure(b, TIERS, [], groups={"suite": {"s": rows}}, cols=cb)  # takes (and memoises) the order statistics
    found = _latency_deltas(cb, cc, rows, rows.size, seed=1, index=None)
    expected = paired_percentile_deltas(
        b.column("latency_ms").to_numpy()[rows], c.column("latency_ms").to_numpy()[rows], LATENCY_QS
    )
    assert found == expected


def test_a_gates_two_runs_give_the_figures_of_two_separate_runs() -> None:
    """A gate replays both policies over the same loaded suites on two threads and reads each run's
    columns for its summary and for the comparison: the summaries, the comparison and the verdict are
    those of two runs over separately loaded suites, compared and gated afterwards."""
    base = load_policy(str(ROOT / "policies" / "assistant.yaml"))
    cand = load_policy(str(changed_policy("assistant-skip-cascade")))

    def fresh() -> list[Suite]:
        return [load_suite(ROOT / "eval_suites" / "routellm-mtbench")]

    outcome = gate_policies(base, cand, fresh(), GatesSpec())
    alone_base, alone_cand = pipeline.run_policy(base, fresh()), pipeline.run_policy(cand, fresh())
    assert dumps_json(outcome.baseline.summary.to_json()) == dumps_json(alone_base.summary.to_json())
    assert dumps_json(outcome.candidate.summary.to_json()) == dumps_json(alone_cand.summary.to_json())
    separate = replace(compare_runs(alone_base, alone_cand), examples=notable_examples(alone_base, alone_cand))
    before = dumps_json(separate.to_json())
    verdict = evaluate_gates(separate, GatesSpec(), alone_cand)
    assert dumps_json(separate.to_json()) == before  # evaluating the gates changes nothing it is given
    assert dumps_json(separate.to_json()) == dumps_json(outcome.comparison.to_json())
    assert verdict.p_noninferior == outcome.verdict.p_noninferior
    assert verdict.p_noninferior["overall",] > 0
    assert [g.to_json() for g in verdict.gates] == [g.to_json() for g in outcome.verdict.gates]
    assert outcome.comparison.deltas["overall"]["n"] == 160
    assert outcome.comparison.deltas["overall"] != {}


def test_tier_codes_from_the_replay_match_the_final_tier_names() -> None:
    """``Columns.tier`` remaps a run's replay codes exactly as it would match the ``final_tier`` strings,
    for any tier list (a comparison asks with the union of both runs' tiers, in another order)."""
    suites = [load_suite(ROOT / "eval_suites" / "routellm-mtbench")]
    run = pipeline.run_policy(load_policy(str(ROOT / "policies" / "assistant.yaml")), suites)
    from_names = Columns(run.traces)
    for tiers in [("fast", "balanced", "reasoning"), ("reasoning", "private", "fast"), ("balanced",), ("x",)]:
        assert np.array_equal(run.columns.tier(tiers), from_names.tier(tiers)), tiers
    assert (run.columns.tier(("reasoning", "fast", "balanced")) >= 0).all()


@pytest.mark.parametrize(
    "names",
    [["routellm-mtbench"], ["routellm-mtbench", "alpacaeval", "routellm-gsm8k"], ["alpacaeval", "routellm-mtbench"]],
)
def test_groups_from_each_suites_own_equal_the_groups_of_the_joined_traces(names: list[str]) -> None:
    """``suite_groups`` joins the groups each suite derived while loading; they are exactly what
    grouping the run's concatenated traces finds, including a slice one suite lacks (``(none)``)."""
    suites = [load_suite(ROOT / "eval_suites" / name) for name in names]
    run = pipeline.run_policy(
        load_policy(str(ROOT / "policies" / "assistant.yaml")), suites, pipeline.RunOptions(on_missing="skip")
    )
    expected = slice_groups(run.traces, suite_slices(suites))
    found = suite_groups(suites)
    assert list(found) == list(expected)
    for name, groups in expected.items():
        assert list(found[name]) == list(groups), name
        for key, rows in groups.items():
            np.testing.assert_array_equal(found[name][key], rows)
    if len(names) > 1:
        assert "(none)" in found["category"]  # alpacaeval and gsm8k have no category column


def test_a_gate_splits_its_comparison_without_changing_it() -> None:
    """A gate computes the paired deltas on one thread and the notable examples and literature metrics
    on the other: the same comparison and summaries as computing them one after the other; evaluating
    the gates changes none of it; its single-model points are the frontier's."""
    from routegate.report.verdict import verdict_json
    from routegate.stats.frontier import single_model_points
    from routegate.stats.notable import notable_examples

    suites = [load_suite(ROOT / "eval_suites" / name) for name in ("routellm-mtbench", "routellm-gsm8k")]
    base = load_policy(str(ROOT / "policies" / "assistant.yaml"))
    cand = load_policy(str(changed_policy("assistant-skip-cascade")))
    outcome = gate_policies(base, cand, suites, GatesSpec())
    alone = compare_runs(outcome.baseline, outcome.candidate)
    assert alone.examples is None
    assert "examples" not in alone.to_json()
    alone = replace(alone, examples=notable_examples(outcome.baseline, outcome.candidate))
    assert dumps_json(alone.to_json()) == dumps_json(outcome.comparison.to_json())
    assert (
        outcome.verdict.p_noninferior["overall",]
        == verdict_json(outcome, GatesSpec())["deltas"]["overall"]["quality"]["p_noninferior"]
    )
    ran = pipeline.run_policy(cand, suites)
    assert dumps_json(outcome.candidate.summary.to_json()) == dumps_json(ran.summary.to_json())  # literature included
    assert outcome.points == single_model_points(suites, cand, seed=0)
    assert verdict_json(outcome, GatesSpec())["single_models"] == outcome.points
    assert outcome.points  # the RouteLLM suites record both models in full


def test_a_groups_shared_state_counts_are_read_only_and_equal_a_direct_count() -> None:
    """The counts of a group shared by the summary and the comparison cannot be changed by either (so
    one cannot corrupt the other's figures) and equal a direct bincount, as do an unshared group's;
    another tier list gets its own counts."""
    t = traces(6000, 1)
    cols = Columns(t)
    groups = _slices(t)
    measure(t, TIERS, ["task_type"], groups={"suite": {"s": np.arange(t.num_rows)}} | groups, cols=cols)
    rows = next(iter(groups["task_type"].values()))
    shared = cols.counts(rows, TIERS, share=True)
    with pytest.raises(ValueError, match="read-only"):
        shared[0, 0] += 1
    expected = np.bincount(cols.states(TIERS)[rows], minlength=32 * (len(TIERS) + 1)).reshape(len(TIERS) + 1, 32)
    assert np.array_equal(shared, expected)
    assert np.array_equal(cols.counts(rows, TIERS, share=True), expected)
    assert np.array_equal(cols.counts(rows.copy(), TIERS, share=False), expected)
    other = ("balanced", "fast")
    assert np.array_equal(
        cols.counts(rows, other, share=True).sum(axis=1),
        [np.count_nonzero(cols.tier(other)[rows] == i) for i in (-1, 0, 1)],
    )
