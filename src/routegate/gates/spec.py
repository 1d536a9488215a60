"""Step 7 of the pipeline: gate rules from a gates file -> a ``Verdict``.

docs/gates.md documents every gate. Quality gates are non-inferiority tests:
the candidate passes when the data show, at the configured confidence, that
its quality is not worse than the baseline's by more than the margin. Slice
gates are corrected for multiplicity with Holm's step-down method. The
privacy gate is hard: zero breaches, always on.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
from pydantic import Field

from routegate.arrow.groups import NO_VALUE
from routegate.engine.run import SuiteRun
from routegate.errors import InputError
from routegate.gates.result import GateResult as GateResult  # re-exported: moved to gates.result
from routegate.gates.result import Verdict as Verdict
from routegate.load.schema import Frozen, validate_document
from routegate.load.sources import parse_source
from routegate.load.yamlsource import parse_yaml
from routegate.stats.intervals import PairedDelta, holm
from routegate.stats.summary import RunResult
from routegate.units import (
    Unit,
    format_ms,
    format_number,
    format_percent,
    format_points,
    format_share,
    format_significant,
)

MAX_LISTED_BREACHES = 50


class SliceQualityGate(Frozen):
    """Non-inferiority per slice value (e.g. per task type)."""

    columns: tuple[str, ...] | None = None
    """Slice columns to gate; default: every slice of the suites."""
    margin: float = Field(default=0.03, ge=0, le=1)
    """Largest acceptable drop in mean quality per slice value (0.03 = 3 points)."""
    min_n: int = Field(default=300, ge=1)
    """Slice values with fewer paired requests are reported but not gated."""


class QualityGate(Frozen):
    margin: float = Field(default=0.01, ge=0, le=1)
    """Largest acceptable drop in overall mean quality (0.01 = 1 point)."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    """One-sided confidence of the non-inferiority test."""
    slices: SliceQualityGate | None = SliceQualityGate()
    """Per-slice gates; ``null`` turns them off."""


class CostGate(Frozen):
    max_increase_pct: float = Field(default=10.0, ge=-100)
    """Largest acceptable increase in $ per 1k requests, in percent of the baseline's."""


class LatencyGate(Frozen):
    p95_ms: dict[str, float] = {}
    """Absolute p95 latency ceiling per SLA class (ms)."""
    max_p95_increase_pct: float | None = Field(default=25.0, ge=0)
    """Largest acceptable p95 increase vs the baseline, per SLA class; ``null`` turns it off."""


class ErrorGate(Frozen):
    max_rate: float = Field(default=0.01, ge=0, le=1)
    """Largest acceptable share of requests that got no answer."""


class FastTierGate(Frozen):
    tier: str = "fast"
    min_share: float = Field(ge=0, le=1)
    """Smallest acceptable share of requests answered by ``tier``."""


class ResilienceRule(Frozen):
    """Resilience limits of one scenario; an unset field takes the section's default."""

    min_availability: float | None = Field(default=None, ge=0, le=1)
    max_quality_drop: float | None = Field(default=None, ge=0, le=1)
    max_cost_increase_pct: float | None = Field(default=None, ge=-100)


class ResilienceGates(Frozen):
    """Gates on fault drills (``--scenario``), evaluated on the candidate; docs/faults.md."""

    min_availability: float | None = Field(default=0.99, ge=0, le=1)
    """Smallest acceptable share of requests answered under each scenario; ``null``: not gated."""
    max_quality_drop: float | None = Field(default=0.05, ge=0, le=1)
    """Largest acceptable drop in mean quality vs the no-fault run (0.05 = 5 points); ``null``: not gated."""
    max_cost_increase_pct: float | None = Field(default=100.0, ge=-100)
    """Largest acceptable increase in $ per 1k requests under a price-shock scenario; ``null``: not gated."""
    scenarios: dict[str, ResilienceRule] = {}
    """Per-scenario overrides, by scenario name."""

    def for_scenario(self, name: str) -> ResilienceRule:
        own = self.scenarios.get(name, ResilienceRule())
        return ResilienceRule(
            min_availability=own.min_availability if own.min_availability is not None else self.min_availability,
            max_quality_drop=own.max_quality_drop if own.max_quality_drop is not None else self.max_quality_drop,
            max_cost_increase_pct=own.max_cost_increase_pct
            if own.max_cost_increase_pct is not None
            else self.max_cost_increase_pct,
        )


class GatesSpec(Frozen):
    """The contents of a gates file; every section has defaults."""

    quality: QualityGate = QualityGate()
    cost: CostGate | None = CostGate()
    latency: LatencyGate | None = LatencyGate()
    errors: ErrorGate | None = ErrorGate()
    fast_tier: FastTierGate | None = None
    resilience: ResilienceGates = ResilienceGates()
    """Gates on fault drills; only evaluated when the gate runs with ``--scenario``."""


