"""``routegate gate`` as one function: replay both policies, compare, gate; and the verdict's JSON.

verdict.json's schema is documented in docs/reports.md; ``VERDICT_SCHEMA``
changes only when a field is removed or changes meaning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from routegate.gates.spec import GatesSpec, Verdict, evaluate_gates
from routegate.load.policy import Policy
from routegate.load.suite import Suite
from routegate.pipeline import (
    RunOptions,
    RunResult,
    add_literature,
    prepare_recorded,
    run_policy,
    seen_by,
    suite_groups,
)
from routegate.stats.compare import compare_runs, notable_examples
from routegate.stats.frontier import single_model_points

if TYPE_CHECKING:  # the fault machinery is imported only by gates with --scenario
    from routegate.drill import ScenarioArg

VERDICT_SCHEMA = 1


@dataclass(frozen=True)
class GateOutcome:
    baseline: RunResult
    candidate: RunResult
    comparison: dict[str, Any]
    verdict: Verdict
    gates_source: str
    points: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """verdict.json's ``single_models``: each fully recorded single-model policy (``frontier``)."""
    resilience: dict[str, Any] | None = None
    """verdict.json's ``resilience`` block when the gate ran with ``--scenario`` (see docs/faults.md)."""


def gate_policies(
    baseline: Policy,
    candidate: Policy,
    suites: Sequence[Suite],
    gates: GatesSpec,
    *,
    gates_source: str = "(defaults)",
    options: RunOptions | None = None,
    scenarios: Sequence[ScenarioArg] = (),
) -> GateOutcome:
    """Replay both policies over the same loaded suites, pair, compare and gate (and drill each ``scenarios``)."""
    options = options or RunOptions()
    groups = suite_groups(suites)
    if options.recorded:
        # Two independent replays of the same loaded suites, on two threads: numpy and Arrow
        # release the GIL, and suite-level work is computed once whichever run asks first
        # (``Suite.memoised``). The second thread first derives the recorded provider's columns
        # (``prepare_recorded``) while this one plans. Once both runs are replayed, the second
        # thread compares them while this one derives the per-model outcomes and, from them, both
        # runs' literature metrics and the single-model points, then lists the notable examples
        # (about as much work as the paired deltas, at 1M requests). The progress line follows the
        # candidate. Live runs stay sequential: they share rate limits.
        quiet = dataclasses.replace(options, on_step=None)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="baseline") as pool:
            pool.submit(prepare_recorded, baseline, suites)
            pending = pool.submit(run_policy, baseline, suites, quiet, groups=groups, literature_now=False)
            cand = run_policy(candidate, suites, options, groups=groups, literature_now=False)
            base = pending.result()
            comparing = pool.submit(compare_runs, base, cand, seed=options.seed, examples=False)
            cand, base = add_literature(cand, options.seed), add_literature(base, options.seed)
            points = single_model_points(seen_by(candidate, suites), candidate, seed=options.seed)
            examples = notable_examples(base, cand)  # before waiting for the comparison
            comparison = {**comparing.result(), "examples": examples}
    else:
        base = run_policy(baseline, suites, options, groups=groups)
        cand = run_policy(candidate, suites, options, groups=groups)
        points = single_model_points(seen_by(candidate, suites), candidate, seed=options.seed)
        comparison = compare_runs(base, cand, seed=options.seed)
    verdict = evaluate_gates(comparison, gates, cand)
    resilience = None
    if scenarios:
        from routegate.drill import drill_both

        resilience, extra = drill_both(baseline, candidate, suites, scenarios, options, base, cand, gates.resilience)
        verdict = Verdict(verdict.gates + tuple(extra))
    return GateOutcome(base, cand, comparison, verdict, gates_source, points, resilience)


def verdict_json(outcome: GateOutcome, gates: GatesSpec) -> dict[str, Any]:
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
