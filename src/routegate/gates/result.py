"""The outcome of the gates: one ``GateResult`` per gate, and the ``Verdict`` over them.

Plain frozen dataclasses with no dependency but :mod:`routegate.units`, so the reports read
typed results without importing the gate rules (:mod:`routegate.gates.spec`) or the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from routegate.units import Unit


@dataclass(frozen=True)
class GateResult:
    """One gate: passed or not, what was observed against which threshold, and why."""

    name: str
    """The gate's name in verdict.json, e.g. ``quality``, ``quality[task_type=math]``, ``latency_p95[batch]``."""
    passed: bool
    """True when the gate passed (a gate that is not gated passes)."""
    observed: float | int | None
    """The observed value, in ``unit``; None when there was nothing to observe."""
    threshold: float | int | None
    """The limit the observed value is held to, in ``unit``."""
    reason: str
    """One readable line saying what was observed and why the gate passed or failed."""
    skipped: bool = False
    """True when the gate is reported but not gated (too few requests, no such requests)."""
    inconclusive: bool = False
    """True when the data neither show the gate met nor show it missed (a quality gate whose suite
    cannot tell at its margin); ``passed`` then says what the gates file makes of it."""
    details: dict[str, Any] | None = None
    """Extra numbers for verdict.json (interval, p-value, listed breaches), when the gate has them."""
    unit: Unit = field(kw_only=True)
    """The unit of ``observed`` and ``threshold``, for the reports; not in verdict.json."""

    @property
    def status(self) -> str:
        """``failed``, ``inconclusive``, ``not gated`` or ``passed``: what the reports show."""
        if not self.passed:
            return "failed"
        return "inconclusive" if self.inconclusive else "not gated" if self.skipped else "passed"

    def to_json(self) -> dict[str, Any]:
        """The gate as verdict.json lists it (without ``unit``)."""
        out: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "passed": self.passed,
            "skipped": self.skipped,
            "observed": self.observed,
            "threshold": self.threshold,
            "reason": self.reason,
        }
        if self.details is not None:
            out["details"] = self.details
        return out


@dataclass(frozen=True)
class Verdict:
    """Every gate's result, in the order they were evaluated."""

    gates: tuple[GateResult, ...]
    """The results, in verdict.json's order."""
    p_noninferior: Mapping[tuple[str, ...], float] = field(default_factory=dict)
    """The non-inferiority p-value of each gated quality block, by the block's path in the
    comparison's ``deltas`` (``("overall",)``, ``("by_slice", column, value)``; never adjusted: every
    slice must pass on its own): verdict.json fills them into ``deltas``."""

    @property
    def passed(self) -> bool:
        """True when every gate passed."""
        return all(g.passed for g in self.gates)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failed(self) -> list[GateResult]:
        """The gates that failed, in order."""
        return [g for g in self.gates if not g.passed]

    @property
    def inconclusive(self) -> list[GateResult]:
        """The gates whose data could not tell (passed or failed by the gates file), in order."""
        return [g for g in self.gates if g.inconclusive]
