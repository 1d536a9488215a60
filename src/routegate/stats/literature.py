"""The ``literature`` entry of a run's summary: per suite, RouteLLM's or RouterBench's metrics and where the run sits.

Two families of numbers, both defined in docs/metrics.md with their sources:

* **Two-model suites** (RouteLLM, Ong et al. 2024; math in
  ``routegate.stats.apgr``): PGR, APGR and CPT of the run's policy, with the
  random router and the per-request oracle as reference curves.
* **Multi-model suites** (RouterBench, Hu et al. 2024; math in
  ``routegate.stats.aiq``): the single-model (cost, quality) points, their
  non-decreasing upper convex hull and its AIQ, and the run's gap to the hull.

A suite's part of each block depends on the suite, the catalog and the seed
only (from its per-model outcomes, ``routegate.stats.outcomes``): it is
computed once per suite and shared by every run over it. No I/O.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.floats import float_values
from routegate.arrow.memo import MemoKind
from routegate.engine.plan import suite_traffic_draw, traffic_draw
from routegate.load.catalog import Catalog
from routegate.load.policy import canonical_sha256
from routegate.load.suite import Suite
from routegate.stats.aiq import aiq, hull_quality_at, upper_hull
from routegate.stats.apgr import RouterCurve, apgr, cpt, curve_pgr_at, oracle_curve, pgr, random_apgr_sd, random_curve
from routegate.stats.outcomes import ModelOutcomes, answer_groups, model_outcomes

PGR_TARGETS: tuple[float, ...] = (0.5, 0.8)
"""The CPT targets reported (RouteLLM reports CPT(50%) and CPT(80%))."""
ROUTELLM = "RouteLLM (Ong et al. 2024), routellm/evals/evaluate.py"
"""The ``source`` of a two-model block."""
ROUTERBENCH = "RouterBench (Hu et al. 2024), evaluation/AIQ.py"
"""The ``source`` of a multi-model block."""


def _mean(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None


@dataclass(frozen=True)
class RunTotals:
    """Where a run sits on one suite: its mean scored quality and $ per 1k requests (``None``: nothing
    scored, no request)."""

    quality: float | None
    """Mean quality of the run's scored requests on the suite."""
    cost_per_1k_usd: float | None
    """The run's $ per 1,000 requests on the suite."""

    @classmethod
    def of(cls, traces: pa.Table) -> RunTotals:
        """From the run's traces on the suite."""
        n = traces.num_rows
        cost = float(float_values(traces.column("cost_usd")).sum()) / n * 1000 if n else None
        return cls(_mean(float_values(traces.column("quality"))), cost)

    @classmethod
    def measured(cls, metrics: Mapping[str, Any]) -> RunTotals:
        """From the run's summary of the suite (``measure``'s ``by_suite`` entry): the same floats as
        :meth:`of`, which ``measure`` took with the same arithmetic on the same values, in the same order."""
        mean = metrics["quality"]["mean"]
        return cls(None if math.isnan(mean) else mean, metrics["cost_per_1k_usd"] if metrics["n"] else None)


def _shares(traces: pa.Table, models: Sequence[str]) -> tuple[float, float]:
    """Share of requests that called any of ``models`` at least once, and share answered by one of them."""
    n = traces.num_rows
    if n == 0:
        return float("nan"), float("nan")
    tried = traces.column("models_tried").combine_chunks()
    flat = pc.list_flatten(tried)
    hit = np.asarray(pc.is_in(flat, pa.array(list(models), pa.string())).to_numpy(zero_copy_only=False), dtype=bool)
    parents = pc.list_parent_indices(tried).to_numpy(zero_copy_only=False)
    called = np.zeros(n, dtype=bool)
    called[parents[hit]] = True
    answered = pc.fill_null(pc.is_in(traces.column("final_model"), pa.array(list(models), pa.string())), False)
    return float(called.mean()), float(np.asarray(answered.to_numpy(zero_copy_only=False), dtype=bool).mean())


def _curve_summary(curve: RouterCurve, q_weak: float, q_strong: float) -> dict[str, Any]:
    return {
        "apgr": apgr(curve, q_weak, q_strong),
        **{f"cpt{round(100 * t)}": cpt(curve, t, q_weak, q_strong) for t in PGR_TARGETS},
    }


@dataclass(frozen=True)
class TwoModelReference:
    """RouteLLM's numbers for a suite's strong/weak pair: no policy in them, so computed once per suite."""

    head: dict[str, Any]
    """The block's entries before ``policy`` (kind ... q_weak)."""
    tail: dict[str, Any]
    """The block's entries after ``policy`` (random, oracle)."""
    strong_names: list[str]
    """Every model answering like the strong one (a request that called any of them made a strong call)."""
    q_weak: float
    """Mean quality of the weak model over the requests both models' answers are scored on."""
    q_strong: float
    """Mean quality of the strong model over the same requests."""
    random: RouterCurve
    """The random router's curve (the suite's traffic draw for the seed)."""
    oracle: RouterCurve
    """The per-request oracle's curve."""


