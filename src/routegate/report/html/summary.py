"""The top of report.html: the verdict banner, the headline deltas and the baseline-vs-candidate cards."""

from __future__ import annotations

from collections.abc import Mapping
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
    if passed:
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
    return {"passed": passed, "title": "PASSED" if passed else "FAILED", "sentence": sentence}


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
    out = []
    word, cls = judge_change(q["delta"], q["ci95"], higher_is_better=True)
    mde = q.get("mde80")
    out.append(
        {
            "title": "Quality",
            "baseline": show_share(q["baseline"]),
            "candidate": show_share(q["candidate"]),
            "delta": show_points(q["delta"]),
            "ci": show_ci(q["ci95"], show_points),
            "word": word,
            "cls": cls,
            "note": f"paired, {q.get('ci_method', '')}"
            + (
                f"; smallest detectable drop {format_points(stored_number(mde), signed=False)}" if is_known(mde) else ""
            ),
        }
    )
    word, cls = judge_change(cost["delta"], cost["ci95"], higher_is_better=False)
    out.append(
        {
            "title": "$ per 1k",
            "baseline": show_usd(cost["baseline"]),
            "candidate": show_usd(cost["candidate"]),
            "delta": f"{show_signed_usd(cost['delta'])} ({show_percent(cost.get('delta_pct'))})",
            "ci": show_ci(cost["ci95"], show_signed_usd),
            "word": word,
            "cls": cls,
            "note": f"every attempt paid, {cost.get('ci_method', '')}",
        }
    )
    word, cls = judge_change(p95["delta"], p95["ci95"], higher_is_better=False)
    out.append(
        {
            "title": "p95 latency",
            "baseline": show_ms(p95["baseline"]),
            "candidate": show_ms(p95["candidate"]),
            "delta": show_signed_ms(p95["delta"]),
            "ci": show_ci(p95["ci95"], show_signed_ms),
            "word": word,
            "cls": cls,
            "note": f"all requests, {p95.get('ci_method', '')}",
        }
    )
    word, cls = judge_change(err["delta"], err["ci95"], higher_is_better=False)
    out.append(
        {
            "title": "Errors",
            "baseline": show_share(err["baseline"], 2),
            "candidate": show_share(err["candidate"], 2),
            "delta": show_points(err["delta"]),
            "ci": show_ci(err["ci95"], show_points),
            "word": word,
            "cls": cls,
            "note": "requests with no answer after every fallback",
        }
    )
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
