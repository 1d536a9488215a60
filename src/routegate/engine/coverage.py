"""Which (model, example) pairs a policy could need, and which of them have no recording.

A request could need every model of its starting tier's chain (fallbacks) and
of every tier its escalation steps can reach within ``max_escalations``.
``routegate run`` checks this before doing any work, so a replay never stops
half-way for want of a recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pyarrow as pa

from routegate.engine.plan import Plan, plan_tiers
from routegate.errors import InputError, Problem
from routegate.load.policy import Policy, PolicySpec
from routegate.load.recordings import RecordingKeys
from routegate.load.suite import Suite

OnMissing = Literal["error", "skip"]
"""A needed recording is missing: stop before any work (``error``) or count the call as failed (``skip``)."""


def reachable_tiers(spec: PolicySpec, start: str) -> list[str]:
    """``start`` and the tiers its escalation steps reach within the bound, in order."""
    can_escalate = any(s.below_confidence > 0 for s in spec.escalation.steps) or bool(spec.escalation.always_for_stakes)
    nxt = {s.from_tier: s.to for s in spec.escalation.steps}
    out = [start]
    while can_escalate and len(out) <= spec.escalation.max_escalations and out[-1] in nxt and nxt[out[-1]] not in out:
        out.append(nxt[out[-1]])
    return out


def needed_models(examples: pa.Table, spec: PolicySpec, plan: Plan | None = None) -> tuple[tuple[str, ...], np.ndarray]:
    """(models, mask): ``mask[i, j]`` is true when request ``i`` could call ``models[j]``."""
    plan = plan if plan is not None else plan_tiers(examples, spec)
    models = tuple(sorted({m for tier in spec.tiers.values() for m in tier.models}))
    index = {m: j for j, m in enumerate(models)}
    per_tier = np.zeros((len(plan.tiers), len(models)), dtype=bool)
    for t, tier in enumerate(plan.tiers):
        for reached in reachable_tiers(spec, tier):
            for model in spec.tiers[reached].models:
                per_tier[t, index[model]] = True
    return models, per_tier[plan.tier]


def needed_pairs(examples: pa.Table, spec: PolicySpec) -> pa.Table:
    """Table (example_id, model) of every pair the policy could call, each pair once."""
    models, mask = needed_models(examples, spec)
    return _pairs(examples, models, mask)


def _pairs(examples: pa.Table, models: tuple[str, ...], mask: np.ndarray) -> pa.Table:
    rows, cols = np.nonzero(mask.T)  # model-major: sorted by model, then example row
    names = pa.array(list(models), pa.string())
    return pa.table(
        {
            "model": names.take(pa.array(rows)),
            "example_id": examples.column("id").take(pa.array(cols)),
        }
    )


def missing_pairs(
    examples: pa.Table,
    recordings: pa.Table,
    spec: PolicySpec,
    *,
    plan: Plan | None = None,
    keys: RecordingKeys | None = None,
) -> pa.Table:
    """Needed (model, example_id) pairs with no recording, sorted by model then example id."""
    keys = keys if keys is not None else RecordingKeys.of(recordings, examples)
    models = tuple(sorted({m for tier in spec.tiers.values() for m in tier.models}))
    n = examples.num_rows
    if len(keys.rows_of(n, models)) == len(models):  # every model recorded for every example
        return _pairs(examples, models, np.zeros((0, len(models)), dtype=bool))
    lacking = keys.index(n, models) < 0
    models, mask = needed_models(examples, spec, plan)
    missing = _pairs(examples, models, mask & lacking)
    if missing.num_rows <= 1:
        return missing
    return missing.sort_by([("model", "ascending"), ("example_id", "ascending")])


def check_coverage(
    policy: Policy, suites: Sequence[Suite], on_missing: OnMissing, plans: Sequence[Plan] | None = None
) -> dict[str, int]:
    """Missing (model, example) pairs per suite; raise ``InputError`` when ``on_missing`` is ``error``
    and some are missing (one problem per suite, listing the first ten pairs)."""
    counts: dict[str, int] = {}
    problems: list[Problem] = []
    for i, suite in enumerate(suites):
        plan = plans[i] if plans is not None else None
        missing = missing_pairs(suite.examples, suite.recordings, policy.spec, plan=plan, keys=suite.recording_keys())
        counts[suite.name] = missing.num_rows
        if missing.num_rows and on_missing == "error":
            head = missing.slice(0, 10)
            listed = ", ".join(
                f"({m}, {e})"
                for m, e in zip(head.column("model").to_pylist(), head.column("example_id").to_pylist(), strict=True)
            )
            problems.append(
                Problem(
                    str(suite.folder / suite.manifest.recordings),
                    0,
                    0,
                    "recordings",
                    f"{missing.num_rows} (model, example) pairs that policy {policy.name!r} could need have no "
                    f"recording; first {head.num_rows}: {listed}. Record them, or pass --on-missing skip to count "
                    "those calls as failed",
                )
            )
    if problems:
        raise InputError(problems)
    return counts