def two_model_reference(
    outcomes: ModelOutcomes, groups: list[list[int]], draws: np.ndarray, seed: int
) -> TwoModelReference:
    """The strong/weak pair of a two-group suite, its random router (``draws``: the suite's traffic draw
    for ``seed``) and its oracle."""
    means = [float(np.nanmean(outcomes.quality[g[0]])) for g in groups]
    strong_g, weak_g = (groups[1], groups[0]) if means[1] > means[0] else (groups[0], groups[1])
    cost_per_1k = outcomes.cost.mean(axis=1) * 1000 if outcomes.cost.shape[1] else np.zeros(len(outcomes.models))
    strong = min(strong_g, key=lambda i: (cost_per_1k[i], outcomes.models[i]))
    weak = min(weak_g, key=lambda i: (cost_per_1k[i], outcomes.models[i]))
    qs, qw = outcomes.quality[strong], outcomes.quality[weak]
    scored = np.isfinite(qs) & np.isfinite(qw)
    qs, qw = qs[scored], qw[scored]
    q_strong, q_weak = (float(qs.mean()), float(qw.mean())) if qs.size else (float("nan"), float("nan"))
    rand, orac = random_curve(qw, qs, draws[scored]), oracle_curve(qw, qs)
    strong_names = [outcomes.models[i] for i in strong_g]
    head = {
        "kind": "two_model",
        "source": ROUTELLM,
        "n": int(scored.size),
        "n_scored": int(scored.sum()),
        "strong_model": outcomes.models[strong],
        "weak_model": outcomes.models[weak],
        "strong_models": strong_names,
        "weak_models": [outcomes.models[i] for i in weak_g],
        "q_strong": q_strong,
        "q_weak": q_weak,
    }
    tail = {
        "random": {"seed": seed, **_curve_summary(rand, q_weak, q_strong), "apgr_sd": random_apgr_sd(qw, qs)},
        "oracle": {
            **_curve_summary(orac, q_weak, q_strong),
            "max_quality": float(orac.quality[-1]) if qs.size else None,
        },
    }
    return TwoModelReference(head, tail, strong_names, q_weak, q_strong, rand, orac)


def two_model_policy(ref: TwoModelReference, traces: pa.Table, totals: RunTotals | None = None) -> dict[str, Any]:
    """RouteLLM's block with where the run's policy sits (the only per-run part; ``totals``: the run's,
    when the caller has them)."""
    q_weak, q_strong = ref.q_weak, ref.q_strong
    call_share, answer_share = _shares(traces, ref.strong_names)
    q_policy = (totals or RunTotals.of(traces)).quality
    policy = {
        "quality": q_policy,
        "strong_call_share": call_share,
        "strong_answer_share": answer_share,
        "pgr": pgr(q_policy, q_weak, q_strong) if q_policy is not None else None,
        "random_pgr_at_share": curve_pgr_at(ref.random, call_share, q_weak, q_strong),
        "oracle_pgr_at_share": curve_pgr_at(ref.oracle, call_share, q_weak, q_strong),
    }
    return {**copy.deepcopy(ref.head), "policy": policy, **copy.deepcopy(ref.tail)}


def two_model_block(
    outcomes: ModelOutcomes, groups: list[list[int]], ids: pa.ChunkedArray, traces: pa.Table, seed: int
) -> dict[str, Any]:
    """RouteLLM's metrics for the suite's strong/weak pair and where the run's policy sits."""
    return two_model_policy(two_model_reference(outcomes, groups, traffic_draw(ids, seed), seed), traces)


@dataclass(frozen=True)
class MultiModelReference:
    """RouterBench's single-model points, hull and AIQ of a suite: no policy in them, so computed once."""

    cost: np.ndarray
    """$ per 1k requests of each model."""
    quality: np.ndarray
    """Mean scored quality of each model (NaN when none scored)."""
    hull: np.ndarray
    """Indices of the models on the non-decreasing upper hull."""
    points: list[dict[str, Any]]
    """The block's ``points``: each model's $ per 1k, quality and whether it is on the hull."""
    aiq: float | None
    """AIQ of the single-model points."""


