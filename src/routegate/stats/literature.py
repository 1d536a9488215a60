"""Routing-literature metrics: RouteLLM's PGR / APGR / CPT and RouterBench's hull / AIQ.

Two families of numbers, both defined in docs/metrics.md with their sources:

* **Two-model suites** (RouteLLM, Ong et al. 2024): with a strong and a weak
  model, a router that sends a share ``s`` of requests to the strong one
  scores ``q(s)``. ``PGR = (q - q_weak) / (q_strong - q_weak)``; ``APGR`` is
  the area under PGR over the strong-call share in [0, 1]; ``CPT(x)`` is the
  smallest strong-call share whose PGR reaches ``x``. A policy is one point
  (its share, its PGR); the random router and the per-request oracle are
  whole curves, computed exactly here (every threshold, not a 10-bin sweep).
* **Multi-model suites** (RouterBench, Hu et al. 2024): each single-model
  policy is a (cost, quality) point; a random split between two models
  reaches every point of the segment between them, so the non-decreasing
  upper convex hull of the points is what random mixtures of single models
  achieve. ``AIQ`` is the mean height of that hull over the cost range.

The math (``pgr`` ... ``aiq``) is pure functions of numpy arrays.
``literature_for_suite`` derives the per-model outcomes of a loaded suite
(columnar: one join per suite, one scorer call per model, the same arithmetic
as a single-model replay) and places a run's traces among them. No I/O.
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
from routegate.engine.plan import suite_traffic_draw, traffic_draw
from routegate.load.catalog import Catalog
from routegate.load.policy import canonical_sha256
from routegate.load.suite import Suite
from routegate.providers.base import OK
from routegate.providers.recorded import RecordedProvider
from routegate.scoring import ScoreInput, get_scorer, needs_response, passes_recorded_quality

PGR_TARGETS: tuple[float, ...] = (0.5, 0.8)
"""The CPT targets reported (RouteLLM reports CPT(50%) and CPT(80%))."""
ROUTELLM = "RouteLLM (Ong et al. 2024), routellm/evals/evaluate.py"
ROUTERBENCH = "RouterBench (Hu et al. 2024), evaluation/AIQ.py"


# ---------------------------------------------------------------- two models


def pgr(quality: float, q_weak: float, q_strong: float) -> float | None:
    """Performance gap recovered; None when there is no gap (or a value is not finite)."""
    gap = q_strong - q_weak
    if not (np.isfinite(quality) and np.isfinite(gap)) or gap == 0:
        return None
    return float((quality - q_weak) / gap)


@dataclass(frozen=True)
class RouterCurve:
    """Quality of a router family as a function of its strong-call share."""

    share: np.ndarray
    """Strong-call share, non-decreasing, from 0 to 1."""
    quality: np.ndarray
    """Mean quality at that share."""


def ranked_curve(
    q_weak: np.ndarray, q_strong: np.ndarray, order: np.ndarray, *, only_gains: bool = False
) -> RouterCurve:
    """Exact curve of the routers "the first k requests of ``order`` go to the strong model", k = 0..n.

    ``only_gains``: a request whose strong answer is no better keeps the weak
    answer (the oracle's "at most this many strong calls").
    """
    n = q_weak.size
    gain = (q_strong - q_weak)[order]
    if only_gains:
        gain = np.maximum(gain, 0.0)
    quality = np.empty(n + 1)
    quality[0] = float(q_weak.mean()) if n else np.nan
    np.cumsum(gain, out=quality[1:])
    quality[1:] = quality[0] + quality[1:] / max(n, 1)
    return RouterCurve(share=np.arange(n + 1) / max(n, 1), quality=quality)


def random_curve(q_weak: np.ndarray, q_strong: np.ndarray, draws: np.ndarray) -> RouterCurve:
    """The random router: a traffic split sends requests whose draw is below the share to the strong model."""
    return ranked_curve(q_weak, q_strong, np.argsort(draws, kind="stable"))


def oracle_curve(q_weak: np.ndarray, q_strong: np.ndarray) -> RouterCurve:
    """The per-request oracle: with k strong calls, spend them on the k largest gains (none on a loss)."""
    return ranked_curve(q_weak, q_strong, np.argsort(-(q_strong - q_weak), kind="stable"), only_gains=True)


def apgr(curve: RouterCurve, q_weak: float, q_strong: float) -> float | None:
    """Average PGR: trapezoid area under PGR(share), divided by the share range (1 for a full sweep)."""
    span = float(curve.share[-1] - curve.share[0]) if curve.share.size else 0.0
    if span <= 0:
        return None
    mean_quality = float(np.trapezoid(curve.quality, curve.share)) / span
    return pgr(mean_quality, q_weak, q_strong)


def cpt(curve: RouterCurve, target: float, q_weak: float, q_strong: float) -> float | None:
    """Smallest strong-call share at which PGR reaches ``target`` (linear between curve points); None if never."""
    gap = q_strong - q_weak
    if not np.isfinite(gap) or gap == 0 or curve.share.size == 0:
        return None
    level = (curve.quality - q_weak) / gap
    reached = np.flatnonzero(level >= target - 1e-12)
    if reached.size == 0:
        return None
    i = int(reached[0])
    if i == 0:
        return float(curve.share[0])
    x0, x1, y0, y1 = curve.share[i - 1], curve.share[i], level[i - 1], level[i]
    return float(x0 + (x1 - x0) * (target - y0) / (y1 - y0)) if y1 != y0 else float(x1)


def curve_pgr_at(curve: RouterCurve, share: float, q_weak: float, q_strong: float) -> float | None:
    """PGR of the curve at ``share`` (linear between points)."""
    if curve.share.size == 0 or not np.isfinite(share):
        return None
    return pgr(float(np.interp(share, curve.share, curve.quality)), q_weak, q_strong)


def random_apgr_sd(q_weak: np.ndarray, q_strong: np.ndarray) -> float | None:
    """Standard deviation of a random router's APGR over uniformly random orders (its expectation is 0.5).

    The trapezoid area is a linear permutation statistic sum_j w_j g_pi(j) with
    w_j = n - j + 1 (over n^2), so (Hoeffding) Var = (n + 1) / (12 n^3) * sum (g - mean g)^2,
    divided by the squared gap.
    """
    g = q_strong - q_weak
    n = g.size
    gap = float(g.mean()) if n else 0.0
    if n < 2 or gap == 0:
        return None
    return float(np.sqrt((n + 1) / (12 * n**3) * float(((g - gap) ** 2).sum())) / abs(gap))


# ---------------------------------------------------------------- many models


def upper_hull(costs: np.ndarray, qualities: np.ndarray) -> np.ndarray:
    """Indices of the non-decreasing upper convex hull, by cost: it starts at the cheapest point (best
    quality among equally cheap ones) and ends at the best-quality point (the cheapest of equals)."""
    costs, qualities = np.asarray(costs, dtype=np.float64), np.asarray(qualities, dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(costs) & np.isfinite(qualities))
    if ok.size == 0:
        return ok
    order = ok[np.lexsort((-qualities[ok], costs[ok]))]
    hull: list[int] = []
    for i in order:
        if hull and costs[hull[-1]] == costs[i]:
            continue  # an equally cheap point of lower (or equal) quality
        if hull and qualities[i] <= qualities[hull[-1]]:
            continue  # dearer and no better: never on a non-decreasing hull
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            ab_c, ab_q = costs[b] - costs[a], qualities[b] - qualities[a]
            cross = ab_c * (qualities[i] - qualities[a]) - ab_q * (costs[i] - costs[a])
            if cross >= 0:  # b lies on or under the segment a -> i
                hull.pop()
            else:
                break
        hull.append(int(i))
    return np.array(hull, dtype=np.int64)


def hull_quality_at(hull_costs: np.ndarray, hull_qualities: np.ndarray, cost: float) -> float | None:
    """Quality of the hull at ``cost``: linear between hull points, flat after the last; None below the first."""
    if hull_costs.size == 0 or not np.isfinite(cost) or cost < hull_costs[0]:
        return None
    return float(np.interp(cost, hull_costs, hull_qualities))


def aiq(costs: np.ndarray, qualities: np.ndarray) -> float | None:
    """Area under the non-decreasing hull over [min cost, max cost], divided by that range.

    With one cost only (range 0) the limit: the best quality at that cost.
    """
    costs, qualities = np.asarray(costs, dtype=np.float64), np.asarray(qualities, dtype=np.float64)
    idx = upper_hull(costs, qualities)
    if idx.size == 0:
        return None
    finite = np.isfinite(costs) & np.isfinite(qualities)
    c_max = float(costs[finite].max())
    hc, hq = costs[idx], qualities[idx]
    c_min = float(hc[0])
    if c_max == c_min:
        return float(hq[0])
    xs = np.append(hc, c_max) if hc[-1] < c_max else hc
    ys = np.append(hq, hq[-1]) if hc[-1] < c_max else hq
    return float(np.trapezoid(ys, xs)) / (c_max - c_min)


# ---------------------------------------------------------------- suites


@dataclass(frozen=True)
class ModelOutcomes:
    """What each fully recorded model would score and cost on every request of a suite, alone."""

    models: tuple[str, ...]
    quality: np.ndarray
    """float64 [model, request]: the suite's scorer on the recording (0 for a failed call, NaN unscored)."""
    cost: np.ndarray
    """float64 [model, request]: recorded tokens x the catalog's prices."""
    latency: Sequence[np.ndarray]
    """Per model, float64 per request: the recorded latency of the call (read-only views of the
    recordings where they are in model blocks: no copy)."""


def model_outcomes(suite: Suite, catalog: Catalog) -> ModelOutcomes:
    """Per-request quality and cost of every catalog model that has a recording for every request.

    The same arithmetic as replaying the single-model policy: the recorded
    provider's join, the suite's scorer with its options, failed calls score 0.
    They depend on the suite and the catalog only, so they are computed once per
    loaded suite and catalog (a gate's two runs share them).
    """
    key = str(("model_outcomes", canonical_sha256(catalog)))
    return suite.memoised(key, lambda: _model_outcomes(suite, catalog))


def _model_outcomes(suite: Suite, catalog: Catalog) -> ModelOutcomes:
    """Each fully recorded model's recordings, row by row of the [model, request] arrays.

    With the recordings in model blocks (the layout routegate writes), a model's recordings are one
    contiguous run of rows, read as slices; otherwise they are gathered by the join keys. The
    numeric columns come from the recorded provider (memoised per suite, so a gate's replays have
    usually converted them already); only the scorer runs once per model.
    """
    n = suite.examples.num_rows
    rows = suite.recording_keys().rows_of(n, tuple(sorted(catalog.models)))
    models = tuple(rows)
    if not models:
        return ModelOutcomes(models, np.full((0, n), np.nan), np.zeros((0, n)), [])
    recorded = RecordedProvider.from_suite(suite, ())
    reference = suite.examples.column("reference").combine_chunks()
    quality, cost = np.empty((len(models), n)), np.empty((len(models), n))
    latency = []
    for k, model in enumerate(models):
        at = rows[model]
        price = catalog.models[model].price
        bad = recorded.error[at] != OK
        # Same arithmetic as the replay's (in * price_in + out * price_out), in place.
        np.multiply(recorded.input_tokens[at], price.input_per_1m / 1e6, out=cost[k])
        cost[k] += recorded.output_tokens[at] * (price.output_per_1m / 1e6)
        latency.append(recorded.latency_ms[at])
        pre_judged = recorded.quality_at(at)
        pre_judged[bad] = np.nan
        quality[k] = _score_model(suite, reference, at, bad, pre_judged)
        quality[k][bad] = 0.0  # a failed call scores 0, whatever the scorer says of its (null) answer
    return ModelOutcomes(models, quality, cost, latency)


def _score_model(
    suite: Suite, reference: pa.Array, at: slice | np.ndarray, bad: np.ndarray, pre_judged: np.ndarray
) -> np.ndarray:
    """The suite's scorer on one model's recordings (``at``: its recording rows, request by request)."""
    scoring = suite.manifest.scoring
    scorer = get_scorer(scoring.scorer)
    if passes_recorded_quality(scorer):
        return pre_judged
    n = bad.size
    if needs_response(scorer):
        take = np.arange(at.start, at.stop) if isinstance(at, slice) else at
        resp = suite.take("recordings", "response", take)
        if bad.any():
            resp = pc.if_else(pa.array(~bad), resp, pa.nulls(n, resp.type))
    else:
        resp = pa.nulls(n, pa.string())
    inputs = ScoreInput(
        response=resp if resp.type == pa.string() else resp.cast(pa.string()),
        reference=reference,
        recorded=pa.array(pre_judged, pa.float64(), from_pandas=True),
    )
    return np.asarray(scorer(inputs, scoring.options), dtype=np.float64)


def answer_groups(outcomes: ModelOutcomes) -> list[list[int]]:
    """Models grouped by identical per-request quality (e.g. a self-hosted copy of the same recordings).

    Two models whose (NaN count, sum of the rest) differ cannot be identical: only models that agree
    on that one pass each are compared element by element."""
    digest = [(int(np.isnan(q).sum()), float(np.nansum(q))) for q in outcomes.quality]
    groups: list[list[int]] = []
    for i in range(len(outcomes.models)):
        for group in groups:
            if digest[group[0]] != digest[i]:
                continue
            if np.array_equal(outcomes.quality[group[0]], outcomes.quality[i], equal_nan=True):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def _mean(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None


@dataclass(frozen=True)
class RunTotals:
    """Where a run sits on one suite: its mean scored quality and $ per 1k requests (``None``: nothing
    scored, no request)."""

    quality: float | None
    cost_per_1k_usd: float | None

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
    q_weak: float
    q_strong: float
    random: RouterCurve
    oracle: RouterCurve


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
    aiq: float | None


def multi_model_reference(outcomes: ModelOutcomes) -> MultiModelReference:
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


def literature_for_suite(
    suite: Suite, catalog: Catalog, traces: pa.Table, *, seed: int, totals: RunTotals | None = None
) -> dict[str, Any]:
    """The ``literature`` entry of one suite: RouteLLM metrics for two models, RouterBench for more.

    Everything but the policy's place depends on the suite, the catalog and the seed only: it is
    computed once per suite object and shared by every run over it (a gate's two runs).
    """
    outcomes = model_outcomes(suite, catalog)
    key = str(("literature", canonical_sha256(catalog)))
    groups = suite.memoised(key + ":groups", lambda: answer_groups(outcomes))
    if len(groups) == 2:
        ids = suite.examples.column("id")
        two = suite.memoised(
            f"{key}:two:{seed}",
            lambda: two_model_reference(outcomes, groups, suite_traffic_draw(ids, seed, suite.memo), seed),
        )
        return two_model_policy(two, traces, totals)
    if len(groups) > 2:
        multi = suite.memoised(key + ":multi", lambda: multi_model_reference(outcomes))
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
