"""Outage drills: replay a policy under fault scenarios and measure what still works.

    resolve scenarios -> no-fault run -> one replay per scenario (FaultInjector around the
    run's provider) -> resilience report (pure) -> resilience gates (pure)

Per scenario, against the no-fault run over the same requests: availability (share of
requests answered), quality, $ per 1k requests and p95 latency, calls, failed calls and
fallbacks per provider, injected errors, retries, breaker trips and short-circuited calls,
and one plain sentence for a product owner. docs/faults.md documents it all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from routegate.engine.replay import FALLBACK, policy_models
from routegate.engine.run import SuiteRun, replay_suite
from routegate.errors import InputError
from routegate.faults.builtin import BUILTIN, builtin_scenarios
from routegate.faults.injector import FaultInjector, FaultStats
from routegate.faults.scenario import Scenario, load_scenario
from routegate.gates.spec import GateResult, ResilienceGates, privacy_gate
from routegate.load.catalog import Catalog
from routegate.load.policy import Policy
from routegate.load.suite import Suite
from routegate.pipeline import RunOptions, run_policy
from routegate.stats.summary import RunResult
from routegate.units import Unit, format_ms, format_percent, format_points, format_share, format_share_floor

RESILIENCE_SCHEMA = 1

ScenarioArg = Scenario | str
"""A loaded scenario file, or a built-in name (``builtin`` or one scenario) resolved after the no-fault run."""


@dataclass(frozen=True)
class ScenarioRun:
    scenario: Scenario
    runs: tuple[SuiteRun, ...]
    traces: pa.Table
    stats: FaultStats


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


def outcome(traces: pa.Table) -> dict[str, Any]:
    """Availability, quality, $ per 1k and p95 of a traces table."""
    n = traces.num_rows
    failed = np.asarray(traces.column("error").to_numpy(zero_copy_only=False), dtype=bool)
    quality = np.asarray(traces.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64)
    cost = traces.column("cost_usd").to_numpy(zero_copy_only=False)
    latency = traces.column("latency_ms").to_numpy(zero_copy_only=False)
    scored = ~np.isnan(quality)
    return {
        "n": n,
        "answered": int(n - failed.sum()),
        "availability": float(1 - failed.mean()) if n else 1.0,
        "quality": float(quality[scored].mean()) if scored.any() else None,
        "cost_per_1k_usd": float(cost.sum() / n * 1000) if n else 0.0,
        "p95_ms": float(np.percentile(latency, 95)) if n else 0.0,
        "privacy_breaches": int(np.count_nonzero(traces.column("privacy_breach").to_numpy(zero_copy_only=False))),
    }


def provider_calls(runs: Sequence[SuiteRun], catalog: Catalog) -> dict[str, int]:
    return {p: v["calls"] for p, v in providers_table(runs, catalog).items()}


def providers_table(runs: Sequence[SuiteRun], catalog: Catalog) -> dict[str, dict[str, int]]:
    """Per provider: calls, failed calls and fallback calls it received (over every suite)."""
    out: dict[str, dict[str, int]] = {}
    for run in runs:
        attempts = run.replay.attempts
        model = attempts.column("model").combine_chunks()
        names = model.dictionary.to_pylist()
        idx = model.indices.to_numpy(zero_copy_only=False)
        error = attempts.column("error").to_numpy() != 0
        kind = attempts.column("kind").combine_chunks().indices.to_numpy(zero_copy_only=False)
        k = len(names)
        calls = np.bincount(idx, minlength=k)
        failed = np.bincount(idx[error], minlength=k)
        fallbacks = np.bincount(idx[kind == FALLBACK], minlength=k)
        for i, m in enumerate(names):
            if not calls[i]:
                continue
            row = out.setdefault(catalog.provider_of(m), {"calls": 0, "failed_calls": 0, "fallbacks_to": 0})
            row["calls"] += int(calls[i])
            row["failed_calls"] += int(failed[i])
            row["fallbacks_to"] += int(fallbacks[i])
    return dict(sorted(out.items()))


def sentence(description: str, s: dict[str, Any]) -> str:
    """The product owner's sentence for one scenario."""
    parts = [f"{format_share_floor(s['availability'])} of requests are still answered"]
    if s["quality_delta"] is not None:
        parts.append(f"quality {format_points(s['quality_delta'], 1)}")
    if s["cost_delta_pct"] is not None:
        parts.append(f"cost {format_percent(s['cost_delta_pct'], 0)}")
    parts.append(f"p95 {format_ms(s['p95_delta_ms'], signed=True)}")
    return f"If {description.rstrip('.')}: " + "; ".join(parts) + "."


