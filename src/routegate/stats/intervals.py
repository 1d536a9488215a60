"""Confidence intervals that stay honest at every suite size.

Small samples get a percentile bootstrap with a fixed, reported seed; large
ones the normal approximation, which is what the bootstrap converges to and
costs nothing (1,000 bootstrap resamples of 1M rows take ~30 s here).
``BOOTSTRAP_MAX_N`` is where one switches to the other; tests check that both
agree near it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
BOOTSTRAP_MAX_N = 2000
"""Samples up to this size are bootstrapped; larger ones use the normal approximation."""
BOOTSTRAP_RESAMPLES = 1000
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
    finite = np.isfinite(x)
    if not finite.all():  # no copy in the usual case
        x = x[finite]
    n = int(x.size)
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), "exact", 0)
    mean = float(x.mean())
    if n < 2 or float(x.max()) == float(x.min()):
        return Interval(mean, mean, mean, "exact", n)
    if n > BOOTSTRAP_MAX_N:
        half = Z95 * float(x.std(ddof=1)) / np.sqrt(n)
        return Interval(mean, mean - half, mean + half, "normal", n)
    means = bootstrap_means(x, seed=seed)
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


def _linear_plan(n: int, qs: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rank below, rank above, weight) of each q, computed as ``np.percentile`` (method ``linear``) does,
    operation for operation, so that :func:`percentiles_from` returns its very floats."""
    virtual = (n - 1) * np.true_divide(qs, 100)
    below = np.floor(virtual)
    above = below + 1
    # np.percentile takes the maximum (index -1) for positions at or past the last element.
    below[virtual >= n - 1] = n - 1
    above[virtual >= n - 1] = n - 1
    return below.astype(np.intp), above.astype(np.intp), virtual - np.where(virtual >= n - 1, -1, below)


def percentile_ranks(n: int, qs: tuple[float, ...]) -> set[int]:
    """The order statistics (0-based ranks) :func:`percentiles_from` reads for a sample of ``n``."""
    below, above, _ = _linear_plan(n, qs)
    return {int(r) for r in (*below, *above)}


def percentiles_from(order: OrderStatistics, qs: tuple[float, ...]) -> dict[str, float]:
    """:func:`percentiles` from order statistics taken earlier (``order`` must hold :func:`percentile_ranks`)."""
    if order.n == 0:
        return {f"p{q:g}": float("nan") for q in qs}
    below, above, gamma = _linear_plan(order.n, qs)
    a = np.array([order.values[int(r)] for r in below], dtype=np.float64)
    b = np.array([order.values[int(r)] for r in above], dtype=np.float64)
    # numpy's _lerp: from below for weights < 0.5, from above otherwise (monotone and exact at the ends).
    diff = b - a
    found = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return {f"p{q:g}": float(v) for q, v in zip(qs, found, strict=True)}


SORT_FROM = 50_000
"""Samples from this size take their order statistics from a full sort (see :class:`OrderStatistics`)."""


@dataclass(frozen=True)
class OrderStatistics:
    """Some order statistics of a sample's finite values: ``values[k]`` is the k-th smallest (0-based).

    One selection serves every rank a caller needs, so a run's summary percentiles and a comparison's
    order-statistic CIs share it. Past ``SORT_FROM`` values a full ``np.sort`` is that selection:
    NumPy's vectorised sort of 1M doubles (~5 ms) beats ``np.partition`` with a dozen ranks (~13 ms).
    """

    n: int
    values: dict[int, float]

    @classmethod
    def of(cls, values: np.ndarray, ranks_for: Callable[[int], set[int]]) -> OrderStatistics:
        """``ranks_for(n)``: the ranks to keep, given the number ``n`` of finite values."""
        x = np.asarray(values, dtype=np.float64)
        if not np.isfinite(x).all():
            x = x[np.isfinite(x)]
        n = int(x.size)
        ranks = sorted(ranks_for(n)) if n else []
        if not ranks:
            part = x
        elif n >= SORT_FROM and len(ranks) > 1:
            part = np.sort(x)
        else:
            part = np.partition(x, ranks)
        return cls(n, {k: float(part[k]) for k in ranks})


