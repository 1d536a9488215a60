"""The hard privacy gate: no attempt may send a PII request to an external model (docs/privacy.md)."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from routegate.engine.run import SuiteRun
from routegate.gates.result import GateResult
from routegate.units import Unit

MAX_LISTED_BREACHES = 50


class HasRuns(Protocol):
    """A run (``RunResult``) or a drill's scenario run: anything with per-suite runs."""

    @property
    def runs(self) -> tuple[SuiteRun, ...]: ...


def privacy_gate(candidate: HasRuns, *, name: str = "privacy", context: str = "") -> GateResult:
    """Zero attempts may send a PII request to an external model: counted from attempts actually made.

    ``candidate`` is any result with ``runs`` (a run, or a drill's scenario run); ``context``
    ends the reason (e.g. "if together is down for 2 hours").
    """
    leaks: list[dict[str, Any]] = []
    total = 0
    for run in candidate.runs:
        t = run.traces
        mask = np.asarray(t.column("privacy_breach").to_numpy(zero_copy_only=False), dtype=bool)
        total += int(mask.sum())
        for i in np.flatnonzero(mask)[: MAX_LISTED_BREACHES - len(leaks)]:
            attempt = int(run.replay.breach_attempt[i])
            calls = run.replay.attempts
            row = np.flatnonzero(
                (calls.column("request").to_numpy() == i) & (calls.column("attempt").to_numpy() == attempt)
            )[0]
            leaks.append(
                {
                    "suite": run.suite.name,
                    "example_id": t.column("example_id")[int(i)].as_py(),
                    "attempt": attempt,
                    "kind": calls.column("kind")[int(row)].as_py(),
                    "model": calls.column("model")[int(row)].as_py(),
                }
            )
    suffix = f" {context}" if context else ""
    if total == 0:
        return GateResult(
            name, True, 0, 0, f"no attempt sent a PII request to an external model{suffix}", unit=Unit.COUNT
        )
    first = leaks[0]
    reason = (
        f"{total} request(s) with PII reached an external model{suffix}; first: {first['suite']}/{first['example_id']} "
        f"on attempt {first['attempt']} ({first['kind']}) to {first['model']}"
    )
    details = {"breaches": leaks, "listed": len(leaks), "total": total}
    return GateResult(name, False, total, 0, reason, details=details, unit=Unit.COUNT)
