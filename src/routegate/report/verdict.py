"""verdict.json: the gate's decision and every figure behind it, as one JSON document.

Its schema is documented in docs/gates.md (docs/reports.md: the typed results it is built from,
``GateOutcome.comparison`` and the runs' summaries); ``VERDICT_SCHEMA`` changes only when a field is
removed or changes meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routegate.gates.outcome import GateOutcome
from routegate.gates.spec import GatesSpec

VERDICT_SCHEMA = 1


def verdict_json(outcome: GateOutcome, gates: GatesSpec) -> dict[str, Any]:
    """verdict.json of ``outcome`` under ``gates``."""
    c = outcome.comparison
    if c.examples is None:
        raise ValueError("the comparison has no notable examples (set them from stats.compare.notable_examples)")
    base, cand = outcome.baseline.summary, outcome.candidate.summary
    return {
        "schema_version": VERDICT_SCHEMA,
        "passed": outcome.verdict.passed,
        "gates": [g.to_json() for g in outcome.verdict.gates],
        "gates_config": {"source": outcome.gates_source, "spec": gates.model_dump(mode="json")},
        "baseline": c.baseline,
        "candidate": c.candidate,
        "suites": c.suites,
        "seed": c.seed,
        "tiers": c.tiers,
        "deltas": with_p_values(c.deltas, outcome.verdict.p_noninferior),
        "tier_shift": c.tier_shift,
        "model_shift": c.model_shift,
        "examples": c.examples,
        "missing_recordings": {"baseline": base.missing_recordings, "candidate": cand.missing_recordings},
        "literature": {
            "baseline": base.literature if base.literature is not None else {},
            "candidate": cand.literature if cand.literature is not None else {},
        },
        "single_models": outcome.points,
        **({"resilience": outcome.resilience} if outcome.resilience is not None else {}),
    }


def with_p_values(deltas: dict[str, Any], p_values: Mapping[tuple[str, ...], float]) -> dict[str, Any]:
    """``deltas`` with each gated block's ``quality.p_noninferior`` set from ``p_values`` (by the
    block's path): the blocks on a path are copied, the rest shared; ``deltas`` is not changed."""
    out = dict(deltas)
    for path, p in p_values.items():
        parent = out
        for key in path[:-1]:
            parent[key] = dict(parent[key])
            parent = parent[key]
        block = dict(parent[path[-1]])
        block["quality"] = {**block["quality"], "p_noninferior": p}
        parent[path[-1]] = block
    return out
