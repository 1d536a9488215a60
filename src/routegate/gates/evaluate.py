"""``evaluate_gates``: every gate of a gates file over a comparison, in a fixed order -> ``Verdict``.

Quality is a non-inferiority test of the paired delta (slices Holm-adjusted), then cost,
latency per SLA class, error rate, fast-tier share and the hard privacy gate. docs/gates.md
explains each gate; pure over its inputs.
"""

from __future__ import annotations

import math
from typing import Any

from routegate.arrow.groups import NO_VALUE
from routegate.errors import InputError
from routegate.gates.privacy import privacy_gate
from routegate.gates.result import GateResult, Verdict
from routegate.gates.spec import GatesSpec
from routegate.stats.compare import Comparison
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
    comparison: Comparison,
    spec: GatesSpec,
    candidate: RunResult,
) -> Verdict:
    """Every gate, in a fixed order: quality, slices, cost, latency, errors, fast tier, privacy.

    Pure: ``comparison`` is read, never changed; the non-inferiority p-value of each gated quality
    block is returned in ``Verdict.p_noninferior`` (verdict.json shows it in ``deltas``).
    """
    gates: list[GateResult] = []
    p_values: dict[tuple[str, ...], float] = {}
    deltas = comparison.deltas
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
