"""``report.html`` of a gate: one self-contained page for product owners (docs/reports.md).

The page is rendered from the verdict dict (the same one written as
verdict.json, plus ``single_models``) and the policy diff. Safety:

- Jinja2 autoescapes every expression; nothing from a suite, a policy, a
  gates file or a model (prompts, responses, ids, names, slice values,
  reasons, the diff) is ever marked safe. The only ``Markup`` is the SVG that
  :mod:`routegate.report.svg` draws, which escapes every text it embeds.
- Every printed value first passes the environment's ``finalize`` hook, which
  shows C0 control characters as visible Control Pictures (␀ … ␟).
- No script, no external resource, and a Content-Security-Policy of
  ``default-src 'none'`` in the page itself.

Determinism: no clock is read (``generated_at`` is printed only when given),
every list is put in an explicit order, and numbers use fixed formats, so
the same verdict gives byte-identical HTML. Size: only aggregates go in;
per-slice tables, gates, the diff and the examples are capped.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from routegate._version import __version__
from routegate.report.svg import (
    FAILED_COLOR,
    LatencyRow,
    Point,
    clean_text,
    cost_quality_scatter,
    latency_ranges,
    stacked_bars,
    tier_color,
)
from routegate.stats.frontier import pareto_frontier
from routegate.writer import clean_json

TEMPLATE = "report.html.j2"
MAX_SLICE_ROWS = 50
"""Rows per slice table; the rest are counted ("… and N more")."""
MAX_GATE_ROWS = 100
"""Gates listed (failed first); verdict.json lists them all."""
MAX_DIFF_LINES = 2000
MAX_DIFF_CHARS = 200_000
MAX_LATENCY_GROUPS = 12
"""SLA classes drawn in the latency chart (the table lists up to MAX_SLICE_ROWS)."""
REASONING_TIER = "reasoning"


def _num(x: Any) -> float:
    """A float as verdict.json holds it (12 significant digits), NaN for None or anything that is not a number.

    Every number the page prints or sorts by passes here, so a verdict read back from verdict.json renders
    to the same bytes as the one the run built (and the page matches the file to the last digit).
    """
    if isinstance(x, bool) or not isinstance(x, int | float):
        return math.nan
    return float(f"{x:.12g}") if math.isfinite(x) else math.nan


def _ok(x: Any) -> bool:
    return math.isfinite(_num(x))


def _pct(x: Any, digits: int = 1) -> str:
    return f"{100 * _num(x):.{digits}f}%" if _ok(x) else "–"


def _pts(x: Any, digits: int = 2) -> str:
    return f"{100 * _num(x):+.{digits}f} pt" if _ok(x) else "–"


def _usd(x: Any) -> str:
    if not _ok(x):
        return "–"
    v = _num(x)
    return f"${v:,.4f}" if abs(v) < 10 else f"${v:,.2f}"


def _usd_signed(x: Any) -> str:
    if not _ok(x):
        return "–"
    v = _num(x)
    sign = "+" if v >= 0 else "−"
    return sign + _usd(abs(v))


def _ms(x: Any) -> str:
    return f"{_num(x):,.0f} ms" if _ok(x) else "–"


def _ms_signed(x: Any) -> str:
    return f"{_num(x):+,.0f} ms" if _ok(x) else "–"


def _signed_pct(x: Any) -> str:
    return f"{_num(x):+.1f}%" if _ok(x) else "–"


def _ci(ci: Any, fmt: Any) -> str:
    if not isinstance(ci, Sequence) or len(ci) != 2 or not (_ok(ci[0]) and _ok(ci[1])):
        return ""
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def _direction(delta: Any, ci: Any, *, higher_is_better: bool) -> tuple[str, str]:
    """(word, css class) for a delta with its 95% CI: better/worse only when the CI excludes zero."""
    d = _num(delta)
    lo, hi = (_num(ci[0]), _num(ci[1])) if isinstance(ci, Sequence) and len(ci) == 2 else (math.nan, math.nan)
    if d == 0 and lo == 0 and hi == 0:
        return "no change", "same"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no CI", "same"
    if lo > 0 or hi < 0:
        up = lo > 0
        better = up == higher_is_better
        return ("better" if better else "worse"), ("good" if better else "bad")
    return "no clear change", "same"


def _gate_value(name: str, value: Any) -> str:
    """A gate's observed value or threshold in the unit of its gate."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return clean_text(value)
    if isinstance(value, float):
        value = _num(value)
    if not math.isfinite(value):
        return "–"
    if name.startswith("quality"):
        return _pts(value)
    if name.startswith(("latency_p95_increase", "cost")):
        return _signed_pct(value)
    if name.startswith("latency_p95"):
        return _ms(value)
    if name.startswith(("errors", "tier_share")):
        return _pct(value, 2)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def _gates(verdict: Mapping[str, Any]) -> dict[str, Any]:
    gates = list(verdict.get("gates") or [])
    rank = {"failed": 0, "passed": 1, "not gated": 2}

    def status(g: Mapping[str, Any]) -> str:
        return "not gated" if g.get("skipped") else ("passed" if g.get("passed") else "failed")

    rows = [
        {
            "name": str(g.get("name", "")),
            "status": status(g),
            "observed": _gate_value(str(g.get("name", "")), g.get("observed")),
            "threshold": _gate_value(str(g.get("name", "")), g.get("threshold")),
            "reason": str(g.get("reason", "")),
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
        "failed_names": [r["name"] for r in rows if r["status"] == "failed"],
    }


def _policy_label(policy: Mapping[str, Any]) -> str:
    return f"{policy.get('name', '?')} {policy.get('version', '')}".strip()


def _banner(verdict: Mapping[str, Any], gates: Mapping[str, Any], n: int) -> dict[str, Any]:
    base = _policy_label(verdict["baseline"]["policy"])
    cand = _policy_label(verdict["candidate"]["policy"])
    passed = bool(verdict.get("passed"))
    skipped = f" ({gates['skipped']} not gated)" if gates["skipped"] else ""
    if passed:
        sentence = (
            f"The candidate {cand} passes all {gates['total'] - gates['skipped']} gates against the baseline "
            f"{base} on {n:,} requests{skipped}."
        )
    else:
        names = gates["failed_names"][:3]
        more = f" and {len(gates['failed_names']) - 3} more" if len(gates["failed_names"]) > 3 else ""
        sentence = (
            f"The candidate {cand} fails {gates['failed']} of {gates['total']} gates against the baseline "
            f"{base} on {n:,} requests: {', '.join(names)}{more}."
        )
    return {"passed": passed, "title": "PASSED" if passed else "FAILED", "sentence": sentence}


def _cards(overall: Mapping[str, Any]) -> list[dict[str, str]]:
    q, cost, err = overall["quality"], overall["cost_per_1k_usd"], overall["error_rate"]
    p95 = overall["latency_ms"]["p95"]
    breaches = overall["privacy_breaches"]
    cards = []
    word, cls = _direction(q["delta"], q["ci95"], higher_is_better=True)
    cards.append(
        {
            "title": "Quality",
            "baseline": _pct(q["baseline"]),
            "candidate": _pct(q["candidate"]),
            "delta": _pts(q["delta"]),
            "ci": _ci(q["ci95"], _pts),
            "word": word,
            "cls": cls,
            "note": f"paired, {q.get('ci_method', '')}"
            + (f"; smallest detectable drop {100 * _num(q.get('mde80')):.2f} pt" if _ok(q.get("mde80")) else ""),
        }
    )
    word, cls = _direction(cost["delta"], cost["ci95"], higher_is_better=False)
    cards.append(
        {
            "title": "$ per 1k",
            "baseline": _usd(cost["baseline"]),
            "candidate": _usd(cost["candidate"]),
            "delta": f"{_usd_signed(cost['delta'])} ({_signed_pct(cost.get('delta_pct'))})",
            "ci": _ci(cost["ci95"], _usd_signed),
            "word": word,
            "cls": cls,
            "note": f"every attempt paid, {cost.get('ci_method', '')}",
        }
    )
    word, cls = _direction(p95["delta"], p95["ci95"], higher_is_better=False)
    cards.append(
        {
            "title": "p95 latency",
            "baseline": _ms(p95["baseline"]),
            "candidate": _ms(p95["candidate"]),
            "delta": _ms_signed(p95["delta"]),
            "ci": _ci(p95["ci95"], _ms_signed),
            "word": word,
            "cls": cls,
            "note": f"all requests, {p95.get('ci_method', '')}",
        }
    )
    word, cls = _direction(err["delta"], err["ci95"], higher_is_better=False)
    cards.append(
        {
            "title": "Errors",
            "baseline": _pct(err["baseline"], 2),
            "candidate": _pct(err["candidate"], 2),
            "delta": _pts(err["delta"]),
            "ci": _ci(err["ci95"], _pts),
            "word": word,
            "cls": cls,
            "note": "requests with no answer after every fallback",
        }
    )
    b, c = int(breaches.get("baseline") or 0), int(breaches.get("candidate") or 0)
    cards.append(
        {
            "title": "PII breaches",
            "baseline": f"{b:,}",
            "candidate": f"{c:,}",
            "delta": f"{c - b:+,}",
            "ci": "",
            "word": "none" if c == 0 else "breach",
            "cls": "good" if c == 0 else "bad",
            "note": "PII requests sent to an external model (hard gate: zero)",
        }
    )
    return cards


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
        return {"usd": "–", "pct": "–"}
    return {"usd": _usd_signed(ref - cost), "pct": _pct((ref - cost) / ref)}


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
        if point is not None and _ok(point.get("cost_per_1k_usd")) and _num(point["cost_per_1k_usd"]) > 0:
            ref = _num(point["cost_per_1k_usd"])
            return {
                "available": True,
                "model": model,
                "origin": origin,
                "cost": _usd(ref),
                "quality": _pct(point.get("quality")),
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


def _tiers(verdict: Mapping[str, Any]) -> dict[str, Any]:
    tiers = [str(t) for t in verdict.get("tiers") or []]
    overall = verdict["deltas"]["overall"]
    mix = overall.get("tier_mix") or {}
    by_tier = {side: verdict[side]["metrics"].get("by_tier") or {} for side in ("baseline", "candidate")}
    total_cost = {side: _num(verdict[side]["metrics"]["overall"].get("cost_usd")) for side in ("baseline", "candidate")}
    rows = []
    for i, tier in enumerate(tiers):
        m = mix.get(tier) or {}
        row: dict[str, Any] = {
            "tier": tier,
            "color": tier_color(i),
            "share_b": _pct(m.get("baseline")),
            "share_c": _pct(m.get("candidate")),
            "share_d": _pts(m.get("delta"), 1),
        }
        for side, key in (("baseline", "b"), ("candidate", "c")):
            t = by_tier[side].get(tier) or {}
            row[f"n_{key}"] = f"{int(t['n']):,}" if "n" in t else "0"
            row[f"cost_{key}"] = _usd(t.get("cost_per_1k_usd"))
            row[f"q_{key}"] = _pct((t.get("quality") or {}).get("mean"))
            p95 = _num((t.get("latency_ms") or {}).get("p95"))
            row[f"p95_{key}"] = f"{p95:,.0f}" if math.isfinite(p95) else "–"
            spend = _num(t.get("cost_usd"))
            row[f"spend_{key}"] = (
                _pct(spend / total_cost[side]) if total_cost[side] > 0 and math.isfinite(spend) else "–"
            )
        rows.append(row)
    shares_b = [
        max(0.0, _num((mix.get(t) or {}).get("baseline"))) if _ok((mix.get(t) or {}).get("baseline")) else 0.0
        for t in tiers
    ]
    shares_c = [
        max(0.0, _num((mix.get(t) or {}).get("candidate"))) if _ok((mix.get(t) or {}).get("candidate")) else 0.0
        for t in tiers
    ]
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
        "reference": _reasoning_reference(verdict, _num(cost["baseline"]), _num(cost["candidate"])),
        "total_b": _usd(cost["baseline"]),
        "total_c": _usd(cost["candidate"]),
    }


def _shift(verdict: Mapping[str, Any]) -> dict[str, Any]:
    shift = verdict.get("tier_shift") or {"tiers": [], "counts": []}
    labels = [str(t) for t in shift.get("tiers") or []]
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
            cells.append({"value": f"{v:,}", "cls": cls})
        rows.append({"label": labels[i], "cells": cells, "total": f"{sum(counts[i]):,}"})
    moved = total - sum(counts[i][i] for i in range(k))
    return {
        "labels": labels,
        "rows": rows,
        "col_totals": [f"{sum(counts[i][j] for i in range(k)):,}" for j in range(k)],
        "total": f"{total:,}",
        "moved": f"{moved:,}",
        "moved_pct": _pct(moved / total) if total else "–",
    }


def _scatter(verdict: Mapping[str, Any]) -> dict[str, Any]:
    singles = sorted(verdict.get("single_models") or [], key=lambda p: str(p.get("model")))
    points = [
        Point(str(p.get("model")), _num(p.get("cost_per_1k_usd")), _num(p.get("quality")), "single") for p in singles
    ]
    for side in ("baseline", "candidate"):
        m = verdict[side]["metrics"]["overall"]
        points.append(
            Point(
                f"{side}: {verdict[side]['policy'].get('name', '?')}",
                _num(m.get("cost_per_1k_usd")),
                _num((m.get("quality") or {}).get("mean")),
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
            "kind": {"single": "single model", "baseline": "baseline", "candidate": "candidate"}[p.kind],
            "provider": str(singles[i].get("provider", "")) if p.kind == "single" else "",
            "privacy": str(singles[i].get("privacy", "")) if p.kind == "single" else "",
            "quality": _pct(p.quality),
            "cost": _usd(p.cost),
            "p95": _ms(singles[i].get("p95_ms"))
            if p.kind == "single"
            else _ms(verdict[p.kind]["metrics"]["overall"]["latency_ms"].get("p95")),
            "frontier": i in on_front,
        }
        for i, p in enumerate(points)
    ]
    return {"chart": Markup(chart), "table": table, "has_singles": bool(singles)}  # noqa: S704  (escaped SVG)


def _latency_cells(block: Mapping[str, Any]) -> dict[str, Any]:
    lat = block.get("latency_ms") or {}
    out: dict[str, Any] = {"n": f"{int(block.get('n') or 0):,}"}
    for q in ("p50", "p95", "p99"):
        v = lat.get(q) or {}
        _, cls = _direction(v.get("delta"), v.get("ci95"), higher_is_better=False)
        out[q] = {
            "b": _ms(v.get("baseline")),
            "c": _ms(v.get("candidate")),
            "d": _ms_signed(v.get("delta")),
            "ci": _ci(v.get("ci95"), _ms_signed),
            "cls": cls,
        }
    return out


def _latency(verdict: Mapping[str, Any]) -> dict[str, Any]:
    deltas = verdict["deltas"]
    groups: list[tuple[str, Mapping[str, Any]]] = [("all requests", deltas["overall"])]
    sla = deltas.get("by_slice", {}).get("sla") or {}
    groups += [(f"sla={k}", sla[k]) for k in sorted(sla, key=str)]
    rows = [{"group": g, **_latency_cells(b)} for g, b in groups[: MAX_SLICE_ROWS + 1]]
    chart_rows = []
    for g, b in groups[: MAX_LATENCY_GROUPS + 1]:
        lat = b.get("latency_ms") or {}
        for side in ("baseline", "candidate"):
            chart_rows.append(LatencyRow(g, side, *(_num((lat.get(q) or {}).get(side)) for q in ("p50", "p95", "p99"))))
    chart = latency_ranges(chart_rows, title="Latency percentiles (p50 dot, p95 bar, p99 end) per run and SLA class")
    return {"rows": rows, "more": max(0, len(groups) - 1 - MAX_SLICE_ROWS), "chart": Markup(chart)}  # noqa: S704


def _slice_sort_key(item: tuple[str, Mapping[str, Any]]) -> tuple[int, float, str]:
    value, block = item
    d = _num((block.get("quality") or {}).get("delta"))
    return (0, d, value) if math.isfinite(d) else (1, 0.0, value)


def _slices(verdict: Mapping[str, Any]) -> list[dict[str, Any]]:
    by_slice = verdict["deltas"].get("by_slice") or {}
    out = []
    for name in sorted(by_slice, key=str):
        values = sorted(((str(k), v) for k, v in by_slice[name].items()), key=_slice_sort_key)
        rows = []
        for value, block in values[:MAX_SLICE_ROWS]:
            q = block.get("quality") or {}
            cost = block.get("cost_per_1k_usd") or {}
            p95 = (block.get("latency_ms") or {}).get("p95") or {}
            _, cls = _direction(q.get("delta"), q.get("ci95"), higher_is_better=True)
            rows.append(
                {
                    "value": value,
                    "n": f"{int(block.get('n') or 0):,}",
                    "q_b": _pct(q.get("baseline")),
                    "q_c": _pct(q.get("candidate")),
                    "q_d": _pts(q.get("delta")),
                    "q_ci": _ci(q.get("ci95"), _pts),
                    "q_cls": cls,
                    "cost_b": _usd(cost.get("baseline")),
                    "cost_c": _usd(cost.get("candidate")),
                    "cost_d": _signed_pct(cost.get("delta_pct")),
                    "p95_d": _ms_signed(p95.get("delta")),
                }
            )
        out.append(
            {"name": str(name), "rows": rows, "more": max(0, len(values) - MAX_SLICE_ROWS), "count": len(values)}
        )
    return out


def _text_or_none(x: Any) -> str:
    return "(no response)" if x is None else str(x)


def _examples(verdict: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    examples = verdict.get("examples") or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in ("regressions", "improvements"):
        items = []
        for ex in examples.get(kind) or []:
            b, c = ex.get("baseline") or {}, ex.get("candidate") or {}
            items.append(
                {
                    "suite": str(ex.get("suite", "")),
                    "id": str(ex.get("example_id", "")),
                    "delta": _pts(ex.get("delta"), 1),
                    "prompt": _text_or_none(ex.get("prompt")),
                    "sides": [
                        {
                            "run": run,
                            "tier": str(s.get("tier") or "(failed)"),
                            "model": str(s.get("model") or "–"),
                            "quality": _pct(s.get("quality")),
                            "response": _text_or_none(s.get("response")),
                        }
                        for run, s in (("baseline", b), ("candidate", c))
                    ],
                }
            )
        out[kind] = items
    return out


def _diff(policy_diff: str) -> dict[str, Any]:
    text = policy_diff[:MAX_DIFF_CHARS]
    lines = text.splitlines()
    truncated = len(policy_diff) > MAX_DIFF_CHARS or len(lines) > MAX_DIFF_LINES
    rows = []
    for line in lines[:MAX_DIFF_LINES]:
        if line.startswith(("+++", "---")):
            cls = "meta"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        rows.append({"cls": cls, "text": line})
    added = sum(r["cls"] == "add" for r in rows)
    removed = sum(r["cls"] == "del" for r in rows)
    return {"lines": rows, "truncated": truncated, "added": added, "removed": removed}


def _provenance(verdict: Mapping[str, Any]) -> dict[str, Any]:
    policies = []
    for side in ("baseline", "candidate"):
        p = verdict[side]["policy"]
        policies.append(
            {
                "role": side,
                **{k: str(p.get(k, "")) for k in ("name", "version", "source", "sha256", "catalog", "catalog_sha256")},
            }
        )
    suites = [
        {
            "name": str(s.get("name", "")),
            "version": str(s.get("version", "")),
            "sha256": str(s.get("sha256", "")),
            "examples": f"{int(s.get('examples') or 0):,}",
            "recordings": f"{int(s.get('recordings') or 0):,}",
        }
        for s in verdict.get("suites") or []
    ]
    cfg = verdict.get("gates_config") or {}
    missing = verdict.get("missing_recordings") or {}
    return {
        "policies": policies,
        "suites": suites,
        "gates_source": str(cfg.get("source", "(unknown)")),
        "gates_spec": json.dumps(clean_json(cfg.get("spec")), sort_keys=True, indent=2, ensure_ascii=False),
        "seed": str(verdict.get("seed", "")),
        "schema_version": str(verdict.get("schema_version", "")),
        "missing_b": f"{int((missing.get('baseline') or {}).get('total') or 0):,}",
        "missing_c": f"{int((missing.get('candidate') or {}).get('total') or 0):,}",
        "version": __version__,
    }


def _resilience(verdict: Mapping[str, Any]) -> dict[str, Any] | None:
    """The resilience section (gate with --scenario): one row per scenario, both policies; text only."""
    block = verdict.get("resilience")
    if not block:
        return None
    base = {s["name"]: s for s in block["baseline"]["scenarios"]}
    gate_rows = [g for g in verdict.get("gates", []) if str(g.get("name", "")).startswith("resilience.")]
    failed = {str(g["name"]).split("[", 1)[1].rstrip("]") for g in gate_rows if not g["passed"]}
    rows = []
    for s in block["candidate"]["scenarios"]:
        b = base.get(s["name"], {})
        rows.append(
            {
                "name": s["name"],
                "status": "failed" if s["name"] in failed else "passed",
                "avail_b": _pct(b.get("availability"), 2),
                "avail_c": _pct(s["availability"], 2),
                "q_b": _pts(b.get("quality_delta")),
                "q_c": _pts(s["quality_delta"]),
                "cost_b": _signed_pct(b.get("cost_delta_pct")),
                "cost_c": _signed_pct(s["cost_delta_pct"]),
                "p95_c": _ms_signed(s["p95_delta_ms"]),
                "trips": f"{int(s['breaker_trips']):,}",
                "sentence": s["sentence"],
                "sentence_b": b.get("sentence", ""),
            }
        )
    return {"rows": rows, "failed": len(failed)}


def build_context(verdict: Mapping[str, Any], policy_diff: str = "", generated_at: str | None = None) -> dict[str, Any]:
    """Everything the template prints, already formatted (strings, lists, and the SVG as Markup)."""
    overall = verdict["deltas"]["overall"]
    n = int(overall.get("n") or 0)
    gates = _gates(verdict)
    q, cost, p95 = overall["quality"], overall["cost_per_1k_usd"], overall["latency_ms"]["p95"]
    base_label = _policy_label(verdict["baseline"]["policy"])
    cand_label = _policy_label(verdict["candidate"]["policy"])
    return {
        "title": f"routegate: {cand_label} vs {base_label}",
        "baseline": base_label,
        "candidate": cand_label,
        "suite_names": ", ".join(
            f"{s.get('name', '')} {s.get('version', '')}".strip() for s in verdict.get("suites") or []
        ),
        "n": f"{n:,}",
        "banner": _banner(verdict, gates, n),
        "headline": (
            f"Quality {_pts(q['delta'])}, cost {_signed_pct(cost.get('delta_pct'))} per request, "
            f"p95 latency {_ms_signed(p95['delta'])} (candidate − baseline)."
        ),
        "gates": gates,
        "cards": _cards(overall),
        "tiers": _tiers(verdict),
        "shift": _shift(verdict),
        "scatter": _scatter(verdict),
        "latency": _latency(verdict),
        "slices": _slices(verdict),
        "max_slice_rows": MAX_SLICE_ROWS,
        "examples": _examples(verdict),
        "diff": _diff(policy_diff),
        "prov": _provenance(verdict),
        "resilience": _resilience(verdict),
        "generated_at": generated_at,
    }


def _finalize(value: Any) -> Any:
    """Every printed value: SVG Markup as is, anything else as text with control characters made visible."""
    if isinstance(value, Markup):
        return value
    return clean_text(value)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("routegate", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def _template() -> Template:
    """The report template, compiled once per process."""
    return _environment().get_template(TEMPLATE)


def render_html(verdict: Mapping[str, Any], *, policy_diff: str = "", generated_at: str | None = None) -> str:
    """report.html for ``verdict`` (verdict.json's dict plus ``single_models``).

    Self-contained, escaped and deterministic; ``generated_at`` adds the only line that may differ between runs.
    """
    return _template().render(build_context(verdict, policy_diff, generated_at))
