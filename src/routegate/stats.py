"""Confidence intervals that stay honest at every suite size.

Small samples get a percentile bootstrap with a fixed, reported seed; large
ones the normal approximation, which is what the bootstrap converges to and
costs nothing (1,000 bootstrap resamples of 1M rows take ~30 s here).
``BOOTSTRAP_MAX_N`` is where one switches to the other; tests check that both
agree near it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
BOOTSTRAP_MAX_N = 2000
"""Samples up to this size are bootstrapped; larger ones use the normal approximation."""
BOOTSTRAP_RESAMPLES = 2000
DEFAULT_SEED = 20240101
"""Seed of every bootstrap unless the user gives another; reported in every summary."""


@dataclass(frozen=True)
class Interval:
    """A point estimate with a 95% confidence interval and how it was computed."""

    estimate: float
    low: float
    high: float
    method: str
    """``normal``, ``bootstrap`` or ``exact`` (no spread: every value equal, or n < 2)."""
    n: int


def mean_ci(values: np.ndarray, *, seed: int = DEFAULT_SEED) -> Interval:
    """Mean of the finite values with a 95% CI; NaN estimate when there are none."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), "exact", 0)
    mean = float(x.mean())
    if n < 2 or float(x.max()) == float(x.min()):
        return Interval(mean, mean, mean, "exact", n)
    if n > BOOTSTRAP_MAX_N:
        half = Z95 * float(x.std(ddof=1)) / np.sqrt(n)
        return Interval(mean, mean - half, mean + half, "normal", n)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    means = x[idx].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return Interval(mean, float(low), float(high), "bootstrap", n)


def percentiles(values: np.ndarray, qs: tuple[float, ...] = (50, 95, 99)) -> dict[str, float]:
    """``{"p50": ..., "p95": ..., "p99": ...}`` of the finite values (linear interpolation)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {f"p{q:g}": float("nan") for q in qs}
    found = np.percentile(x, qs)
    return {f"p{q:g}": float(v) for q, v in zip(qs, found, strict=True)}
