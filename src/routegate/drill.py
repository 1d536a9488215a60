"""Outage drills, as named steps: replay a policy under fault scenarios and measure what still works.

    parse scenarios -> no-fault run -> resolve scenarios (built-ins from the no-fault run)
    -> one replay per scenario (``FaultInjector`` around the run's provider)
    -> resilience report (``stats.resilience``) -> privacy and resilience gates (``gates.resilience``)

``drill_policy`` is ``routegate drill`` (and ``run --scenario``); ``drill_both`` is the drill of
``routegate gate --scenario``. docs/faults.md documents the scenarios and resilience.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from routegate.engine.replay import policy_models
from routegate.engine.run import replay_suite
from routegate.errors import InputError
from routegate.faults.builtin import BUILTIN, builtin_scenarios
from routegate.faults.injector import FaultInjector, FaultStats
from routegate.faults.scenario import Scenario, load_scenario
from routegate.gates.resilience import resilience_gates, with_privacy
from routegate.gates.result import GateResult
from routegate.gates.spec import ResilienceGates
from routegate.load.policy import Policy
from routegate.load.suite import Suite
from routegate.pipeline import RunOptions, run_policy
from routegate.stats.resilience import ScenarioRun, provider_calls, resilience_report
from routegate.stats.summary import RunResult

ScenarioArg = Scenario | str
"""A loaded scenario file, or a built-in name (``builtin`` or one scenario) resolved after the no-fault run."""


def parse_scenario_args(args: Sequence[str], policies: Sequence[Policy]) -> list[ScenarioArg]:
    """``--scenario`` values: a file (loaded and checked now, before any work) or a built-in name."""
    out: list[ScenarioArg] = []
    for arg in args:
        if Path(arg).is_file() or arg.startswith("git:"):
            scenario = load_scenario(arg, policies[0].catalog)
            out.append(scenario)
        elif arg == BUILTIN or ("-" in arg and not arg.endswith((".yaml", ".yml"))):
            out.append(arg)
        else:
            raise InputError.single(arg, "no such scenario file; give a YAML file, 'builtin' or a built-in name")
    return out


def used_providers(policies: Sequence[Policy]) -> list[str]:
    """Providers of the models the policies' tiers use, sorted."""
    return sorted({p.catalog.provider_of(m) for p in policies for t in p.spec.tiers.values() for m in t.models})


def run_span_ms(suites: Sequence[Suite]) -> float:
    """The longest arrival span of the suites (each suite is its own stream of traffic)."""
    spans = [0.0]
    for s in suites:
        arrival = s.examples.column("arrival_ms").to_numpy(zero_copy_only=False)
        if arrival.size:
            spans.append(float(np.max(arrival) - np.min(arrival)))
    return max(spans)


def resolve_scenarios(
    args: Sequence[ScenarioArg], policies: Sequence[Policy], no_fault: RunResult, suites: Sequence[Suite]
) -> list[Scenario]:
    """Built-in names expanded (from ``no_fault``, the run of the policy under test); files as loaded."""
    calls = provider_calls(no_fault.runs, no_fault.policy.catalog)
    busiest = max(sorted(calls), key=lambda p: calls[p]) if calls else None
    builtins = builtin_scenarios(used_providers(policies), busiest, run_span_ms(suites))
    by_name = {s.name: s for s in builtins}
    out: list[Scenario] = []
    for arg in args:
        if isinstance(arg, Scenario):
            out.append(arg)
        elif arg == BUILTIN:
            out += builtins
        elif arg in by_name:
            out.append(by_name[arg])
        else:
            raise InputError.single(
                arg, f"unknown scenario {arg!r}: not a file, and the built-in names are: {', '.join(by_name)}"
            )
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError.single(",".join(dupes), "the same scenario name is given twice")
    return out


def drill_scenario(
    policy: Policy, suites: Sequence[Suite], scenario: Scenario, options: RunOptions, no_fault: RunResult
) -> ScenarioRun:
    """Replay ``policy`` over ``suites`` with ``scenario`` injected around the run's provider."""
    # The no-fault run's suites carry the request attributes the pipeline derived (detected PII):
    # a drill must route exactly the requests the plan saw.
    del suites
    models = policy_models(policy.spec)
    stats = FaultStats()
    runs = []
    for base in no_fault.runs:
        suite = base.suite
        injector = FaultInjector(
            options.provider(suite, models, policy),
            scenario,
            policy.catalog,
            policy.spec.fallback.retry,
            policy.spec.fallback.circuit_breaker,
            arrival_ms=suite.examples.column("arrival_ms").to_numpy(zero_copy_only=False),
            salt=suite.name,
        )
        runs.append(replay_suite(policy, suite, injector, plan=base.replay.plan, on_step=options.on_step))
        stats.merge(injector.stats)
    traces = pa.concat_tables([r.traces for r in runs], promote_options="default")
    return ScenarioRun(scenario, tuple(runs), traces, stats)


# ---------------------------------------------------------------------- pure measurements


def drill_policy(
    policy: Policy,
    suites: Sequence[Suite],
    scenarios: Sequence[ScenarioArg],
    options: RunOptions | None = None,
    no_fault: RunResult | None = None,
    *,
    policies_for_builtins: Sequence[Policy] | None = None,
) -> dict[str, Any]:
    """The whole drill of one policy: resolve the scenarios, replay each one, report (resilience.json).

    ``no_fault``: the policy's run over ``suites`` without faults, when the caller has it already.
    """
    options = options or RunOptions()
    no_fault = no_fault if no_fault is not None else run_policy(policy, suites, options)
    resolved = resolve_scenarios(scenarios, policies_for_builtins or [policy], no_fault, suites)
    runs = [drill_scenario(policy, suites, s, options, no_fault) for s in resolved]
    return with_privacy(resilience_report(no_fault, runs), runs)


def drill_both(
    baseline: Policy,
    candidate: Policy,
    suites: Sequence[Suite],
    scenarios: Sequence[ScenarioArg],
    options: RunOptions,
    base_run: RunResult,
    cand_run: RunResult,
    spec: ResilienceGates,
) -> tuple[dict[str, Any], list[GateResult]]:
    """The gate's drills: both policies under the same scenarios (built-ins from the candidate's
    no-fault run and the providers of both policies); gates on the candidate, reported for both."""
    resolved = resolve_scenarios(scenarios, [candidate, baseline], cand_run, suites)
    reports = {}
    for side, policy, run in (("baseline", baseline, base_run), ("candidate", candidate, cand_run)):
        runs = [drill_scenario(policy, suites, s, options, run) for s in resolved]
        reports[side] = with_privacy(resilience_report(run, runs), runs)
    gates = resilience_gates(spec, reports["candidate"])
    block = {
        "scenarios": [s.name for s in resolved],
        **reports,
        "baseline_gates": [g.to_json() for g in resilience_gates(spec, reports["baseline"])],
    }
    return block, gates
