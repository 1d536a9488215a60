"""The resilience section of summary.md (``routegate gate --scenario``) and of ``routegate drill``'s summary.

One table per policy: per scenario the share of requests still answered, the quality, cost and
p95 changes against the no-fault run, the providers fallbacks went to and the breaker trips,
then each scenario's sentence. Text from scenarios and providers is escaped (``md_cell``/``md_code``).
"""

from __future__ import annotations

from typing import Any

from routegate.report.mdtext import md_cell, md_code, md_table
from routegate.units import MISSING, format_count, format_ms, format_percent, format_points, format_share_floor


def render_resilience_markdown(reports: dict[str, dict[str, Any]], *, heading: str = "###") -> str:
    """The resilience section: one table per policy (``reports``: label -> resilience report)."""
    out: list[str] = [f"{heading} Resilience (fault drills)", ""]
    for label, report in reports.items():
        base = report["no_fault"]
        out += [
            f"**{md_cell(label)}** {md_code(report['policy']['name'])}: without faults "
            f"{format_share_floor(base['availability'])} answered, p95 {format_ms(base['p95_ms'])}.",
            "",
        ]
        rows = []
        for s in report["scenarios"]:
            fallbacks = ", ".join(
                f"{md_cell(p)} {format_count(v['fallbacks_to'])}"
                for p, v in s["providers"].items()
                if v.get("fallbacks_to")
            )
            rows.append(
                [
                    md_code(s["name"]),
                    format_share_floor(s["availability"]),
                    MISSING if s["quality_delta"] is None else format_points(s["quality_delta"]),
                    MISSING if s["cost_delta_pct"] is None else format_percent(s["cost_delta_pct"]),
                    format_ms(s["p95_delta_ms"], signed=True),
                    fallbacks or MISSING,
                    format_count(s["breaker_trips"]),
                ]
            )
        out += md_table(["scenario", "answered", "quality", "cost", "p95", "fallbacks to", "breaker trips"], rows)
        out += ["", *[f"- {md_cell(s['sentence'], limit=300)}" for s in report["scenarios"]], ""]
    return "\n".join(out) + "\n"