def load_gates(spec: str | None) -> tuple[GatesSpec, str]:
    """Gates from a file (path or git:REF:path), or the defaults; returns (spec, where from)."""
    if spec is None:
        return GatesSpec(), "(defaults)"
    source = parse_source(spec)
    doc = parse_yaml(source.read_text(), source.display)
    return validate_document(GatesSpec, doc), source.display


def _quality_gate(name: str, block: dict[str, Any], margin: float, alpha: float, p: float) -> GateResult:
    q = block["quality"]
    passed = p < alpha
    observed, low = q["delta"], q["ci95"][0]
    mde = q["mde80"]
    if q["n_paired"] == 0:
        return GateResult(name, True, None, -margin, "no scored requests: not gated", skipped=True, unit=Unit.POINTS)
    if passed:
        reason = (
            f"quality {format_points(observed)} (95% CI from {format_points(low)}); "
            f"not worse by more than {format_points(margin, signed=False)} (p={format_significant(p, 3)})"
        )
    elif observed < -margin:
        reason = (
            f"quality dropped {format_points(-observed, signed=False)} (95% CI from {format_points(low)}), "
            f"more than the {format_points(margin, signed=False)} margin"
        )
    else:
        reason = (
            f"cannot rule out a drop of more than {format_points(margin, signed=False)}: "
            f"quality {format_points(observed)}, 95% CI from {format_points(low)} (p={format_significant(p, 3)})"
        )
    if mde > margin:
        reason += f"; this suite detects only drops of {format_points(mde, signed=False)} or more with 80% power"
    details = {"ci95": q["ci95"], "p_value": p, "mde80": mde, "n": q["n_paired"], "method": q["ci_method"]}
    return GateResult(name, passed, observed, -margin, reason, details=details, unit=Unit.POINTS)


def _delta_of(block: dict[str, Any]) -> PairedDelta:
    q = block["quality"]
    return PairedDelta(q["delta"], q["ci95"][0], q["ci95"][1], q["se"], q["ci_method"], q["n_paired"])


def evaluate_gates(
    comparison: dict[str, Any],
    spec: GatesSpec,
    candidate: RunResult,
) -> Verdict:
    """Every gate, in a fixed order: quality, slices, cost, latency, errors, fast tier, privacy.

    Pure: ``comparison`` is read, never changed; the non-inferiority p-value of each gated quality
    block is returned in ``Verdict.p_noninferior`` (verdict.json shows it in ``deltas``).
    """
    gates: list[GateResult] = []
    p_values: dict[tuple[str, ...], float] = {}
    deltas = comparison["deltas"]
    overall = deltas["overall"]
    alpha = 1 - spec.quality.confidence
    margin = spec.quality.margin
    p = _delta_of(overall).p_noninferior(margin) if overall["quality"]["n_paired"] else 1.0
    p_values["overall",] = p
    gates.append(_quality_gate("quality", overall, margin, alpha, p))

    if spec.quality.slices is not None:
        sg = spec.quality.slices
        columns = sg.columns if sg.columns is not None else tuple(deltas["by_slice"])
        unknown = [c for c in columns if c not in deltas["by_slice"]]
        if unknown:
            raise InputError.single(
                "gates",
                f"slice column(s) {', '.join(unknown)} not in the suites; slices: {', '.join(deltas['by_slice'])}",
                "quality.slices.columns",
            )
        family: list[tuple[str, tuple[str, ...], dict[str, Any], float]] = []
        for col in columns:
            for value, block in deltas["by_slice"][col].items():
                name = f"quality[{col}={value}]"
                n_paired = block["quality"]["n_paired"]
                why_not = (
                    "requests with no value in this column (suites without it)"
                    if value == NO_VALUE
                    else f"only {n_paired} scored requests (< {sg.min_n})"
                    if n_paired < sg.min_n
                    else None
                )
                if why_not is not None:
                    skipped = GateResult(
                        name,
                        True,
                        block["quality"]["delta"],
                        -sg.margin,
                        f"{why_not}: reported, not gated",
                        skipped=True,
                        unit=Unit.POINTS,
                    )
                    gates.append(skipped)
                    continue
                raw = _delta_of(block).p_noninferior(sg.margin)
                family.append((name, ("by_slice", col, value), block, raw))
        adjusted = holm([f[3] for f in family])
        for (name, path, block, _), p_adj in zip(family, adjusted, strict=True):
            p_values[path] = p_adj
            result = _quality_gate(name, block, sg.margin, alpha, p_adj)
            gates.append(
                GateResult(
                    result.name,
                    result.passed,
                    result.observed,
                    result.threshold,
                    result.reason + " (Holm-adjusted)",
                    details=result.details,
                    unit=result.unit,
                )
            )

    if spec.cost is not None:
        cost = overall["cost_per_1k_usd"]
        pct = cost["delta_pct"]
        limit = spec.cost.max_increase_pct
        ok = pct is not None and not (isinstance(pct, float) and math.isnan(pct)) and pct <= limit
        if cost["baseline"] == 0:
            ok = cost["candidate"] == 0
        gates.append(
            GateResult(
                "cost",
                ok,
                pct,
                limit,
                f"$ per 1k requests {format_number(cost['baseline'], 4)} -> {format_number(cost['candidate'], 4)} "
                f"({format_percent(pct)}; allowed up to {format_percent(limit)})",
                unit=Unit.PERCENT,
            )
        )

    if spec.latency is not None:
        by_sla = deltas["by_slice"].get("sla", {})
        for sla_class, block in by_sla.items():
            p95 = block["latency_ms"]["p95"]
            ceiling = spec.latency.p95_ms.get(sla_class)
            if ceiling is not None:
                gates.append(
                    GateResult(
                        f"latency_p95[{sla_class}]",
                        p95["candidate"] <= ceiling,
                        p95["candidate"],
                        ceiling,
                        f"p95 {format_ms(p95['candidate'])} for {sla_class} requests (ceiling {format_ms(ceiling)})",
                        unit=Unit.MS,
                    )
                )
            if spec.latency.max_p95_increase_pct is not None:
                base = p95["baseline"]
                pct = (p95["candidate"] - base) / base * 100 if base else 0.0
                limit = spec.latency.max_p95_increase_pct
                gates.append(
                    GateResult(
                        f"latency_p95_increase[{sla_class}]",
                        pct <= limit,
                        pct,
                        limit,
                        f"p95 {format_number(base, grouped=True)} -> {format_ms(p95['candidate'])} "
                        f"({format_percent(pct)}; allowed up to +{format_percent(limit, signed=False)})",
                        unit=Unit.PERCENT,
                    )
                )
        for sla_class in spec.latency.p95_ms:
            if sla_class not in by_sla:
                gates.append(
                    GateResult(
                        f"latency_p95[{sla_class}]",
                        True,
                        None,
                        spec.latency.p95_ms[sla_class],
                        f"no {sla_class} requests in the suites: not gated",
                        skipped=True,
                        unit=Unit.MS,
                    )
                )

    if spec.errors is not None:
        rate = overall["error_rate"]["candidate"]
        gates.append(
            GateResult(
                "errors",
                rate <= spec.errors.max_rate,
                rate,
                spec.errors.max_rate,
                f"{format_share(rate, 2)} of requests got no answer "
                f"(allowed up to {format_share(spec.errors.max_rate, 2)})",
                unit=Unit.SHARE,
            )
        )

    if spec.fast_tier is not None:
        ft = spec.fast_tier
        share = overall["tier_mix"].get(ft.tier, {}).get("candidate", 0.0)
        gates.append(
            GateResult(
                f"tier_share[{ft.tier}]",
                share >= ft.min_share,
                share,
                ft.min_share,
                f"{format_share(share)} of requests answered by the {ft.tier} tier "
                f"(at least {format_share(ft.min_share)} wanted)",
                unit=Unit.SHARE,
            )
        )

    gates.append(privacy_gate(candidate))
    return Verdict(tuple(gates), p_noninferior=p_values)


