"""``summary.md`` of a run: the summary as Markdown tables, escaped and bounded in size."""

from __future__ import annotations

import math
from typing import Any

from routegate.report.mdtext import md_cell, md_code, md_table
from routegate.stats.summary import RunSummary
from routegate.units import (
    MISSING,
    format_count,
    format_number,
    format_points,
    format_share,
    format_usd,
)

MAX_SLICE_ROWS = 40
"""Rows listed per slice table; the rest are counted."""


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """A share in percent (``"12.3%"``); MISSING for None or NaN, as every ``fmt_`` function here."""
    return MISSING if value is None or math.isnan(value) else format_share(value, digits)


def fmt_num(value: float | None, digits: int = 0) -> str:
    """A number with thousands separators (``"1,234"``), MISSING for None or NaN."""
    return MISSING if value is None or math.isnan(value) else format_number(value, digits, grouped=True)


def fmt_usd(value: float | None) -> str:
    """Dollars (``"$0.0123"``, ``"$-0.0123"`` below zero), MISSING for None or NaN."""
    return MISSING if value is None or math.isnan(value) else format_usd(value)


def fmt_quality(q: dict[str, Any]) -> str:
    """Mean quality in percent with its 95% CI, ``"71.2 [70.1, 72.3]"`` (the header says %)."""
    mean, (low, high) = q["mean"], q["ci95"]
    if mean is None or math.isnan(mean):
        return MISSING
    return f"{format_share(mean, symbol=False)} [{format_share(low, symbol=False)}, {format_share(high, symbol=False)}]"


METRIC_HEADERS = [
    "n",
    "quality % [95% CI]",
    "$ per 1k",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "escalated",
    "fell back",
    "errors",
    "PII breaches",
]


def metric_row(m: dict[str, Any]) -> list[str]:
    lat = m["latency_ms"]
    return [
        format_count(m["n"]),
        fmt_quality(m["quality"]),
        fmt_usd(m["cost_per_1k_usd"]),
        fmt_num(lat["p50"]),
        fmt_num(lat["p95"]),
        fmt_num(lat["p99"]),
        fmt_pct(m["escalation_rate"]),
        fmt_pct(m["fallback_rate"]),
        fmt_pct(m["error_rate"]),
        format_count(m["privacy_breaches"]),
    ]


def render_run_markdown(summary: RunSummary) -> str:
    """summary.md of a run: its summary as Markdown tables (slice tables capped at ``MAX_SLICE_ROWS`` rows)."""
    policy = summary.policy
    metrics = summary.metrics
    tiers = summary.tiers
    out = [
        f"# routegate run: {md_code(policy['name'])} {md_cell(str(policy['version']))}",
        "",
        f"- Policy: {md_code(policy['source'])}, sha256 `{policy['sha256']}`",
        f"- Catalog: {md_code(policy['catalog'])}, sha256 `{policy['catalog_sha256']}`",
        f"- Bootstrap seed: {summary.seed}; "
        + (
            f"missing recordings: {format_count(summary.missing_recordings['total'])}"
            + (f" (skipped calls: {format_count(summary.skipped_calls)})" if summary.on_missing == "skip" else "")
            if summary.missing_recordings is not None
            else "live providers (no recordings used)"
        ),
        "",
        "## Suites",
        "",
    ]
    out += md_table(
        ["suite", "version", "examples", "sha256"],
        [
            [md_code(s["name"]), md_cell(s["version"]), format_count(s["examples"]), f"`{s['sha256'][:16]}`"]
            for s in summary.suites
        ],
    )
    out += ["", "## Overall", ""]
    out += md_table(METRIC_HEADERS, [metric_row(metrics["overall"])])
    total = metrics["overall"]["cost_usd"]
    out += ["", f"Total cost: {fmt_usd(total)} for {format_count(metrics['overall']['n'])} requests.", ""]
    out += ["## Tier mix (share of requests answered by each tier)", ""]
    out += md_table([md_code(t) for t in tiers], [[fmt_pct(metrics["overall"]["tier_mix"].get(t, 0.0)) for t in tiers]])
    out += ["", "## By tier (the tier that answered)", ""]
    out += md_table(["tier", *METRIC_HEADERS], [[md_code(t), *metric_row(m)] for t, m in metrics["by_tier"].items()])
    if len(metrics["by_suite"]) > 1:
        out += ["", "## By suite", ""]
        out += md_table(
            ["suite", *METRIC_HEADERS], [[md_code(k), *metric_row(m)] for k, m in metrics["by_suite"].items()]
        )
    for name, groups in metrics["by_slice"].items():
        out += ["", f"## By {md_cell(name)}", ""]
        rows = [[md_cell(k, limit=60), *metric_row(m)] for k, m in list(groups.items())[:MAX_SLICE_ROWS]]
        out += md_table([md_cell(name), *METRIC_HEADERS], rows)
        if len(groups) > MAX_SLICE_ROWS:
            out += ["", f"… and {len(groups) - MAX_SLICE_ROWS} more values (see summary.json)."]
    out += literature_markdown(summary.literature or {})
    return "\n".join(out) + "\n"


