"""Step 5 of the pipeline: aggregate traces overall, per suite, per tier and per slice.

Columns are pulled out of Arrow once as numpy arrays; each group is a set of
row indices (one stable argsort per grouping column), so the cost is a few
passes over the data whatever the number of groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.stats import DEFAULT_SEED, mean_ci, percentiles

Metrics = dict[str, Any]
NO_VALUE = "(none)"
"""Group key of requests with no value in a slice column (e.g. from a suite that lacks the column)."""


@dataclass(frozen=True)
class _Columns:
    quality: np.ndarray
    cost: np.ndarray
    latency: np.ndarray
    escalated: np.ndarray
    fell_back: np.ndarray
    error: np.ndarray
    breach: np.ndarray
    conf_missing: np.ndarray
    tier: np.ndarray
    """int: index into the tiers tuple of the tier that answered (or was tried last)."""

    @classmethod
    def of(cls, traces: pa.Table, tiers: tuple[str, ...]) -> _Columns:
        def flag(name: str) -> np.ndarray:
            return np.asarray(traces.column(name).to_numpy(zero_copy_only=False), dtype=bool)

        tier = pc.index_in(traces.column("final_tier"), value_set=pa.array(list(tiers), pa.string()))
        return cls(
            quality=np.asarray(
                pc.fill_null(traces.column("quality"), np.nan).to_numpy(zero_copy_only=False), dtype=np.float64
            ),
            cost=traces.column("cost_usd").to_numpy(),
            latency=traces.column("latency_ms").to_numpy(),
            escalated=flag("escalated"),
            fell_back=flag("fell_back"),
            error=flag("error"),
            breach=flag("privacy_breach"),
            conf_missing=flag("confidence_missing"),
            tier=np.asarray(pc.fill_null(tier, -1).to_numpy(zero_copy_only=False), dtype=np.int64),
        )


def _metrics(c: _Columns, rows: np.ndarray | slice, tiers: tuple[str, ...], seed: int) -> Metrics:
    quality = mean_ci(c.quality[rows], seed=seed)
    error = c.error[rows]
    n = int(error.size)
    cost = float(c.cost[rows].sum())
    answered_tier = c.tier[rows][~error]
    counts = np.bincount(answered_tier[answered_tier >= 0], minlength=len(tiers))

    def rate(flags: np.ndarray) -> float:
        return float(np.count_nonzero(flags) / n) if n else 0.0

    return {
        "n": n,
        "quality": {
            "mean": quality.estimate,
            "ci95": [quality.low, quality.high],
            "ci_method": quality.method,
            "n_scored": quality.n,
        },
        "cost_usd": cost,
        "cost_per_1k_usd": cost / n * 1000 if n else float("nan"),
        "latency_ms": percentiles(c.latency[rows]),
        "tier_mix": {t: float(counts[i] / n) if n else 0.0 for i, t in enumerate(tiers)},
        "escalation_rate": rate(c.escalated[rows]),
        "fallback_rate": rate(c.fell_back[rows]),
        "error_rate": rate(error),
        "privacy_breaches": int(np.count_nonzero(c.breach[rows])),
        "privacy_breach_rate": rate(c.breach[rows]),
        "confidence_missing": int(np.count_nonzero(c.conf_missing[rows])),
    }


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return NO_VALUE
    return str(value)


def group_rows(column: pa.ChunkedArray | pa.Array) -> dict[str, np.ndarray]:
    """Row indices of each distinct value of ``column``, keyed by its text, in key order."""
    encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    labels = [_key(v) for v in encoded.dictionary.to_pylist()]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(-1, len(labels) + 1))
    groups: dict[str, np.ndarray] = {}
    if bounds[1] > bounds[0]:
        groups[NO_VALUE] = order[bounds[0] : bounds[1]]
    for code, label in enumerate(labels):
        rows = order[bounds[code + 1] : bounds[code + 2]]
        if rows.size:
            groups[label] = rows
    return dict(sorted(groups.items()))


Groups = dict[str, dict[str, np.ndarray]]
"""Column name -> group key -> row indices: ``"suite"`` and every slice column."""


def slice_groups(traces: pa.Table, slices: list[str]) -> Groups:
    """Row indices per suite and per slice value. They depend only on the suites' requests, so a
    gate computes them once and shares them between both runs and the comparison."""
    names = ["suite", *[s for s in slices if s in traces.column_names and s != "suite"]]
    return {name: group_rows(traces.column(name)) for name in names}


def measure(
    traces: pa.Table,
    tiers: tuple[str, ...],
    slices: list[str],
    *,
    seed: int = DEFAULT_SEED,
    groups: Groups | None = None,
) -> Metrics:
    """Overall, per-suite, per-tier (the tier that answered) and per-slice metrics."""
    groups = groups if groups is not None else slice_groups(traces, slices)
    c = _Columns.of(traces, tiers)
    out: Metrics = {"overall": _metrics(c, slice(None), tiers, seed)}
    out["by_suite"] = {k: _metrics(c, rows, tiers, seed) for k, rows in groups["suite"].items()}
    out["by_tier"] = {
        t: _metrics(c, rows, tiers, seed) for i, t in enumerate(tiers) if (rows := np.flatnonzero(c.tier == i)).size
    }
    out["by_slice"] = {
        name: {k: _metrics(c, rows, tiers, seed) for k, rows in groups[name].items()}
        for name in slices
        if name in groups and name != "suite"
    }
    return out
