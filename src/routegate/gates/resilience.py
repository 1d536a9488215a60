"""The resilience gates of a drill: privacy under every scenario (always on), and per scenario the
availability, quality and cost rules of the gates file's ``resilience`` section (docs/faults.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from routegate.gates.privacy import privacy_gate
from routegate.gates.result import GateResult
from routegate.gates.spec import ResilienceGates
from routegate.stats.resilience import ScenarioRun
from routegate.units import Unit, format_percent, format_points, format_share, format_share_floor


def with_privacy(report: dict[str, Any], runs: Sequence[ScenarioRun]) -> dict[str, Any]:
    """``report`` (``stats.resilience.resilience_report`` over ``runs``) with each scenario's privacy
    gate as its ``privacy`` entry; ``report`` is not changed."""
    scenarios = []
    for block, run in zip(report["scenarios"], runs, strict=True):
        name, description = run.scenario.name, run.scenario.description
        gate = privacy_gate(run, name=f"resilience.privacy[{name}]", context=f"if {description}")
        scenarios.append({**block, "privacy": gate.to_json()})
    return {**report, "scenarios": scenarios}


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