Z_ONE_SIDED_95 = 1.6448536269514722
Z_POWER_80 = 0.8416212335729143
Z_ALARM = 2.241402727604947
"""z of the default gates' regression alarm on the overall quality gate (one-sided 1.25%): ``mde80``
is the drop it raises 80% of the time (routegate.gates.evaluate.ALARM_SHARES)."""


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True)
class PairedDelta:
    """Mean of paired differences (candidate - baseline) with its uncertainty."""

    delta: float
    low: float
    high: float
    se: float
    """Standard error of the mean difference (from the bootstrap spread when bootstrapped)."""
    method: str
    n: int
    draws: np.ndarray | None = None
    """The bootstrap means (small n only), kept for one-sided tests on the same resamples."""
    clusters: int | None = None
    """Clusters the interval was computed over (``None``: every request independent)."""
    se_independent: float | None = None
    """With clusters: the standard error if the requests were independent (how much clustering widened it)."""

    def p_noninferior(self, margin: float) -> float:
        """One-sided p-value of H0: true delta <= -margin. Small p: the candidate is not worse by the margin."""
        if self.n == 0:
            return 1.0
        if self.draws is not None:
            return float((np.count_nonzero(self.draws <= -margin) + 1) / (self.draws.size + 1))
        if self.se == 0.0:
            return 0.0 if self.delta > -margin else 1.0
        return normal_sf((self.delta + margin) / self.se)

    def p_worse(self) -> float:
        """One-sided p-value of H0: true delta >= 0. Small p: the candidate is worse (a regression shown)."""
        if self.n == 0:
            return 1.0
        if self.draws is not None:
            return float((np.count_nonzero(self.draws >= 0) + 1) / (self.draws.size + 1))
        if self.se == 0.0:
            return 0.0 if self.delta < 0 else 1.0
        return normal_sf(-self.delta / self.se)

    def mde(self, *, alpha_z: float = Z_ALARM, power_z: float = Z_POWER_80) -> float:
        """Smallest true drop this sample flags as a regression with 80% power at the default gates'
        alarm level on the overall quality gate (one-sided 1.25%): ``(z_a + z_b) * se``."""
        return (alpha_z + power_z) * self.se