class HasRuns(Protocol):
    """A run (``RunResult``) or a fault drill's scenario run: anything with per-suite runs."""

    @property
    def runs(self) -> tuple[SuiteRun, ...]: ...


def privacy_gate(candidate: HasRuns, *, name: str = "privacy", context: str = "") -> GateResult:
    """Zero attempts may send a PII request to an external model: counted from attempts actually made.

    ``candidate`` is any result with ``runs`` (a run, or a fault drill's scenario run); ``context``
    ends the reason (e.g. "if together is down for 2 hours").
    """
    leaks: list[dict[str, Any]] = []
    total = 0
    for run in candidate.runs:
        t = run.traces
        mask = np.asarray(t.column("privacy_breach").to_numpy(zero_copy_only=False), dtype=bool)
        total += int(mask.sum())
        for i in np.flatnonzero(mask)[: MAX_LISTED_BREACHES - len(leaks)]:
            attempt = int(run.replay.breach_attempt[i])
            calls = run.replay.attempts
            row = np.flatnonzero(
                (calls.column("request").to_numpy() == i) & (calls.column("attempt").to_numpy() == attempt)
            )[0]
            leaks.append(
                {
                    "suite": run.suite.name,
                    "example_id": t.column("example_id")[int(i)].as_py(),
                    "attempt": attempt,
                    "kind": calls.column("kind")[int(row)].as_py(),
                    "model": calls.column("model")[int(row)].as_py(),
                }
            )
    suffix = f" {context}" if context else ""
    if total == 0:
        return GateResult(
            name, True, 0, 0, f"no attempt sent a PII request to an external model{suffix}", unit=Unit.COUNT
        )
    first = leaks[0]
    reason = (
        f"{total} request(s) with PII reached an external model{suffix}; first: {first['suite']}/{first['example_id']} "
        f"on attempt {first['attempt']} ({first['kind']}) to {first['model']}"
    )
    details = {"breaches": leaks, "listed": len(leaks), "total": total}
    return GateResult(name, False, total, 0, reason, details=details, unit=Unit.COUNT)
