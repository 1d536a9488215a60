"""The top of report.html: the verdict banner, the headline deltas and the baseline-vs-candidate cards."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from routegate.report.html.cells import (
    is_known,
    judge_change,
    show_ci,
    show_ms,
    show_percent,
    show_points,
    show_share,
    show_signed_ms,
    show_signed_usd,
    show_usd,
    stored_number,
)
from routegate.units import format_count, format_points


def policy_label(policy: Mapping[str, Any]) -> str:
    """A policy as "name version"."""
    return f"{policy.get('name', '?')} {policy.get('version', '')}".strip()


def banner(verdict: Mapping[str, Any], gates: Mapping[str, Any], n: int) -> dict[str, Any]:
    """PASSED or FAILED and one sentence: which policies, how many requests, which gates failed."""
    base = policy_label(verdict["baseline"]["policy"])
    cand = policy_label(verdict["candidate"]["policy"])
    passed = bool(verdict.get("passed"))
    skipped = f" ({gates['skipped']} not gated)" if gates["skipped"] else ""
    unsure = gates["inconclusive_names"]
    if passed and unsure:
        listed = ", ".join(unsure[:3]) + (f" and {len(unsure) - 3} more" if len(unsure) > 3 else "")
        sentence = (
            f"The candidate {cand} fails none of {gates['total'] - gates['skipped']} gates against the baseline "
            f"{base} on {format_count(n)} requests{skipped}, but the suites cannot tell for {len(unsure)}: "
            f"{listed} (inconclusive: not shown met, not shown missed)."
        )
    elif passed:
        sentence = (
            f"The candidate {cand} passes all {gates['total'] - gates['skipped']} gates against the baseline "
            f"{base} on {format_count(n)} requests{skipped}."
        )
    else:
        names = gates["failed_names"][:3]
        more = f" and {len(gates['failed_names']) - 3} more" if len(gates["failed_names"]) > 3 else ""
        sentence = (
            f"The candidate {cand} fails {gates['failed']} of {gates['total']} gates against the baseline "
            f"{base} on {format_count(n)} requests: {', '.join(names)}{more}."
        )
    title = "FAILED" if not passed else f"PASSED, {len(unsure)} INCONCLUSIVE" if unsure else "PASSED"
    return {"passed": passed, "unsure": bool(unsure), "title": title, "sentence": sentence}


def headline(overall: Mapping[str, Any]) -> str:
    """The headline deltas: quality in points, cost per request in percent, p95 latency in ms."""
    q, cost, p95 = overall["quality"], overall["cost_per_1k_usd"], overall["latency_ms"]["p95"]
    return (
        f"Quality {show_points(q['delta'])}, cost {show_percent(cost.get('delta_pct'))} per request, "
        f"p95 latency {show_signed_ms(p95['delta'])} (candidate − baseline)."
    )


def cards(overall: Mapping[str, Any]) -> list[dict[str, str]]:
    """Quality, $ per 1k, p95 latency, errors and PII breaches: both values, the delta and its CI."""
    q, cost, err = overall["quality"], overall["cost_per_1k_usd"], overall["error_rate"]
    p95 = overall["latency_ms"]["p95"]
    breaches = overall["privacy_breaches"]
    mde = q.get("mde80")
    detectable = (
        f"; smallest detectable drop {format_points(stored_number(mde), signed=False)}" if is_known(mde) else ""
    )
    out = [
        _card(
            "Quality",
            q,
            show_share,
            show_points(q["delta"]),
            show_points,
            f"paired, {q.get('ci_method', '')}{detectable}",
            higher_is_better=True,
        ),
        _card(
            "$ per 1k",
            cost,
            show_usd,
            f"{show_signed_usd(cost['delta'])} ({show_percent(cost.get('delta_pct'))})",
            show_signed_usd,
            f"every attempt paid, {cost.get('ci_method', '')}",
        ),
        _card(
            "p95 latency",
            p95,
            show_ms,
            show_signed_ms(p95["delta"]),
            show_signed_ms,
            f"all requests, {p95.get('ci_method', '')}",
        ),
        _card(
            "Errors",
            err,
            lambda x: show_share(x, 2),
            show_points(err["delta"]),
            show_points,
            "requests with no answer after every fallback",
        ),
    ]
    b, c = int(breaches.get("baseline") or 0), int(breaches.get("candidate") or 0)
    out.append(
        {
            "title": "PII breaches",
            "baseline": format_count(b),
            "candidate": format_count(c),
            "delta": format_count(c - b, signed=True),
            "ci": "",
            "word": "none" if c == 0 else "breach",
            "cls": "good" if c == 0 else "bad",
            "note": "PII requests sent to an external model (hard gate: zero)",
        }
    )
    return out


def _card(
    title: str,
    block: Mapping[str, Any],
    show: Callable[[Any], str],
    delta: str,
    show_delta: Callable[[Any], str],
    note: str,
    *,
    higher_is_better: bool = False,
) -> dict[str, Any]:
    """One card of a paired figure: both values (``show``), the delta and its CI (``show_delta``), the pill."""
    word, cls = judge_change(block["delta"], block["ci95"], higher_is_better=higher_is_better)
    return {
        "title": title,
        "baseline": show(block["baseline"]),
        "candidate": show(block["candidate"]),
        "delta": delta,
        "ci": show_ci(block["ci95"], show_delta),
        "word": word,
        "cls": cls,
        "note": note,
    }
