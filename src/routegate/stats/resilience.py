"""What still works under a fault scenario: resilience.json's figures, per scenario against the no-fault run.

Per scenario, over the same requests: availability (share of requests answered), quality,
$ per 1k requests and p95 latency, calls, failed calls and fallbacks per provider, injected
errors, retries, breaker trips and short-circuited calls, and one plain sentence for a product
owner. docs/faults.md documents every field. Pure over the runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from routegate.engine.attempts import FALLBACK
from routegate.engine.run import SuiteRun
from routegate.faults.injector import FaultStats
from routegate.faults.scenario import Scenario
from routegate.load.catalog import Catalog
from routegate.stats.summary import RunResult
from routegate.units import format_ms, format_percent, format_points, format_share_floor

RESILIENCE_SCHEMA = 1
"""resilience.json's ``schema_version``: changes only when a field is removed or changes meaning."""


@dataclass(frozen=True)
class ScenarioRun:
    """One policy replayed under one fault scenario."""

    scenario: Scenario
    """The scenario injected."""
    runs: tuple[SuiteRun, ...]
    """One run per suite, in the no-fault run's order."""
    traces: pa.Table
    """The suites' traces one after the other."""
    stats: FaultStats
    """What the injector did: injected errors, retries, breaker trips, short-circuited calls."""


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
    """One scenario of resilience.json: outcome, deltas vs ``base`` (the no-fault outcome), providers,
    sentence (its ``privacy`` gate is added by ``gates.resilience.with_privacy``)."""
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
    return block


def resilience_report(no_fault: RunResult, runs: Sequence[ScenarioRun]) -> dict[str, Any]:
    """resilience.json for one policy (pure over the runs), without the privacy gates
    (``gates.resilience.with_privacy`` adds them)."""
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
