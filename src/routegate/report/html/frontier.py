"""The cost-vs-quality section of report.html: single-model policies, baseline and candidate, and their frontier."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from routegate.report.html.cells import show_ms, show_share, show_usd, stored_number
from routegate.report.svg import Point, cost_quality_scatter
from routegate.stats.pareto import pareto_frontier

KINDS = {"single": "single model", "baseline": "baseline", "candidate": "candidate"}
"""How the table names each kind of point."""


def frontier_section(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The scatter chart with the Pareto frontier, and the same points as a table (single models by name)."""
    singles = sorted(verdict.get("single_models") or [], key=lambda p: str(p.get("model")))
    points = [
        Point(str(p.get("model")), stored_number(p.get("cost_per_1k_usd")), stored_number(p.get("quality")), "single")
        for p in singles
    ]
    for side in ("baseline", "candidate"):
        m = verdict[side]["metrics"]["overall"]
        points.append(
            Point(
                f"{side}: {verdict[side]['policy'].get('name', '?')}",
                stored_number(m.get("cost_per_1k_usd")),
                stored_number((m.get("quality") or {}).get("mean")),
                side,
            )
        )
    usable = [i for i, p in enumerate(points) if math.isfinite(p.cost) and math.isfinite(p.quality)]
    front_local = pareto_frontier([(points[i].cost, points[i].quality) for i in usable])
    frontier = [usable[i] for i in front_local]
    chart = cost_quality_scatter(
        points, frontier, title="Cost vs quality: single-model policies, baseline and candidate"
    )
    on_front = set(frontier)
    table = [
        {
            "label": p.label,
            "kind": KINDS[p.kind],
            "provider": str(singles[i].get("provider", "")) if p.kind == "single" else "",
            "privacy": str(singles[i].get("privacy", "")) if p.kind == "single" else "",
            "quality": show_share(p.quality),
            "cost": show_usd(p.cost),
            "p95": show_ms(singles[i].get("p95_ms"))
            if p.kind == "single"
            else show_ms(verdict[p.kind]["metrics"]["overall"]["latency_ms"].get("p95")),
            "frontier": i in on_front,
        }
        for i, p in enumerate(points)
    ]
    return {"chart": Markup(chart), "table": table, "has_singles": bool(singles)}  # noqa: S704  (escaped SVG)
