"""The run, the gate and the drill, as short lists of named steps; steps are put on threads here alone.

    run:   load suites -> detect PII -> plan -> check coverage -> replay + score -> measure -> literature
    gate:  run both policies -> compare (paired) -> evaluate gates -> drill both (with --scenario)
    drill: no-fault run -> resolve scenarios -> one replay per scenario (``FaultInjector`` around the
           run's provider) -> resilience report -> privacy and resilience gates

``run_policy`` is what ``routegate run`` calls, ``gate_policies`` ``routegate gate`` and
``drill_policy`` ``routegate drill`` (and ``run --scenario``). Each step is a function of its
inputs, testable alone (see the modules named below); only loading and the provider touch the
outside world. docs/architecture.md draws the layers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from routegate.arrow.groups import Groups
from routegate.engine.chains import policy_models
from routegate.engine.coverage import OnMissing, check_coverage
from routegate.engine.detection import seen_by
from routegate.engine.plan import plan_tiers
from routegate.engine.replay import StepHook
from routegate.engine.run import replay_suite
from routegate.errors import InputError
from routegate.faults.injector import FaultInjector, FaultStats
from routegate.faults.resolve import ScenarioArg, resolve_scenarios
from routegate.faults.scenario import Scenario
from routegate.gates.evaluate import evaluate_gates
from routegate.gates.outcome import GateOutcome
from routegate.gates.resilience import resilience_gates, with_privacy
from routegate.gates.result import GateResult
from routegate.gates.spec import GatesSpec, ResilienceGates, check_slice_columns
from routegate.load.policy import Policy
from routegate.load.suite import Suite, load_suite
from routegate.providers.base import Provider
from routegate.providers.recorded import RecordedProvider
from routegate.stats.compare import Comparison, compare_runs
from routegate.stats.frontier import single_model_points
from routegate.stats.intervals import DEFAULT_SEED
from routegate.stats.notable import notable_examples
from routegate.stats.resilience import ScenarioRun, provider_calls, resilience_report
from routegate.stats.summary import RunResult, add_literature, suite_groups, summarise_run

ProviderFactory = Callable[[Suite, tuple[str, ...], Policy], Provider]
"""Builds the provider one replay asks: (suite, the run's model ids, the policy being replayed)."""


def recorded_provider(suite: Suite, models: tuple[str, ...], policy: Policy) -> Provider:
    """The default provider: answers from the suite's recordings."""
    return RecordedProvider.from_suite(suite, models)


@dataclass(frozen=True)
class RunOptions:
    """How a run replays: shared by ``run``, ``gate`` and ``drill``."""

    on_missing: OnMissing = "error"
    """``error``: stop before any work when a needed recording is missing; ``skip``: count those calls as failed."""
    seed: int = DEFAULT_SEED
    """Seed of every bootstrap; reported in the summary."""
    provider: ProviderFactory = recorded_provider
    """Builds the provider each suite's replay asks."""
    recorded: bool = True
    """Whether answers come from the suites' recordings. A live run needs none: no missing-recording
    check, and the summary reports ``missing_recordings: null``."""
    on_step: StepHook | None = None
    """Progress hook, called after each replay step."""


def load_suites(paths: Sequence[str | Path]) -> list[Suite]:
    """Load every suite once (``load_suite``); the same suite twice is bad input."""
    suites = [load_suite(p) for p in paths]
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise InputError.single(",".join(str(p) for p in paths), "the same suite is given twice")
    return suites


def replay_policy(
    policy: Policy, suites: Sequence[Suite], options: RunOptions | None = None, *, groups: Groups | None = None
) -> RunResult:
    """Detect PII where needed, plan, check coverage, replay and score each suite, measure: a
    ``RunResult`` without the literature metrics (``run_policy`` adds them). ``groups``: from
    an earlier run over the same suites (``suite_groups``)."""
    options = options or RunOptions()
    suites = seen_by(policy, suites)
    plans = [plan_tiers(suite.examples, policy.spec, memo=suite.memo) for suite in suites]
    missing = check_coverage(policy, suites, options.on_missing, plans) if options.recorded else None
    models = policy_models(policy.spec)
    runs = [
        replay_suite(policy, suite, options.provider(suite, models, policy), plan=plan, on_step=options.on_step)
        for suite, plan in zip(suites, plans, strict=True)
    ]
    return summarise_run(
        policy, suites, runs, seed=options.seed, on_missing=options.on_missing, missing=missing, groups=groups
    )


def run_policy(
    policy: Policy, suites: Sequence[Suite], options: RunOptions | None = None, *, groups: Groups | None = None
) -> RunResult:
    """Replay ``policy`` over every suite and summarise it, literature metrics included (``routegate run``)."""
    options = options or RunOptions()
    return add_literature(replay_policy(policy, suites, options, groups=groups), options.seed)


def run_policy_writing_traces(
    policy: Policy, suites: Sequence[Suite], options: RunOptions, write: Callable[[pa.Table], None]
) -> RunResult:
    """``run_policy``, with ``write(traces)`` (traces.parquet, compressed) on a second thread while the
    literature metrics are computed; a failed write raises here."""
    result = replay_policy(policy, suites, options)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="traces") as pool:
        written = pool.submit(write, result.traces)
        result = add_literature(result, options.seed)
        written.result()
    return result


