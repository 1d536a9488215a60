"""The Pareto frontier of (cost, quality) points: a pure function over numbers (numpy only).

Kept apart from :mod:`routegate.stats.frontier`, which replays single-model policies, so that a
report can draw the frontier without importing the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated (lower or equal cost and higher or equal quality), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best = -np.inf
    front: list[int] = []
    for i in order:
        _cost, quality = points[i]
        if np.isfinite(quality) and quality > best:
            front.append(i)
            best = quality
    return front
