"""Step 5 of the pipeline: aggregate traces overall, per suite, per tier and per slice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from routegate.stats import DEFAULT_SEED, mean_ci, percentiles

Metrics = dict[str, Any]

_NUMERIC = ["quality", "cost_usd", "latency_ms", "escalated", "fell_back", "error", "privacy_breach", "confidence_missing"]


def group_metrics(frame: pd.DataFrame, tiers: tuple[str, ...], *, seed: int = DEFAULT_SEED) -> Metrics:
    """Every summary figure of one group of requests."""
    n = len(frame)
    quality = mean_ci(frame["quality"].to_numpy(dtype=np.float64), seed=seed)
    cost = float(frame["cost_usd"].sum())
    answered = ~frame["error"].to_numpy(dtype=bool)
    final_tier = frame["final_tier"].to_numpy(dtype=object)
    mix = {t: (float(np.count_nonzero(answered & (final_tier == t)) / n) if n else 0.0) for t in tiers}
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
        "latency_ms": percentiles(frame["latency_ms"].to_numpy(dtype=np.float64)),
        "tier_mix": mix,
        "escalation_rate": float(frame["escalated"].mean()) if n else 0.0,
        "fallback_rate": float(frame["fell_back"].mean()) if n else 0.0,
        "error_rate": float(frame["error"].mean()) if n else 0.0,
        "privacy_breaches": int(frame["privacy_breach"].sum()),
        "privacy_breach_rate": float(frame["privacy_breach"].mean()) if n else 0.0,
        "confidence_missing": int(frame["confidence_missing"].sum()),
    }


def _frame(traces: pa.Table, extra: list[str]) -> pd.DataFrame:
    columns = ["suite", "final_tier", *_NUMERIC, *[c for c in extra if c not in ("suite", "final_tier")]]
    return traces.select(columns).to_pandas()


def _key(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(none)"
    return str(value)


def measure(traces: pa.Table, tiers: tuple[str, ...], slices: list[str], *, seed: int = DEFAULT_SEED) -> Metrics:
    """Overall, per-suite, per-tier (tier that answered) and per-slice metrics."""
    frame = _frame(traces, [s for s in slices if s in traces.column_names])
    out: Metrics = {"overall": group_metrics(frame, tiers, seed=seed)}
    out["by_suite"] = {
        _key(k): group_metrics(g, tiers, seed=seed) for k, g in sorted(frame.groupby("suite", sort=True), key=lambda kv: _key(kv[0]))
    }
    out["by_tier"] = {
        t: group_metrics(frame[frame["final_tier"] == t], tiers, seed=seed) for t in tiers if (frame["final_tier"] == t).any()
    }
    by_slice: dict[str, dict[str, Metrics]] = {}
    for name in slices:
        if name not in frame.columns:
            continue
        groups = [(_key(k), g) for k, g in frame.groupby(name, sort=False, dropna=False)]
        by_slice[name] = {k: group_metrics(g, tiers, seed=seed) for k, g in sorted(groups, key=lambda kv: kv[0])}
    out["by_slice"] = by_slice
    return out
