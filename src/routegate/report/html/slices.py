"""The slices section of report.html: one table per slice column, worst quality delta first."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from routegate.report.html.cells import (
    judge_change,
    show_ci,
    show_percent,
    show_points,
    show_share,
    show_signed_ms,
    show_usd,
    stored_number,
)
from routegate.units import format_count

MAX_SLICE_ROWS = 50
"""Rows per slice table; the rest are counted ("… and N more")."""


def _slice_sort_key(item: tuple[str, Mapping[str, Any]]) -> tuple[int, float, str]:
    value, block = item
    d = stored_number((block.get("quality") or {}).get("delta"))
    return (0, d, value) if math.isfinite(d) else (1, 0.0, value)


def slice_tables(verdict: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per slice column (by name), per value: requests, quality, its delta and CI, $ per 1k and p95 change."""
    by_slice = verdict["deltas"].get("by_slice") or {}
    out = []
    for name in sorted(by_slice, key=str):
        values = sorted(((str(k), v) for k, v in by_slice[name].items()), key=_slice_sort_key)
        rows = []
        for value, block in values[:MAX_SLICE_ROWS]:
            q = block.get("quality") or {}
            cost = block.get("cost_per_1k_usd") or {}
            p95 = (block.get("latency_ms") or {}).get("p95") or {}
            _, cls = judge_change(q.get("delta"), q.get("ci95"), higher_is_better=True)
            rows.append(
                {
                    "value": value,
                    "n": format_count(int(block.get("n") or 0)),
                    "q_b": show_share(q.get("baseline")),
                    "q_c": show_share(q.get("candidate")),
                    "q_d": show_points(q.get("delta")),
                    "q_ci": show_ci(q.get("ci95"), show_points),
                    "q_cls": cls,
                    "cost_b": show_usd(cost.get("baseline")),
                    "cost_c": show_usd(cost.get("candidate")),
                    "cost_d": show_percent(cost.get("delta_pct")),
                    "p95_d": show_signed_ms(p95.get("delta")),
                }
            )
        out.append(
            {"name": str(name), "rows": rows, "more": max(0, len(values) - MAX_SLICE_ROWS), "count": len(values)}
        )
    return out
