"""Power planning: what a policy's suites can resolve, before any change is gated (``routegate power``).

The paired delta of a future change depends on the change; what the suites allow can still be
planned. The model: a change re-routes a share ``changed`` of the requests, and on those the two
answers are as different as two independent draws of the policy's own quality (the variance of a
difference of two uncorrelated answers, ``2 var(q)``); on the others nothing changes. Then the
standard error of the mean delta over ``n`` scored requests is ``sqrt(changed * 2 var(q) / n)``, and

- **resolves**: the smallest margin an equal-quality change passes 80% of the time,
  ``(z_(1-alpha) + z_0.8) * se``;
- **detects**: the smallest drop raised as a regression 80% of the time, ``(z_alarm + z_0.8) * se``;
- **needed**: the scored requests at which ``resolves`` reaches the gate's margin, ``n (resolves / margin)^2``.

A planning estimate, not a measurement: a real comparison's own figures (``mde80``, ``n_needed``)
are in its verdict. Answers that agree more than independent draws (the usual case) need fewer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from routegate.arrow.groups import NO_VALUE
from routegate.stats.intervals import Z_POWER_80
from routegate.stats.summary import RunResult


@dataclass(frozen=True)
class PowerRow:
    """What one quality gate (overall or a slice value) can resolve on the suites."""

    gate: str
    """The gate's name, as in verdict.json (``quality``, ``quality[task_type=code]``)."""
    n: int
    """Scored requests."""
    margin: float
    resolves: float
    """The smallest margin an equal-quality change passes at, 80% of the time."""
    detects: float
    """The smallest drop raised as a regression, 80% of the time."""
    needed: int | None
    """Scored requests at which ``resolves`` reaches ``margin`` (``None``: no spread to plan from)."""

    @property
    def enough(self) -> bool:
        """Whether the suites resolve the margin now."""
        return self.resolves <= self.margin


def _z(one_sided: float) -> float:
    return NormalDist().inv_cdf(1 - one_sided)


def requests_to_resolve(n: int, se: float, margin: float, alpha: float) -> int | None:
    """Scored requests at which an equal-quality change passes at ``margin`` 80% of the time, from ``se``
    over ``n``: ``(z_(1-alpha) + z_0.8) * se`` shrinks as 1/sqrt(n) until it reaches the margin
    (``None``: no spread to plan from, or no margin)."""
    reach = (_z(alpha) + Z_POWER_80) * se
    if margin <= 0 or not math.isfinite(reach) or reach <= 0:
        return None
    return math.ceil(n * (reach / margin) ** 2)


def _row(gate: str, quality: np.ndarray, margin: float, changed: float, alpha: float, z_alarm: float) -> PowerRow:
    scored = quality[np.isfinite(quality)]
    n = int(scored.size)
    if n < 2:
        return PowerRow(gate, n, margin, math.inf, math.inf, None)
    se = math.sqrt(changed * 2 * float(scored.var(ddof=1)) / n)
    needed = requests_to_resolve(n, se, margin, alpha)
    return PowerRow(gate, n, margin, (_z(alpha) + Z_POWER_80) * se, (z_alarm + Z_POWER_80) * se, needed)


def power_rows(
    result: RunResult,
    *,
    margin: float,
    slice_margin: float | None,
    min_n: int,
    alpha: float,
    alarm: float,
    slice_alarm: float,
    changed: float = 0.5,
) -> list[PowerRow]:
    """The overall quality gate, then every slice value that would be gated (at least ``min_n`` scored
    requests, not every request, not the no-value group). ``alpha``: the non-inferiority level;
    ``alarm``, ``slice_alarm``: the overall and the slices' regression alarm levels (the slices' split
    over their number, Bonferroni: the strictest Holm step)."""
    quality = result.columns.quality
    rows = [_row("quality", quality, margin, changed, alpha, _z(alarm))]
    if slice_margin is None:
        return rows
    everyone = int(np.isfinite(quality).sum())
    candidates = []
    for column, groups in result.groups.items():
        if column == "suite":
            continue
        for value, where in groups.items():
            picked = quality[where]
            n = int(np.isfinite(picked).sum())
            if value != NO_VALUE and min_n <= n < everyone:
                candidates.append((f"quality[{column}={value}]", picked))
    z_slice = _z(slice_alarm / max(1, len(candidates)))
    rows += [_row(name, picked, slice_margin, changed, alpha, z_slice) for name, picked in candidates]
    return rows