def scenario_block(scenario: Scenario, base: dict[str, Any], run: ScenarioRun, catalog: Catalog) -> dict[str, Any]:
    """One scenario of resilience.json: outcome, deltas vs ``base`` (the no-fault outcome), providers, sentence."""
    o = outcome(run.traces)
    dq = None if o["quality"] is None or base["quality"] is None else o["quality"] - base["quality"]
    dc = (
        (o["cost_per_1k_usd"] - base["cost_per_1k_usd"]) / base["cost_per_1k_usd"] * 100
        if base["cost_per_1k_usd"]
        else None
    )
    providers = providers_table(run.runs, catalog)
    st = run.stats
    for name in sorted({*providers, *st.circuit_open, *st.trips, *(p for p, _ in st.injected)}):
        row = providers.setdefault(name, {"calls": 0, "failed_calls": 0, "fallbacks_to": 0})
        row["injected"] = {k: n for (p, k), n in sorted(st.injected.items()) if p == name}  # type: ignore[assignment]
        row["retries"] = st.retries[name]
        row["circuit_open"] = st.circuit_open[name]
        row["breaker_trips"] = st.trips[name]
        row["failed_probes"] = st.failed_probes[name]
    block: dict[str, Any] = {
        "name": scenario.name,
        "description": scenario.description,
        "seed": scenario.seed,
        "price_shock": scenario.price_shock(),
        **o,
        "failed": o["n"] - o["answered"],
        "quality_delta": dq,
        "cost_delta_pct": dc,
        "p95_delta_ms": o["p95_ms"] - base["p95_ms"],
        "providers": dict(sorted(providers.items())),
        "breaker_trips": sum(st.trips.values()),
        "circuit_open_calls": sum(st.circuit_open.values()),
        "retries": sum(st.retries.values()),
        "scenario": scenario.model_dump(mode="json"),
    }
    block["sentence"] = sentence(scenario.description, block)
    gate = privacy_gate(run, name=f"resilience.privacy[{scenario.name}]", context=f"if {scenario.description}")
    block["privacy"] = gate.to_json()
    return block


def resilience_report(no_fault: RunResult, runs: Sequence[ScenarioRun]) -> dict[str, Any]:
    """resilience.json for one policy (pure over the runs)."""
    base = outcome(no_fault.traces)
    catalog = no_fault.policy.catalog
    return {
        "schema_version": RESILIENCE_SCHEMA,
        "policy": {
            "name": no_fault.policy.name,
            "version": no_fault.policy.spec.version,
            "sha256": no_fault.policy.sha256,
        },
        "suites": [{"name": r.suite.name, "version": r.suite.version, "sha256": r.suite.sha256} for r in no_fault.runs],
        "no_fault": {**base, "providers": providers_table(no_fault.runs, catalog)},
        "scenarios": [scenario_block(r.scenario, base, r, catalog) for r in runs],
    }


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
    return resilience_report(no_fault, runs)


# ---------------------------------------------------------------------- gates


def privacy_under_faults(report: dict[str, Any]) -> list[GateResult]:
    """The hard privacy gate under every scenario: no attempt, fallbacks during an outage included,
    may send a PII request to an external model. Always on, with or without a gates file; a failure
    lists the offending example ids (never their text) and the attempt that leaked."""
    return [
        GateResult(
            g["name"],
            g["passed"],
            g["observed"],
            g["threshold"],
            g["reason"],
            details=g.get("details"),
            unit=Unit.COUNT,
        )
        for g in (s["privacy"] for s in report["scenarios"])
    ]


def resilience_gates(spec: ResilienceGates, report: dict[str, Any]) -> list[GateResult]:
    """Per scenario: availability >= minimum, quality drop <= maximum; cost increase under a price shock;
    and always the privacy gate (:func:`privacy_under_faults`)."""
    out: list[GateResult] = privacy_under_faults(report)
    for s in report["scenarios"]:
        rule = spec.for_scenario(s["name"])
        name = s["name"]
        if rule.min_availability is not None:
            a = s["availability"]
            out.append(
                GateResult(
                    f"resilience.availability[{name}]",
                    a >= rule.min_availability,
                    a,
                    rule.min_availability,
                    f"{format_share_floor(a)} of requests answered if {s['description']} "
                    f"(at least {format_share(rule.min_availability, 2)} required)",
                    unit=Unit.NUMBER,
                )
            )
        if rule.max_quality_drop is not None and s["quality_delta"] is not None:
            drop = -s["quality_delta"]
            out.append(
                GateResult(
                    f"resilience.quality[{name}]",
                    drop <= rule.max_quality_drop,
                    -drop,
                    -rule.max_quality_drop,
                    f"quality {format_points(s['quality_delta'])} if {s['description']} "
                    f"(a drop of at most {format_points(rule.max_quality_drop, signed=False)} allowed)",
                    unit=Unit.NUMBER,
                )
            )
        if s["price_shock"] and rule.max_cost_increase_pct is not None and s["cost_delta_pct"] is not None:
            pct = s["cost_delta_pct"]
            out.append(
                GateResult(
                    f"resilience.cost[{name}]",
                    pct <= rule.max_cost_increase_pct,
                    pct,
                    rule.max_cost_increase_pct,
                    f"$ per 1k requests {format_percent(pct)} if {s['description']} "
                    f"(at most {format_percent(rule.max_cost_increase_pct)} allowed)",
                    unit=Unit.NUMBER,
                )
            )
    return out


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
    reports = {
        "baseline": resilience_report(
            base_run, [drill_scenario(baseline, suites, s, options, base_run) for s in resolved]
        ),
        "candidate": resilience_report(
            cand_run, [drill_scenario(candidate, suites, s, options, cand_run) for s in resolved]
        ),
    }
    gates = resilience_gates(spec, reports["candidate"])
    block = {
        "scenarios": [s.name for s in resolved],
        **reports,
        "baseline_gates": [g.to_json() for g in resilience_gates(spec, reports["baseline"])],
    }
    return block, gates
