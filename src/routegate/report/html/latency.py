"""The latency section of report.html: p50, p95 and p99 for all requests and per SLA class, chart and table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from routegate.report.html.cells import judge_change, show_ci, show_ms, show_signed_ms, stored_number
from routegate.report.html.slices import MAX_SLICE_ROWS
from routegate.report.svg import LatencyRow, latency_ranges
from routegate.units import format_count

MAX_LATENCY_GROUPS = 12
"""SLA classes drawn in the latency chart (the table lists up to MAX_SLICE_ROWS)."""


def _latency_cells(block: Mapping[str, Any]) -> dict[str, Any]:
    lat = block.get("latency_ms") or {}
    out: dict[str, Any] = {"n": format_count(int(block.get("n") or 0))}
    for q in ("p50", "p95", "p99"):
        v = lat.get(q) or {}
        _, cls = judge_change(v.get("delta"), v.get("ci95"), higher_is_better=False)
        out[q] = {
            "b": show_ms(v.get("baseline")),
            "c": show_ms(v.get("candidate")),
            "d": show_signed_ms(v.get("delta")),
            "ci": show_ci(v.get("ci95"), show_signed_ms),
            "cls": cls,
        }
    return out


def latency_section(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """One row per group (all requests, then each SLA class by name) with paired deltas, and the range chart."""
    deltas = verdict["deltas"]
    groups: list[tuple[str, Mapping[str, Any]]] = [("all requests", deltas["overall"])]
    sla = deltas.get("by_slice", {}).get("sla") or {}
    groups += [(f"sla={k}", sla[k]) for k in sorted(sla, key=str)]
    rows = [{"group": g, **_latency_cells(b)} for g, b in groups[: MAX_SLICE_ROWS + 1]]
    chart_rows = []
    for g, b in groups[: MAX_LATENCY_GROUPS + 1]:
        lat = b.get("latency_ms") or {}
        for side in ("baseline", "candidate"):
            chart_rows.append(
                LatencyRow(g, side, *(stored_number((lat.get(q) or {}).get(side)) for q in ("p50", "p95", "p99")))
            )
    chart = latency_ranges(chart_rows, title="Latency percentiles (p50 dot, p95 bar, p99 end) per run and SLA class")
    return {"rows": rows, "more": max(0, len(groups) - 1 - MAX_SLICE_ROWS), "chart": Markup(chart)}  # noqa: S704
