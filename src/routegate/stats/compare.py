"""Step 6 of the pipeline: baseline vs candidate on the same requests, paired.

Both runs replay the same loaded suites, so their traces are row-aligned:
row i of each is the same request. Every delta is candidate - baseline.
``compare_runs`` gives a ``Comparison``; ``stats.notable.notable_examples`` the requests a gate lists,
which the pipeline sets as ``Comparison.examples``. verdict.json is built from it
(``report.verdict``; docs/gates.md and docs/reports.md document the fields).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import partial
from typing import Any, TypedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.stats.clustered import clustered_mean_delta
from routegate.stats.intervals import (
    BOOTSTRAP_MAX_N,
    DEFAULT_SEED,
    PercentileDelta,
    bootstrap_index,
    order_statistic_deltas,
    paired_mean_delta,
    paired_percentile_deltas,
    percentiles_with_ci_from,
)
from routegate.stats.measure import LATENCY_QS, Columns, answered_by_tier, every_row, flag_count
from routegate.stats.notable import NotableExamples
from routegate.stats.summary import PolicyInfo, RunResult, SuiteInfo, describe_policy

COMPARISON_SCHEMA = 1
"""The comparison's ``schema_version``: changes only when a field is removed or changes meaning."""
FAILED = "(failed)"


class ComparedRun(TypedDict):
    """One side of a comparison: its policy and its summary's metrics."""

    policy: PolicyInfo
    """The side's policy, as its summary names it."""
    metrics: dict[str, Any]
    """The side's ``RunSummary.metrics``."""


@dataclass(frozen=True)
class Comparison:
    """Baseline vs candidate over the same requests, paired: one field per key of the comparison
    (verdict.json copies all but ``schema_version`` and ``slices``: docs/gates.md, docs/reports.md)."""

    schema_version: int
    """``COMPARISON_SCHEMA``."""
    seed: int
    """The seed of every bootstrap."""
    baseline: ComparedRun
    """The baseline's policy and metrics."""
    candidate: ComparedRun
    """The candidate's policy and metrics."""
    suites: list[SuiteInfo]
    """The suites both runs replayed (the baseline summary's ``suites``)."""
    tiers: list[str]
    """The tiers of both runs: the baseline's in report order, then the candidate's others."""
    slices: list[str]
    """The slice columns of ``deltas["by_slice"]``."""
    deltas: dict[str, Any]
    """Paired deltas ``overall``, ``by_suite`` and ``by_slice`` (quality, cost, latency, errors, tier
    mix, privacy breaches; docs/gates.md). ``quality.p_noninferior`` is None here: verdict.json
    fills in the gates' p-values."""
    tier_shift: dict[str, Any]
    """``tiers`` (with ``(failed)`` last) and ``counts``: requests by (baseline tier, candidate tier)."""
    model_shift: dict[str, Any]
    """``models`` (with ``(failed)`` last) and ``counts``: requests by (baseline's answering model,
    candidate's): a request on the "unchanged" fast -> fast diagonal of ``tier_shift`` can still have
    moved to another model."""
    examples: NotableExamples | None = None
    """The notable examples, set by the pipeline (``notable_examples``); None (and not in
    ``to_json()``) until then."""

    def to_json(self) -> dict[str, Any]:
        """The comparison as one JSON-shaped dict: every field in order, ``examples`` only when set."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "seed": self.seed,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "suites": self.suites,
            "tiers": self.tiers,
            "slices": self.slices,
            "deltas": self.deltas,
            "tier_shift": self.tier_shift,
            "model_shift": self.model_shift,
        }
        if self.examples is not None:
            out["examples"] = self.examples
        return out


def _mean_delta(seed: int, index: np.ndarray | None, clusters: tuple[np.ndarray, np.ndarray | None] | None) -> Any:
    """``paired_mean_delta`` (independent requests), or ``clustered_mean_delta`` over ``clusters``
    (compact codes, cluster resamples), sharing the group's resamples."""
    if clusters is None:
        return partial(paired_mean_delta, seed=seed, index=index)
    codes, cluster_index = clusters
    return lambda b, c: clustered_mean_delta(b, c, codes, seed=seed, index=cluster_index)


