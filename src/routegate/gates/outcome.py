"""``GateOutcome``: what a gate decided, with the two runs and the comparison behind it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from routegate.gates.result import Verdict
from routegate.stats.compare import Comparison
from routegate.stats.summary import RunResult


@dataclass(frozen=True)
class GateOutcome:
    """What ``routegate gate`` decided, and everything its reports show."""

    baseline: RunResult
    """The baseline's run over the suites."""
    candidate: RunResult
    """The candidate's run over the same suites."""
    comparison: Comparison
    """The paired comparison (``stats.compare.compare_runs``) with its notable ``examples`` set."""
    verdict: Verdict
    """Every gate's result; truthy when all passed."""
    gates_source: str
    """Where the gates came from: a file, or ``(defaults)``."""
    points: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """verdict.json's ``single_models``: each fully recorded single-model policy (``frontier``)."""
    resilience: dict[str, Any] | None = None
    """verdict.json's ``resilience`` block when the gate ran with ``--scenario`` (see docs/faults.md)."""
