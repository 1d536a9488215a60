"""``evaluate_gates``: every gate of a gates file over a comparison, in a fixed order -> ``Verdict``.

Quality is a three-way test of the paired delta (passed: non-inferior; failed: a regression
shown; inconclusive: neither), overall then per slice, then cost,
latency per SLA class, error rate, fast-tier share and the hard privacy gate. docs/gates.md
explains each gate; pure over its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from routegate.arrow.groups import NO_VALUE
from routegate.gates.privacy import privacy_gate
from routegate.gates.result import GateResult, Verdict
from routegate.gates.spec import GatesSpec, SliceQualityGate, check_slice_columns
from routegate.stats.compare import Comparison
from routegate.stats.intervals import Z95, PairedDelta, normal_sf
from routegate.stats.multiplicity import benjamini_hochberg, holm
from routegate.stats.power import requests_to_resolve
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


@dataclass(frozen=True)
class _QualityTest:
    """What one quality gate is held to."""

    margin: float
    alpha: float
    """One-sided level of the non-inferiority test (``1 - confidence``)."""
    alarm: float
    """One-sided level of the regression alarm (adjusted p-values are compared with it)."""
    strict: bool
    """An inconclusive gate fails (``on_inconclusive: fail``)."""
    adjusted: str = ""
    """How the alarm's p-value was adjusted, for the reason (``""``: not adjusted)."""


def _p(p: float) -> str:
    """A p-value as a reason shows it: ``p<0.001`` below that (the exact figure is in ``details``)."""
    return "p<0.001" if p < 0.001 else f"p={format_significant(p, 2)}"


def _quality_gate(name: str, block: dict[str, Any], test: _QualityTest, p_ni: float, p_worse: float) -> GateResult:
    """Passed (non-inferiority shown), failed (a regression shown: significant, estimate beyond the
    margin) or inconclusive (neither)."""
    q = block["quality"]
    margin = test.margin
    if q["n_paired"] == 0:
        return GateResult(name, True, None, -margin, "no scored requests: not gated", skipped=True, unit=Unit.POINTS)
    observed, (low, high), mde = q["delta"], q["ci95"], q["mde80"]
    ci = f"95% CI {format_points(low)} to {format_points(high)}"
    m = format_points(margin, signed=False)
    adjusted = f", {test.adjusted}" if test.adjusted else ""
    details = {
        "ci95": q["ci95"],
        "p_value": p_ni,
        "p_regression": p_worse,
        "mde80": mde,
        "n": q["n_paired"],
        "method": q["ci_method"],
    }
    if q.get("clusters") is not None and q.get("se_independent"):
        widened = q["se"] / q["se_independent"]
        details |= {"clusters": q["clusters"], "widening": widened}
        if q["clusters"] < q["n_paired"] and f"{widened:.2f}" != "1.00":  # said only where it changed something
            ci += f", over {q['clusters']:,} clusters of related requests: {widened:.2f}x as wide as if independent"
    if p_ni < test.alpha:
        p_text = _p(p_ni)
        reason = f"quality {format_points(observed)} ({ci}); not worse by more than {m} ({p_text})"
        return GateResult(name, True, observed, -margin, reason, details=details, unit=Unit.POINTS)
    if observed < -margin and p_worse < test.alarm:
        reason = (
            f"quality dropped {format_points(-observed, signed=False)} ({ci}), more than the {m} margin; "
            f"a significant drop ({_p(p_worse)}{adjusted})"
        )
        return GateResult(name, False, observed, -margin, reason, details=details, unit=Unit.POINTS)
    needed = requests_to_resolve(int(q["n_paired"]), q["se"], margin, test.alpha)
    details["n_needed"] = needed
    if needed is not None and needed <= q["n_paired"]:  # the suite resolves the margin: the change sits near it
        why = (
            f"the estimate is {'within' if observed >= -margin else 'beyond'} the {m} margin but its interval "
            f"reaches {'beyond' if observed >= -margin else 'inside'} it: a change near the margin, not a "
            "question of suite size"
        )
    else:
        why = (
            f"cannot rule out a drop of more than {m}, nor shows one; this suite detects drops of "
            f"{format_points(mde, signed=False)} or more (80% power)"
            + (f"; about {needed:,} scored requests would resolve {m}" if needed else "")
        )
    reason = f"inconclusive: quality {format_points(observed)} ({ci}): {why}" + (
        " (on_inconclusive: fail)" if test.strict else ""
    )
    return GateResult(
        name, not test.strict, observed, -margin, reason, details=details, inconclusive=True, unit=Unit.POINTS
    )


