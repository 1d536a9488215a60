"""Which (model, example) pairs a policy could need, and which of them have no recording.

A request could need every model of its starting tier's chain (fallbacks) and
of every tier its escalation steps can reach within ``max_escalations``.
``routegate run`` checks this before doing any work, so a replay never stops
half-way for want of a recording.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.plan import plan_tiers
from routegate.policy import PolicySpec


def reachable_tiers(spec: PolicySpec, start: str) -> list[str]:
    """``start`` and the tiers its escalation steps reach within the bound, in order."""
    can_escalate = any(s.below_confidence > 0 for s in spec.escalation.steps) or bool(spec.escalation.always_for_stakes)
    nxt = {s.from_tier: s.to for s in spec.escalation.steps}
    out = [start]
    while can_escalate and len(out) <= spec.escalation.max_escalations and out[-1] in nxt and nxt[out[-1]] not in out:
        out.append(nxt[out[-1]])
    return out


def needed_pairs(examples: pa.Table, spec: PolicySpec) -> pa.Table:
    """Table (example_id, model) of every pair the policy could call, each pair once."""
    plan = plan_tiers(examples, spec)
    ids = examples.column("id").combine_chunks()
    parts: list[pa.Table] = []
    for t, tier in enumerate(plan.tiers):
        rows = np.flatnonzero(plan.tier == t)
        if rows.size == 0:
            continue
        models = sorted({m for r in reachable_tiers(spec, tier) for m in spec.tiers[r].models})
        chosen = ids.take(pa.array(rows))
        for model in models:
            parts.append(pa.table({"example_id": chosen, "model": pa.repeat(pa.scalar(model, pa.string()), rows.size)}))
    if not parts:
        return pa.table({"example_id": pa.array([], pa.string()), "model": pa.array([], pa.string())})
    # Each request has one starting tier and each tier's model set is de-duplicated: pairs are unique.
    return pa.concat_tables(parts)


def missing_pairs(examples: pa.Table, recordings: pa.Table, spec: PolicySpec) -> pa.Table:
    """Needed pairs with no recording, sorted by model then example id."""
    need = needed_pairs(examples, spec)
    have = recordings.select(["example_id", "model"]).append_column("_have", pa.array(np.ones(recordings.num_rows, dtype=bool)))
    joined = need.join(have, keys=["example_id", "model"], join_type="left outer")
    missing = joined.filter(pc.is_null(joined.column("_have"))).select(["model", "example_id"])
    return missing.sort_by([("model", "ascending"), ("example_id", "ascending")])
