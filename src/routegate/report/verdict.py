"""verdict.json: the gate's decision and every figure behind it, as one JSON document.

Its schema is documented in docs/reports.md; ``VERDICT_SCHEMA`` changes only when a field is
removed or changes meaning.
"""

from __future__ import annotations

from typing import Any

from routegate.gates.outcome import GateOutcome
from routegate.gates.spec import GatesSpec

VERDICT_SCHEMA = 1


def verdict_json(outcome: GateOutcome, gates: GatesSpec) -> dict[str, Any]:
    """verdict.json of ``outcome`` under ``gates``."""
    c = outcome.comparison
    return {
        "schema_version": VERDICT_SCHEMA,
        "passed": outcome.verdict.passed,
        "gates": [g.to_json() for g in outcome.verdict.gates],
        "gates_config": {"source": outcome.gates_source, "spec": gates.model_dump(mode="json")},
        "baseline": c["baseline"],
        "candidate": c["candidate"],
        "suites": c["suites"],
        "seed": c["seed"],
        "tiers": c["tiers"],
        "deltas": c["deltas"],
        "tier_shift": c["tier_shift"],
        "examples": c["examples"],
        "missing_recordings": {
            "baseline": outcome.baseline.summary["missing_recordings"],
            "candidate": outcome.candidate.summary["missing_recordings"],
        },
        "literature": {
            "baseline": outcome.baseline.summary.get("literature", {}),
            "candidate": outcome.candidate.summary.get("literature", {}),
        },
        "single_models": outcome.points,
        **({"resilience": outcome.resilience} if outcome.resilience is not None else {}),
    }