def _delta_block(
    b: Columns,
    c: Columns,
    rows: np.ndarray | slice,
    tiers: tuple[str, ...],
    seed: int,
    clusters: np.ndarray | None = None,
) -> dict[str, Any]:
    qb, qc = b.quality[rows], c.quality[rows]
    n = int(qb.size)
    # One set of resamples per group, shared by every bootstrapped metric (small groups only).
    index = bootstrap_index(n, seed=seed) if 1 < n <= BOOTSTRAP_MAX_N else None
    grouped = None
    if clusters is not None:  # the group's clusters, coded 0..G-1, and resamples of whole clusters
        codes = np.unique(clusters[rows], return_inverse=True)[1].astype(np.intp)
        g = int(codes.max()) + 1 if n else 0
        grouped = (codes, bootstrap_index(g, seed=seed) if 1 < n <= BOOTSTRAP_MAX_N and g > 1 else None)
    mean_delta = _mean_delta(seed, index, grouped)
    quality = mean_delta(qb, qc)
    cb, cc = b.cost[rows], c.cost[rows]
    cost = mean_delta(cb * 1000, cc * 1000)
    eb, ec = b.flag("error")[rows].astype(np.float64), c.flag("error")[rows].astype(np.float64)
    errors = mean_delta(eb, ec)
    latency = {}
    for q, d in zip(LATENCY_QS, _latency_deltas(b, c, rows, n, seed=seed, index=index), strict=True):
        latency[f"p{q}"] = {
            "baseline": d.baseline,
            "candidate": d.candidate,
            "delta": d.delta,
            "ci95": [d.low, d.high],
            "ci_method": d.method,
        }
    base_cost = float(cb.sum()) / n * 1000 if n else float("nan")
    cand_cost = float(cc.sum()) / n * 1000 if n else float("nan")
    counts_b = b.counts(rows, tiers, share=True)
    counts_c = c.counts(rows, tiers, share=True)
    mix_b, mix_c = answered_by_tier(counts_b), answered_by_tier(counts_c)
    mix = {
        t: {
            "baseline": float(mix_b[i] / n) if n else 0.0,
            "candidate": float(mix_c[i] / n) if n else 0.0,
            "delta": float((mix_c[i] - mix_b[i]) / n) if n else 0.0,
        }
        for i, t in enumerate(tiers)
    }
    return {
        "n": n,
        "quality": {
            "baseline": float(np.nanmean(qb)) if np.isfinite(qb).any() else float("nan"),
            "candidate": float(np.nanmean(qc)) if np.isfinite(qc).any() else float("nan"),
            "delta": quality.delta,
            "ci95": [quality.low, quality.high],
            "ci_method": quality.method,
            "se": quality.se,
            "n_paired": quality.n,
            "mde80": quality.mde(),
            "p_noninferior": None,
            **(
                {"clusters": quality.clusters, "se_independent": quality.se_independent}
                if quality.clusters is not None
                else {}
            ),
        },
        "cost_per_1k_usd": {
            "baseline": base_cost,
            "candidate": cand_cost,
            "delta": cand_cost - base_cost,
            "delta_pct": (cand_cost - base_cost) / base_cost * 100 if base_cost else float("nan"),
            "ci95": [cost.low, cost.high],
            "ci_method": cost.method,
            "se": cost.se,
        },
        "latency_ms": latency,
        "error_rate": {
            "baseline": float(eb.mean()) if n else 0.0,
            "candidate": float(ec.mean()) if n else 0.0,
            "delta": errors.delta,
            "ci95": [errors.low, errors.high],
            "ci_method": errors.method,
        },
        "tier_mix": mix,
        "privacy_breaches": {
            "baseline": flag_count(counts_b, "privacy_breach"),
            "candidate": flag_count(counts_c, "privacy_breach"),
        },
    }


def _latency_deltas(
    b: Columns, c: Columns, rows: np.ndarray | slice, n: int, *, seed: int, index: np.ndarray | None
) -> list[PercentileDelta]:
    """:func:`paired_percentile_deltas` of a group's latencies. Large groups with every latency finite in
    both runs (so that pairing drops no row) reuse the order statistics each run's summary took."""
    if n > BOOTSTRAP_MAX_N and b.latency_finite and c.latency_finite:
        order_b = b.latency_order(rows, share=True)
        order_c = c.latency_order(rows, share=True)
        return order_statistic_deltas(
            percentiles_with_ci_from(order_b, LATENCY_QS), percentiles_with_ci_from(order_c, LATENCY_QS)
        )
    return paired_percentile_deltas(b.latency[rows], c.latency[rows], LATENCY_QS, seed=seed, index=index)


