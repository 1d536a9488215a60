"""RouteLLM's two-model metrics (Ong et al. 2024): PGR, APGR and CPT, and the router curves they are read from.

With a strong and a weak model, a router that sends a share ``s`` of requests
to the strong one scores ``q(s)``. ``PGR = (q - q_weak) / (q_strong - q_weak)``;
``APGR`` is the area under PGR over the strong-call share in [0, 1];
``CPT(x)`` is the smallest strong-call share whose PGR reaches ``x``. The
random router and the per-request oracle are whole curves, computed exactly
here (every threshold, not a 10-bin sweep). Pure functions of numpy arrays;
docs/metrics.md defines every number with its source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