def fmt_ratio(value: float | None) -> str:
    """A ratio with three decimals (``"0.512"``), MISSING for None or NaN."""
    return MISSING if value is None or math.isnan(value) else format_number(value, 3)


def fmt_points(value: float | None) -> str:
    """A difference of shares in points with one decimal (``"+1.2 pt"``), MISSING for None or NaN."""
    return MISSING if value is None or math.isnan(value) else format_points(value, 1)


def literature_markdown(lit: dict[str, Any]) -> list[str]:
    """Routing-literature metrics per suite (docs/metrics.md): RouteLLM for two models, RouterBench for more."""
    two = {k: v for k, v in lit.items() if v.get("kind") == "two_model"}
    multi = {k: v for k, v in lit.items() if v.get("kind") == "multi_model"}
    if not two and not multi:
        return []
    out = ["", "## Routing-literature metrics (docs/metrics.md)", ""]
    if two:
        out += [
            "Two-model suites (RouteLLM): PGR = (quality - weak) / (strong - weak); APGR = mean PGR over the "
            "strong-call share 0-100%; CPT(x) = strong-call share needed for PGR x. Random router and oracle are "
            "exact sweeps over the recordings.",
            "",
        ]
        rows = []
        for name, b in two.items():
            p, r, o = b["policy"], b["random"], b["oracle"]
            rows.append(
                [
                    md_code(name),
                    md_code(b["strong_model"]),
                    md_code(b["weak_model"]),
                    fmt_pct(b["q_strong"]),
                    fmt_pct(b["q_weak"]),
                    fmt_pct(p["strong_call_share"]),
                    fmt_ratio(p["pgr"]),
                    fmt_ratio(p["random_pgr_at_share"]),
                    fmt_ratio(r["apgr"]),
                    f"{fmt_pct(r['cpt50'])} / {fmt_pct(r['cpt80'])}",
                    fmt_ratio(o["apgr"]),
                    f"{fmt_pct(o['cpt50'])} / {fmt_pct(o['cpt80'])}",
                ]
            )
        out += md_table(
            [
                "suite",
                "strong",
                "weak",
                "q strong",
                "q weak",
                "policy strong calls",
                "policy PGR",
                "random PGR there",
                "random APGR",
                "random CPT50/80",
                "oracle APGR",
                "oracle CPT50/80",
            ],
            rows,
        )
    for name, b in multi.items():
        p = b["policy"]
        out += [
            "",
            f"{md_code(name)} (RouterBench): AIQ of the single-model hull {fmt_ratio(b['aiq'])} over "
            f"{fmt_usd(b['cost_range_per_1k_usd'][0])}-{fmt_usd(b['cost_range_per_1k_usd'][1])} per 1k; hull: "
            + ", ".join(md_code(m) for m in b["hull"])
            + f". Policy: quality {fmt_pct(p['quality'])} at {fmt_usd(p['cost_per_1k_usd'])} per 1k; the hull there "
            f"{fmt_pct(p['hull_quality_at_cost'])}, gap {fmt_points(p['gap_to_hull'])} (positive: above every random "
            f"mix of single models); AIQ with the policy added {fmt_ratio(p['aiq_with_policy'])}.",
            "",
        ]
        out += md_table(
            ["model", "$ per 1k", "quality", "on hull"],
            [
                [md_code(t["model"]), fmt_usd(t["cost_per_1k_usd"]), fmt_pct(t["quality"]), "yes" * t["on_hull"]]
                for t in b["points"]
            ],
        )
    return out