def multi_model_reference(outcomes: ModelOutcomes) -> MultiModelReference:
    """The suite's single-model points, their hull and AIQ (no policy in them)."""
    means = [_mean(q) for q in outcomes.quality]
    quality = np.array([np.nan if m is None else m for m in means], dtype=np.float64)
    cost = outcomes.cost.mean(axis=1) * 1000
    idx = upper_hull(cost, quality)
    on_hull = set(idx.tolist())
    points = [
        {"model": m, "cost_per_1k_usd": float(cost[i]), "quality": float(quality[i]), "on_hull": i in on_hull}
        for i, m in enumerate(outcomes.models)
    ]
    return MultiModelReference(cost, quality, idx, points, aiq(cost, quality))


def multi_model_policy(
    ref: MultiModelReference, models: Sequence[str], traces: pa.Table, totals: RunTotals | None = None
) -> dict[str, Any]:
    """RouterBench's block with where the run's policy sits (the only per-run part; ``totals``: the
    run's, when the caller has them)."""
    cost, quality, idx = ref.cost, ref.quality, ref.hull
    totals = totals or RunTotals.of(traces)
    q_policy, c_policy = totals.quality, totals.cost_per_1k_usd
    at = hull_quality_at(cost[idx], quality[idx], c_policy) if c_policy is not None else None
    with_policy = (
        aiq(np.append(cost, c_policy), np.append(quality, q_policy))
        if c_policy is not None and q_policy is not None
        else None
    )
    return {
        "kind": "multi_model",
        "source": ROUTERBENCH,
        "points": copy.deepcopy(ref.points),
        "hull": [models[i] for i in idx],
        "cost_range_per_1k_usd": [float(cost.min()), float(cost.max())],
        "aiq": ref.aiq,
        "policy": {
            "quality": q_policy,
            "cost_per_1k_usd": c_policy,
            "hull_quality_at_cost": at,
            "gap_to_hull": q_policy - at if at is not None and q_policy is not None else None,
            "aiq_with_policy": with_policy,
        },
    }


def multi_model_block(outcomes: ModelOutcomes, traces: pa.Table) -> dict[str, Any]:
    """RouterBench's hull and AIQ of the single-model points and where the run's policy sits."""
    return multi_model_policy(multi_model_reference(outcomes), outcomes.models, traces)


ANSWER_GROUPS: MemoKind[list[list[int]]] = MemoKind("literature.answer_groups")
"""``literature_for_suite``: a suite's ``answer_groups``; parts: the catalog's ``canonical_sha256``."""
TWO_MODEL_REFERENCE: MemoKind[TwoModelReference] = MemoKind("literature.two_model_reference")
"""``literature_for_suite``: a two-group suite's reference curves; parts: the catalog's sha256, the seed."""
MULTI_MODEL_REFERENCE: MemoKind[MultiModelReference] = MemoKind("literature.multi_model_reference")
"""``literature_for_suite``: a multi-model suite's points, hull and AIQ; parts: the catalog's sha256."""


def literature_for_suite(
    suite: Suite, catalog: Catalog, traces: pa.Table, *, seed: int, totals: RunTotals | None = None
) -> dict[str, Any]:
    """The ``literature`` entry of one suite: RouteLLM metrics for two models, RouterBench for more.

    Everything but the policy's place depends on the suite, the catalog and the seed only: it is
    computed once per suite object and shared by every run over it (a gate's two runs).
    """
    outcomes = model_outcomes(suite, catalog)
    catalog_sha256 = canonical_sha256(catalog)
    groups = suite.memoised(ANSWER_GROUPS.key(catalog_sha256), lambda: answer_groups(outcomes))
    if len(groups) == 2:
        ids = suite.examples.column("id")
        two = suite.memoised(
            TWO_MODEL_REFERENCE.key(catalog_sha256, seed),
            lambda: two_model_reference(outcomes, groups, suite_traffic_draw(ids, seed, suite.memo), seed),
        )
        return two_model_policy(two, traces, totals)
    if len(groups) > 2:
        multi = suite.memoised(MULTI_MODEL_REFERENCE.key(catalog_sha256), lambda: multi_model_reference(outcomes))
        return multi_model_policy(multi, outcomes.models, traces, totals)
    return {
        "kind": "none",
        "reason": f"{len(groups)} distinct fully recorded catalog model(s); the literature metrics need two or more",
        "models": list(outcomes.models),
    }


def literature(
    runs: Sequence[tuple[Suite, pa.Table]],
    catalog: Catalog,
    *,
    seed: int,
    by_suite: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """``summary["literature"]``: one entry per suite, from the suite and the run's traces on it
    (``by_suite``: the run's summary per suite, ``measure``'s, whose totals it then reads)."""
    return {
        suite.name: literature_for_suite(
            suite, catalog, traces, seed=seed, totals=RunTotals.measured(by_suite[suite.name]) if by_suite else None
        )
        for suite, traces in runs
    }
