"""The gate results on report.html: the gates table and the resilience table.

Both read the typed gate results (:class:`~routegate.gates.result.GateResult`), not verdict.json's
gate dicts: a result carries the unit of its observed value and threshold
(:class:`~routegate.units.Unit`), which verdict.json leaves out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from routegate.gates.result import GateResult
from routegate.report.html.cells import show_ms, show_percent, show_points, show_share, show_signed_ms, stored_number
from routegate.report.svg import clean_text
from routegate.units import MISSING, Unit, format_count, format_significant

MAX_GATE_ROWS = 100
"""Gates listed (failed first); verdict.json lists them all."""
RESILIENCE_PREFIX = "resilience."
"""Names of the gates of drills start so; the scenario follows in brackets."""


def show_gate_value(value: object, unit: Unit) -> str:
    """A gate's observed value or threshold in ``unit``; text as is, MISSING for None or a non-finite number.

    Points, percent, milliseconds and shares (with two decimals) as such; a count or a plain number:
    an int with thousands separators, a float with 4 significant digits.
    """
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return clean_text(value)
    if isinstance(value, float):
        value = stored_number(value)
    if not math.isfinite(value):
        return MISSING
    if unit is Unit.POINTS:
        return show_points(value)
    if unit is Unit.PERCENT:
        return show_percent(value)
    if unit is Unit.MS:
        return show_ms(value)
    if unit is Unit.SHARE:
        return show_share(value, 2)
    if isinstance(value, int):
        return format_count(value)
    return format_significant(value, 4)


def gates_table(gates: Sequence[GateResult]) -> dict[str, Any]:
    """The gates section: failed first, then inconclusive, passed, not gated (each in verdict order), capped."""
    rank = {"failed": 0, "inconclusive": 1, "passed": 2, "not gated": 3}
    rows = [
        {
            "name": g.name,
            "status": g.status,
            "observed": show_gate_value(g.observed, g.unit),
            "threshold": show_gate_value(g.threshold, g.unit),
            "reason": str(g.reason),
        }
        for g in gates
    ]
    rows = [r for _, r in sorted(enumerate(rows), key=lambda ir: (rank[ir[1]["status"]], ir[0]))]
    counts = Counter(r["status"] for r in rows)
    return {
        "rows": rows[:MAX_GATE_ROWS],
        "more": max(0, len(rows) - MAX_GATE_ROWS),
        "total": len(rows),
        "failed": counts["failed"],
        "passed": counts["passed"],
        "skipped": counts["not gated"],
        "inconclusive": counts["inconclusive"],
        "failed_names": [r["name"] for r in rows if r["status"] == "failed"],
        "inconclusive_names": [r["name"] for r in rows if r["status"] == "inconclusive"],
    }


def resilience_table(verdict: Mapping[str, Any], gates: Sequence[GateResult]) -> dict[str, Any] | None:
    """The resilience section (gate with --scenario): one row per scenario, both policies; text only."""
    block = verdict.get("resilience")
    if not block:
        return None
    base = {s["name"]: s for s in block["baseline"]["scenarios"]}
    failed = {
        g.name.split("[", 1)[1].rstrip("]") for g in gates if g.name.startswith(RESILIENCE_PREFIX) and not g.passed
    }
    rows = []
    for s in block["candidate"]["scenarios"]:
        b = base.get(s["name"], {})
        rows.append(
            {
                "name": s["name"],
                "status": "failed" if s["name"] in failed else "passed",
                "avail_b": show_share(b.get("availability"), 2),
                "avail_c": show_share(s["availability"], 2),
                "q_b": show_points(b.get("quality_delta")),
                "q_c": show_points(s["quality_delta"]),
                "cost_b": show_percent(b.get("cost_delta_pct")),
                "cost_c": show_percent(s["cost_delta_pct"]),
                "p95_c": show_signed_ms(s["p95_delta_ms"]),
                "trips": format_count(int(s["breaker_trips"])),
                "sentence": s["sentence"],
                "sentence_b": b.get("sentence", ""),
            }
        )
    return {"rows": rows, "failed": len(failed)}
