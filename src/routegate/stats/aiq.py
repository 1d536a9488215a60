"""RouterBench's multi-model metrics (Hu et al. 2024): the non-decreasing upper convex hull and its AIQ.

Each single-model policy is a (cost, quality) point; a random split between
two models reaches every point of the segment between them, so the
non-decreasing upper convex hull of the points is what random mixtures of
single models achieve. ``AIQ`` is the mean height of that hull over the cost
range. Pure functions of numpy arrays; docs/metrics.md defines every number
with its source.
"""

from __future__ import annotations

import numpy as np


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