def tier_shift(b: Columns, c: Columns, tiers: tuple[str, ...]) -> dict[str, Any]:
    """Counts of requests by (baseline tier, candidate tier); failed requests in their own row/column."""
    labels = [*tiers, FAILED]

    def codes(cols: Columns) -> np.ndarray:
        code = cols.tier(tiers)
        return np.where(cols.flag("error") | (code < 0), len(tiers), code)

    k = len(labels)
    matrix = np.bincount(codes(b) * k + codes(c), minlength=k * k).reshape(k, k)
    return {"tiers": labels, "counts": matrix.tolist()}


def model_shift(b: pa.Table, c: pa.Table) -> dict[str, Any]:
    """Counts of requests by (baseline's final model, candidate's); failed requests in their own row/column.
    ``b``, ``c``: the two runs' traces over the same requests."""

    def names(traces: pa.Table) -> pa.Array:
        return pc.cast(traces.column("final_model"), pa.string()).combine_chunks()

    nb, nc = names(b), names(c)
    models = sorted({m for m in (*pc.unique(nb).to_pylist(), *pc.unique(nc).to_pylist()) if m is not None})
    labels = [*models, FAILED]
    value_set = pa.array(models, pa.string())

    def codes(answered: pa.Array) -> np.ndarray:
        found = pc.fill_null(pc.index_in(answered, value_set=value_set), len(models))
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)

    k = len(labels)
    matrix = np.bincount(codes(nb) * k + codes(nc), minlength=k * k).reshape(k, k)
    return {"models": labels, "counts": matrix.tolist()}


def cluster_codes(result: RunResult) -> np.ndarray | None:
    """One int64 cluster code per request of ``result`` (row-aligned with its traces), or ``None`` when
    no suite declares a ``cluster`` column. Codes never join requests of different suites; in a suite
    without a cluster column every request is its own cluster."""
    if not any(r.suite.manifest.cluster for r in result.runs):
        return None
    parts, start = [], 0
    for run in result.runs:
        n = run.traces.num_rows
        name = run.suite.manifest.cluster
        if name is None:
            local = np.arange(n, dtype=np.int64)
        else:
            column = pc.dictionary_encode(run.suite.column("examples", name).combine_chunks())
            local = np.asarray(pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
            local = np.where(local < 0, n + np.arange(n), local)  # no value: a cluster of its own
        parts.append(local + start)
        start += 2 * n  # room for the null rows' own codes
    return np.concatenate(parts)


def compare_runs(base: RunResult, cand: RunResult, *, seed: int = DEFAULT_SEED) -> Comparison:
    """Paired deltas overall, per suite and per slice, and tier shifts (the notable examples are
    ``stats.notable.notable_examples``: a gate lists them on its other thread)."""
    b, c = base.traces, cand.traces
    if b.num_rows != c.num_rows or not b.column("example_id").equals(c.column("example_id")):
        raise RuntimeError("baseline and candidate traces are not aligned; both runs must replay the same suites")
    tiers = tuple(dict.fromkeys([*base.summary.tiers, *cand.summary.tiers]))
    ab, ac = base.columns, cand.columns
    clusters = cluster_codes(base)
    overall = _delta_block(ab, ac, slice(None), tiers, seed, clusters)

    def block(rows: np.ndarray) -> dict[str, Any]:
        if every_row(rows, ab.n):
            return copy.deepcopy(overall)
        return _delta_block(ab, ac, rows, tiers, seed, clusters)

    deltas: dict[str, Any] = {"overall": overall}
    groups = base.groups
    deltas["by_suite"] = {k: block(rows) for k, rows in groups["suite"].items()}
    slices = [s for s in base.summary.slices if s in b.column_names]
    deltas["by_slice"] = {name: {k: block(rows) for k, rows in groups[name].items()} for name in slices}
    return Comparison(
        schema_version=COMPARISON_SCHEMA,
        seed=seed,
        baseline=ComparedRun(policy=describe_policy(base.policy), metrics=base.summary.metrics),
        candidate=ComparedRun(policy=describe_policy(cand.policy), metrics=cand.summary.metrics),
        suites=base.summary.suites,
        tiers=list(tiers),
        slices=slices,
        deltas=deltas,
        tier_shift=tier_shift(ab, ac, tiers),
        model_shift=model_shift(b, c),
    )