ALARM_SHARES = {"quality": 0.5, "quality slices": 0.2, "cost": 0.2, "latency": 0.1}
"""How the regression alarms share their level, half of ``1 - quality.confidence`` (2.5% by default):
the overall quality gate 1.25%, the slice gates together 0.5%, cost 0.5%, the p95 increases together
0.25%. They add up to the level, so an equal candidate trips any of them at most that often
(Bonferroni over the four); half, not all, of the 5%, so that the measured false-alarm rate stays
under 5% on small suites too, where the intervals are approximate (docs/gates.md)."""


def alarm_level(alpha: float, family: str) -> float:
    """The one-sided level of one family's regression alarm (``ALARM_SHARES``)."""
    return alpha / 2 * ALARM_SHARES[family]


@dataclass(frozen=True)
class _Increase:
    """A paired increase (cost, p95 latency) against an allowance in percent of the baseline."""

    name: str
    what: str
    base: float
    cand: float
    se: float
    """Standard error of the paired delta, in the values' unit."""
    ci95: tuple[float, float]
    limit_pct: float

    @property
    def limit(self) -> float:
        return self.base * self.limit_pct / 100

    def p_within(self) -> float:
        """One-sided p of H0: the increase is at least the allowance (small: shown within it)."""
        delta = self.cand - self.base
        if self.se == 0:
            return 0.0 if delta < self.limit else 1.0
        return normal_sf((self.limit - delta) / self.se)

    def p_more(self) -> float:
        """One-sided p of H0: no increase (above a negative allowance: the saving asked for) (small: shown)."""
        delta, floor = self.cand - self.base, min(0.0, self.limit)
        if self.se == 0:
            return 0.0 if delta > floor else 1.0
        return normal_sf((delta - floor) / self.se)


def _increase_gate(
    inc: _Increase, alpha: float, alarm: float, p_more: float, strict: bool, show: Callable[[float], str]
) -> GateResult:
    """Three-way, like quality: passed when the data show the increase within the allowance (one-sided
    ``alpha``); failed when its estimate is beyond the allowance and a real increase is shown
    (``p_more``, adjusted by the caller, below ``alarm``); inconclusive otherwise."""
    base, cand = inc.base, inc.cand
    if base == 0:  # no percentage of nothing: the candidate must cost (or take) nothing too
        reason = f"{inc.what} {show(base)} -> {show(cand)} (the baseline's is 0: the candidate's must be 0)"
        return GateResult(inc.name, cand == 0, None, inc.limit_pct, reason, unit=Unit.PERCENT)
    pct = (cand - base) / base * 100
    low, high = (v / base * 100 for v in inc.ci95)
    if not all(math.isfinite(v) for v in (pct, low, high, inc.se)):
        reason = f"{inc.what} {show(base)} -> {show(cand)}: nothing to compare: not gated"
        return GateResult(inc.name, True, None, inc.limit_pct, reason, skipped=True, unit=Unit.PERCENT)
    said = (
        f"{inc.what} {show(base)} -> {show(cand)} ({format_percent(pct)}, 95% CI {format_percent(low)} to "
        f"{format_percent(high)}; allowed up to {format_percent(inc.limit_pct)})"
    )
    details = {"ci95_pct": [low, high], "p_value": inc.p_within(), "p_regression": p_more}
    if inc.p_within() < alpha:
        return GateResult(inc.name, True, pct, inc.limit_pct, said, details=details, unit=Unit.PERCENT)
    if pct > inc.limit_pct and p_more < alarm:
        reason = f"{said}: beyond the allowance, a significant increase ({_p(p_more)})"
        return GateResult(inc.name, False, pct, inc.limit_pct, reason, details=details, unit=Unit.PERCENT)
    reason = f"inconclusive: {said}: the suite cannot rule out more than the allowance, nor shows it" + (
        " (on_inconclusive: fail)" if strict else ""
    )
    return GateResult(
        inc.name, not strict, pct, inc.limit_pct, reason, details=details, inconclusive=True, unit=Unit.PERCENT
    )


def _delta_of(block: dict[str, Any]) -> PairedDelta:
    q = block["quality"]
    return PairedDelta(q["delta"], q["ci95"][0], q["ci95"][1], q["se"], q["ci_method"], q["n_paired"])