def prepare_recorded(policy: Policy, suites: Sequence[Suite]) -> None:
    """Derive now the recorded provider's columns of each suite (memoised per suite), which every
    recorded run of ``policy`` over ``suites`` reads."""
    for suite in seen_by(policy, suites):
        RecordedProvider.from_suite(suite, ())


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
    """Run both policies over the same loaded suites, compare them paired, evaluate the gates (and
    drill each of ``scenarios``)."""
    options = options or RunOptions()
    check_slice_columns(gates, list(dict.fromkeys(c for s in suites for c in s.slice_columns)), gates_source)
    groups = suite_groups(suites)
    if options.recorded:
        base, cand, comparison, points = _run_and_compare_concurrently(baseline, candidate, suites, options, groups)
    else:  # live runs stay sequential: they share rate limits
        base = run_policy(baseline, suites, options, groups=groups)
        cand = run_policy(candidate, suites, options, groups=groups)
        points = single_model_points(seen_by(candidate, suites), candidate, seed=options.seed)
        comparison = dataclasses.replace(
            compare_runs(base, cand, seed=options.seed), examples=notable_examples(base, cand)
        )
    verdict = evaluate_gates(comparison, gates, cand, gates_source)
    resilience = None
    if scenarios:
        resilience, extra = drill_both(baseline, candidate, suites, scenarios, options, base, cand, gates.resilience)
        verdict = dataclasses.replace(verdict, gates=verdict.gates + tuple(extra))
    return GateOutcome(base, cand, comparison, verdict, gates_source, points, resilience)


def _run_and_compare_concurrently(
    baseline: Policy, candidate: Policy, suites: Sequence[Suite], options: RunOptions, groups: Groups
) -> tuple[RunResult, RunResult, Comparison, list[dict[str, Any]]]:
    """The recorded gate's steps on two threads (numpy and Arrow release the GIL; suite-level work
    is computed once, whichever run asks first: ``Suite.memoised``). The second thread derives the
    recorded provider's columns and replays the baseline while this one replays the candidate
    (whose progress the line follows); then the second thread compares while this one adds both
    runs' literature metrics, the single-model points and the notable examples."""
    quiet = dataclasses.replace(options, on_step=None)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="baseline") as pool:
        pool.submit(prepare_recorded, baseline, suites)
        pending = pool.submit(replay_policy, baseline, suites, quiet, groups=groups)
        cand = replay_policy(candidate, suites, options, groups=groups)
        base = pending.result()
        comparing = pool.submit(compare_runs, base, cand, seed=options.seed)
        cand, base = add_literature(cand, options.seed), add_literature(base, options.seed)
        points = single_model_points(seen_by(candidate, suites), candidate, seed=options.seed)
        examples = notable_examples(base, cand)
        comparison = dataclasses.replace(comparing.result(), examples=examples)
    return base, cand, comparison, points


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
    calls = provider_calls(no_fault.runs, no_fault.policy.catalog)
    resolved = resolve_scenarios(scenarios, policies_for_builtins or [policy], calls, suites)
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
    calls = provider_calls(cand_run.runs, cand_run.policy.catalog)
    resolved = resolve_scenarios(scenarios, [candidate, baseline], calls, suites)
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
