"""Paired mean deltas over clusters of correlated requests (a suite's ``cluster`` column).

The turns of one conversation or the questions on one passage are not independent: treating them as
such narrows every interval. ``clustered_mean_delta`` resamples (or sums) whole clusters instead, and
keeps the independent-requests error beside it so that reports can say how much clustering widened it.
"""

from __future__ import annotations

import math

import numpy as np

from routegate.stats.intervals import BOOTSTRAP_MAX_N, DEFAULT_SEED, Z95, PairedDelta, bootstrap_index


def clustered_mean_delta(
    baseline: np.ndarray,
    candidate: np.ndarray,
    clusters: np.ndarray,
    *,
    seed: int = DEFAULT_SEED,
    index: np.ndarray | None = None,
) -> PairedDelta:
    """Paired mean difference whose uncertainty respects clusters of correlated requests.

    ``clusters``: a compact code ``0..G-1`` per row (``np.unique(..., return_inverse=True)``). Up to
    ``BOOTSTRAP_MAX_N`` rows, a seeded percentile bootstrap of whole clusters (``index``: ``resamples x G``
    cluster indices, shared by the metrics of a group); beyond, the cluster-robust (sandwich) standard
    error ``sqrt(G / (G - 1) * sum_g S_g^2) / n`` with ``S_g`` the cluster's sum of centred differences.
    Rows with a missing value count in neither. ``se_independent`` is the unclustered error, for reports.
    """
    diff = np.asarray(candidate, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    finite = np.isfinite(diff)
    d = np.where(finite, diff, 0.0)
    n = int(finite.sum())
    if n == 0:
        return PairedDelta(float("nan"), float("nan"), float("nan"), float("nan"), "exact", 0)
    mean = float(d.sum() / n)
    values = diff[finite]
    if n < 2 or float(values.max()) == float(values.min()):
        return PairedDelta(mean, mean, mean, 0.0, "exact", n)
    g = int(clusters.max()) + 1 if clusters.size else 0
    sums = np.bincount(clusters, weights=d, minlength=g)
    counts = np.bincount(clusters, weights=finite.astype(np.float64), minlength=g)
    used = int(np.count_nonzero(counts))
    independent = float(values.std(ddof=1)) / math.sqrt(n)
    if used < 2:
        return PairedDelta(mean, float("nan"), float("nan"), float("nan"), "clustered", n, None, used, independent)
    if diff.size > BOOTSTRAP_MAX_N:
        centred = sums - mean * counts
        se = math.sqrt(used / (used - 1) * float(np.dot(centred, centred))) / n
        return PairedDelta(mean, mean - Z95 * se, mean + Z95 * se, se, "clustered normal", n, None, used, independent)
    idx = index if index is not None else bootstrap_index(g, seed=seed)
    totals = counts[idx].sum(axis=1)
    draws = sums[idx].sum(axis=1) / np.maximum(totals, 1)
    low, high = np.quantile(draws, [0.025, 0.975])
    se = float(draws.std(ddof=1))
    return PairedDelta(mean, float(low), float(high), se, "cluster bootstrap", n, draws, used, independent)