def _slice_gates(
    deltas: dict[str, Any], sg: SliceQualityGate, alpha: float, strict: bool, p_values: dict[tuple[str, ...], float]
) -> list[GateResult]:
    """One gate per slice value: non-inferiority unadjusted (every slice must pass on its own: an
    intersection-union test), the regression alarms adjusted over the gated slices (``sg.multiplicity``)."""
    columns = sg.columns if sg.columns is not None else tuple(deltas["by_slice"])
    everyone = deltas["overall"]["quality"]["n_paired"]
    entries: list[tuple[str, tuple[str, ...], dict[str, Any], str | None]] = []
    for col in columns:
        for value, block in deltas["by_slice"][col].items():
            n_paired = block["quality"]["n_paired"]
            why_not = (
                "requests with no value in this column (suites without it)"
                if value == NO_VALUE
                else f"every scored request has {col}={value}: the overall gate already tests them"
                if n_paired == everyone
                else f"only {n_paired} scored requests (< {sg.min_n})"
                if n_paired < sg.min_n
                else None
            )
            entries.append((f"quality[{col}={value}]", ("by_slice", col, value), block, why_not))
    gated = {path: _delta_of(block) for _, path, block, why_not in entries if why_not is None}
    adjust = holm if sg.multiplicity == "holm" else benjamini_hochberg
    p_worse = iter(adjust([d.p_worse() for d in gated.values()]))
    how = "Holm" if sg.multiplicity == "holm" else "Benjamini-Hochberg"
    alarm = alarm_level(alpha, "quality slices")
    test = _QualityTest(sg.margin, alpha, alarm, strict, f"{how}-adjusted over {len(gated)} slice gates")
    out = []
    for name, path, block, why_not in entries:
        if why_not is not None:
            delta = block["quality"]["delta"]
            out.append(
                GateResult(
                    name, True, delta, -sg.margin, f"{why_not}: reported, not gated", skipped=True, unit=Unit.POINTS
                )
            )
            continue
        p_ni = gated[path].p_noninferior(sg.margin)
        p_values[path] = p_ni
        out.append(_quality_gate(name, block, test, p_ni, next(p_worse)))
    return out


def evaluate_gates(
    comparison: Comparison,
    spec: GatesSpec,
    candidate: RunResult,
    gates_source: str = "(defaults)",
) -> Verdict:
    """Every gate, in a fixed order: quality, slices, cost, latency, errors, fast tier, privacy.
    ``gates_source``: where ``spec`` came from, for the position of a slice column the suites lack.

    Pure: ``comparison`` is read, never changed; the non-inferiority p-value of each gated quality
    block is returned in ``Verdict.p_noninferior`` (verdict.json shows it in ``deltas``).
    """
    gates: list[GateResult] = []
    p_values: dict[tuple[str, ...], float] = {}
    deltas = comparison.deltas
    overall = deltas["overall"]
    alpha = 1 - spec.quality.confidence
    strict = spec.on_inconclusive == "fail"
    margin = spec.quality.margin
    whole = _delta_of(overall)
    p = whole.p_noninferior(margin) if overall["quality"]["n_paired"] else 1.0
    p_values["overall",] = p
    test = _QualityTest(margin, alpha, alarm_level(alpha, "quality"), strict)
    gates.append(_quality_gate("quality", overall, test, p, whole.p_worse()))
    if spec.quality.slices is not None:
        check_slice_columns(spec, list(deltas["by_slice"]), gates_source)
        gates += _slice_gates(deltas, spec.quality.slices, alpha, strict, p_values)

    if spec.cost is not None:
        cost = overall["cost_per_1k_usd"]
        inc = _Increase(
            "cost",
            "$ per 1k requests",
            cost["baseline"],
            cost["candidate"],
            cost["se"],
            tuple(cost["ci95"]),
            spec.cost.max_increase_pct,
        )
        alarm = alarm_level(alpha, "cost")
        gates.append(_increase_gate(inc, alpha, alarm, inc.p_more(), strict, lambda v: format_number(v, 4)))

    if spec.latency is not None:
        by_sla = deltas["by_slice"].get("sla", {})
        increases: list[_Increase] = []
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
                low, high = p95["ci95"]
                increases.append(
                    _Increase(
                        f"latency_p95_increase[{sla_class}]",
                        f"p95 latency of {sla_class} requests",
                        p95["baseline"],
                        p95["candidate"],
                        (high - low) / (2 * Z95),  # the percentile interval read as a normal one
                        (low, high),
                        spec.latency.max_p95_increase_pct,
                    )
                )
        alarm = alarm_level(alpha, "latency")
        for inc, p_more in zip(increases, holm([i.p_more() for i in increases]), strict=True):
            gates.append(_increase_gate(inc, alpha, alarm, p_more, strict, format_ms))
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