def bootstrap_index(n: int, *, seed: int = DEFAULT_SEED, resamples: int = BOOTSTRAP_RESAMPLES) -> np.ndarray:
    """``resamples x n`` row indices drawn with replacement; share one across the metrics of a group."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n), dtype=np.int32)


def paired_mean_delta(
    baseline: np.ndarray, candidate: np.ndarray, *, seed: int = DEFAULT_SEED, index: np.ndarray | None = None
) -> PairedDelta:
    """Paired mean difference over the rows where both values are finite.

    Up to ``BOOTSTRAP_MAX_N`` rows: a seeded percentile bootstrap of the
    differences (``index`` lets several metrics of one group share the same
    resamples; rows with a missing value are left out of each resample's
    mean). Beyond: the normal approximation from the sufficient statistics
    (sum and sum of squares of the differences), exact enough at that size and
    O(n) instead of O(n x resamples).
    """
    b = np.asarray(baseline, dtype=np.float64)
    c = np.asarray(candidate, dtype=np.float64)
    diff = c - b
    finite = np.isfinite(diff)
    all_finite = bool(finite.all())
    d = diff if all_finite else diff[finite]  # no copy in the usual case
    n = int(d.size)
    if n == 0:
        return PairedDelta(float("nan"), float("nan"), float("nan"), float("nan"), "exact", 0)
    mean = float(d.mean())
    if n < 2 or float(d.max()) == float(d.min()):
        return PairedDelta(mean, mean, mean, 0.0, "exact", n)
    if diff.size > BOOTSTRAP_MAX_N:
        se = float(d.std(ddof=1)) / math.sqrt(n)
        return PairedDelta(mean, mean - Z95 * se, mean + Z95 * se, se, "normal", n)
    idx = index if index is not None else bootstrap_index(diff.size, seed=seed)
    if all_finite:
        draws = diff[idx].mean(axis=1)
    else:
        picked = np.where(finite, diff, 0.0)[idx]
        counts = finite[idx].sum(axis=1)
        draws = picked.sum(axis=1) / np.maximum(counts, 1)
    low, high = np.quantile(draws, [0.025, 0.975])
    return PairedDelta(mean, float(low), float(high), float(draws.std(ddof=1)), "bootstrap", n, draws)


def bootstrap_means(
    values: np.ndarray, *, seed: int = DEFAULT_SEED, resamples: int = BOOTSTRAP_RESAMPLES
) -> np.ndarray:
    """Means of ``resamples`` seeded resamples with replacement."""
    index = bootstrap_index(values.size, seed=seed, resamples=resamples)
    means: np.ndarray = np.asarray(values, dtype=np.float64)[index].mean(axis=1)
    return means


def _ci_plan(n: int, q: float) -> tuple[float, int, int, int, int]:
    """(position, rank below, rank above, CI low rank, CI high rank) of percentile ``q`` of ``n`` values.

    The CI's ranks come from the normal approximation to Binomial(n, q/100):
    ``n*p -/+ 1.96*sqrt(n*p*(1-p))``, clipped to the sample.
    """
    p = q / 100.0
    pos = (n - 1) * p
    half = Z95 * math.sqrt(n * p * (1 - p))
    lo_rank = int(max(0, math.floor(n * p - half) - 1))
    hi_rank = int(min(n - 1, math.ceil(n * p + half)))
    return pos, math.floor(pos), math.ceil(pos), lo_rank, hi_rank


def ci_ranks(n: int, qs: tuple[float, ...]) -> set[int]:
    """The order statistics (0-based ranks) :func:`percentiles_with_ci_from` reads for a sample of ``n``."""
    return {r for q in qs for r in _ci_plan(n, q)[1:]}


def percentiles_with_ci_from(order: OrderStatistics, qs: tuple[float, ...]) -> list[tuple[float, float, float]]:
    """:func:`percentiles_with_ci` from order statistics taken earlier (``order`` must hold :func:`ci_ranks`)."""
    if order.n == 0:
        return [(float("nan"), float("nan"), float("nan")) for _ in qs]
    at = order.values
    out = []
    for pos, lo_pos, hi_pos, lo_rank, hi_rank in (_ci_plan(order.n, q) for q in qs):
        estimate = at[lo_pos] + (at[hi_pos] - at[lo_pos]) * (pos - lo_pos)
        out.append((float(estimate), at[lo_rank], at[hi_rank]))
    return out


def percentiles_with_ci(values: np.ndarray, qs: tuple[float, ...]) -> list[tuple[float, float, float]]:
    """Per q: (estimate, low, high): the percentile (linear interpolation, as ``np.percentile``) with a
    distribution-free 95% CI from order statistics (see :func:`_ci_plan`), from one partial sort of the data.
    """
    return percentiles_with_ci_from(OrderStatistics.of(values, lambda n: ci_ranks(n, qs)), qs)


def percentile_ci(values: np.ndarray, q: float) -> tuple[float, float, float]:
    """(estimate, low, high) of one percentile; see :func:`percentiles_with_ci`."""
    return percentiles_with_ci(values, (q,))[0]


@dataclass(frozen=True)
class PercentileDelta:
    baseline: float
    candidate: float
    delta: float
    low: float
    high: float
    method: str


def paired_percentile_deltas(
    baseline: np.ndarray,
    candidate: np.ndarray,
    qs: tuple[float, ...] = (50, 95, 99),
    *,
    seed: int = DEFAULT_SEED,
    index: np.ndarray | None = None,
) -> list[PercentileDelta]:
    """Per q: the two runs' percentiles and the CI of their difference (candidate - baseline).

    Small n: a paired, seeded bootstrap of the difference of percentiles (all
    ``qs`` from the same resamples). Large n: order-statistic CIs of each
    percentile, combined conservatively (``[lo_c - hi_b, hi_c - lo_b]``),
    with no resampling.
    """
    b = np.asarray(baseline, dtype=np.float64)
    c = np.asarray(candidate, dtype=np.float64)
    if not (np.isfinite(b).all() and np.isfinite(c).all()):
        both = np.isfinite(b) & np.isfinite(c)
        b, c, index = b[both], c[both], None
    n = b.size
    nan = float("nan")
    if n == 0:
        return [PercentileDelta(nan, nan, nan, nan, nan, "exact") for _ in qs]
    if n > BOOTSTRAP_MAX_N:
        return order_statistic_deltas(percentiles_with_ci(b, qs), percentiles_with_ci(c, qs))
    pb, pc_ = np.percentile(b, qs), np.percentile(c, qs)
    idx = index if index is not None else bootstrap_index(n, seed=seed)
    draws = np.percentile(c[idx], qs, axis=1) - np.percentile(b[idx], qs, axis=1)
    bounds = np.quantile(draws, [0.025, 0.975], axis=1)
    return [
        PercentileDelta(
            float(pb[k]), float(pc_[k]), float(pc_[k] - pb[k]), float(bounds[0, k]), float(bounds[1, k]), "bootstrap"
        )
        for k in range(len(qs))
    ]


def order_statistic_deltas(
    baseline: list[tuple[float, float, float]], candidate: list[tuple[float, float, float]]
) -> list[PercentileDelta]:
    """Per q, from both runs' :func:`percentiles_with_ci`: the difference, with the two order-statistic CIs
    combined conservatively (``[lo_c - hi_b, hi_c - lo_b]``)."""
    return [
        PercentileDelta(eb, ec, ec - eb, cl - bh, ch - bl, "order-statistics")
        for (eb, bl, bh), (ec, cl, ch) in zip(baseline, candidate, strict=True)
    ]


def paired_percentile_delta(
    baseline: np.ndarray, candidate: np.ndarray, q: float, *, seed: int = DEFAULT_SEED
) -> tuple[float, float, float, str]:
    """(delta, low, high, method) of one percentile; see :func:`paired_percentile_deltas`."""
    d = paired_percentile_deltas(baseline, candidate, (q,), seed=seed)[0]
    return d.delta, d.low, d.high, d.method
