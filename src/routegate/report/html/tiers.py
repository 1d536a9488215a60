"""The tier sections of report.html: tier mix and per-tier table, the saving against the reasoning tier, tier shift."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from routegate.report.html.cells import (
    is_known,
    show_points,
    show_share,
    show_signed_usd,
    show_usd,
    stored_number,
)
from routegate.report.svg import FAILED_COLOR, stacked_bars, tier_color
from routegate.units import MISSING, format_count, format_number

REASONING_TIER = "reasoning"
"""The tier whose first model is the reference for the saving ("send everything to the big model")."""


def _tier_models(verdict: Mapping[str, Any], tier: str) -> tuple[list[str], str]:
    """Models of ``tier`` in the order of its chain (``policy.tiers`` of the candidate, else the
    baseline), and which policy said so; empty when neither policy has that tier."""
    for side in ("candidate", "baseline"):
        models = (verdict[side]["policy"].get("tiers") or {}).get(tier)
        if models:
            return [str(m) for m in models], f"the {side} policy"
    return [], ""


def _saving(ref: float, cost: float) -> dict[str, str]:
    """What a policy at ``cost`` saves against ``ref`` ($ per 1k), in $ and in percent of ``ref``."""
    if not math.isfinite(cost):
        return {"usd": MISSING, "pct": MISSING}
    return {"usd": show_signed_usd(ref - cost), "pct": show_share((ref - cost) / ref)}


def _reasoning_reference(verdict: Mapping[str, Any], base_cost: float, cand_cost: float) -> dict[str, Any]:
    """What sending every request to the reasoning tier costs, from the single-model replays, and the savings."""
    tiers = [str(t) for t in verdict.get("tiers") or []]
    if REASONING_TIER not in tiers:
        return {"available": False, "note": f"Neither policy has a {REASONING_TIER!r} tier, so no saving is computed."}
    models, origin = _tier_models(verdict, REASONING_TIER)
    points = {str(p.get("model")): p for p in verdict.get("single_models") or []}
    # The tier's first model answers every request it gets; its fallbacks only answer failures.
    for model in models[:1]:
        point = points.get(model)
        if point is not None and is_known(point.get("cost_per_1k_usd")) and stored_number(point["cost_per_1k_usd"]) > 0:
            ref = stored_number(point["cost_per_1k_usd"])
            return {
                "available": True,
                "model": model,
                "origin": origin,
                "cost": show_usd(ref),
                "quality": show_share(point.get("quality")),
                "baseline": _saving(ref, base_cost),
                "candidate": _saving(ref, cand_cost),
            }
    if not models:
        note = f"The {REASONING_TIER} tier's models are not known from the verdict, so no saving is computed."
    else:
        note = (
            f"No single-model replay exists for the {REASONING_TIER} tier's first model ({models[0]}): "
            "not every request of the suites has a recording for them, so no saving is computed."
        )
    return {"available": False, "note": note}


def _known_share(block: Mapping[str, Any], side: str) -> float:
    """A run's share of a tier for the chart: 0 when unknown, never negative."""
    return max(0.0, stored_number(block.get(side))) if is_known(block.get(side)) else 0.0


def tiers_section(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The tier-mix chart, one row per tier (share, requests, $ per 1k, spend, quality, p95), the reference."""
    tiers = [str(t) for t in verdict.get("tiers") or []]
    overall = verdict["deltas"]["overall"]
    mix = overall.get("tier_mix") or {}
    by_tier = {side: verdict[side]["metrics"].get("by_tier") or {} for side in ("baseline", "candidate")}
    total_cost = {
        side: stored_number(verdict[side]["metrics"]["overall"].get("cost_usd")) for side in ("baseline", "candidate")
    }
    rows = []
    for i, tier in enumerate(tiers):
        m = mix.get(tier) or {}
        row: dict[str, Any] = {
            "tier": tier,
            "color": tier_color(i),
            "share_b": show_share(m.get("baseline")),
            "share_c": show_share(m.get("candidate")),
            "share_d": show_points(m.get("delta"), 1),
        }
        for side, key in (("baseline", "b"), ("candidate", "c")):
            t = by_tier[side].get(tier) or {}
            row[f"n_{key}"] = format_count(int(t["n"])) if "n" in t else "0"
            row[f"cost_{key}"] = show_usd(t.get("cost_per_1k_usd"))
            row[f"q_{key}"] = show_share((t.get("quality") or {}).get("mean"))
            p95 = stored_number((t.get("latency_ms") or {}).get("p95"))
            row[f"p95_{key}"] = format_number(p95, grouped=True) if math.isfinite(p95) else MISSING
            spend = stored_number(t.get("cost_usd"))
            row[f"spend_{key}"] = (
                show_share(spend / total_cost[side]) if total_cost[side] > 0 and math.isfinite(spend) else MISSING
            )
        rows.append(row)
    shares_b = [_known_share(mix.get(t) or {}, "baseline") for t in tiers]
    shares_c = [_known_share(mix.get(t) or {}, "candidate") for t in tiers]
    labels = [*tiers, "no answer"]
    colors = [tier_color(i) for i in range(len(tiers))] + [FAILED_COLOR]
    chart = stacked_bars(
        [
            ("baseline", [*shares_b, max(0.0, 1 - sum(shares_b))]),
            ("candidate", [*shares_c, max(0.0, 1 - sum(shares_c))]),
        ],
        labels,
        colors,
        title="Share of requests answered by each tier, baseline vs candidate",
    )
    cost = overall["cost_per_1k_usd"]
    return {
        "rows": rows,
        "chart": Markup(chart),  # noqa: S704  (routegate.report.svg escapes every text it embeds)
        "reference": _reasoning_reference(verdict, stored_number(cost["baseline"]), stored_number(cost["candidate"])),
        "total_b": show_usd(cost["baseline"]),
        "total_c": show_usd(cost["candidate"]),
    }


def shift_matrix(verdict: Mapping[str, Any], key: str = "tier_shift", names: str = "tiers") -> dict[str, Any]:
    """Request counts, baseline tier (rows) -> candidate tier (columns), shaded by size, with totals;
    ``key="model_shift", names="models"``: the same by answering model."""
    shift = verdict.get(key) or {names: [], "counts": []}
    labels = [str(t) for t in shift.get(names) or []]
    counts = [[int(v) for v in row] for row in shift.get("counts") or []]
    k = len(labels)
    total = sum(sum(r) for r in counts)
    off = [counts[i][j] for i in range(k) for j in range(k) if i != j]
    top = max(off, default=0)
    rows = []
    for i in range(k):
        cells = []
        for j in range(k):
            v = counts[i][j]
            if i == j:
                cls = "diag"
            elif v == 0 or top == 0:
                cls = "zero"
            else:
                cls = f"heat{min(4, 1 + int(4 * v / (top + 1)))}"
            cells.append({"value": format_count(v), "cls": cls})
        rows.append({"label": labels[i], "cells": cells, "total": format_count(sum(counts[i]))})
    moved = total - sum(counts[i][i] for i in range(k))
    return {
        "labels": labels,
        "rows": rows,
        "col_totals": [format_count(sum(counts[i][j] for i in range(k))) for j in range(k)],
        "total": format_count(total),
        "moved": format_count(moved),
        "moved_pct": show_share(moved / total) if total else MISSING,
    }
