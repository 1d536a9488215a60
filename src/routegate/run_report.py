"""``summary.md`` of a run: the summary as Markdown tables, escaped and bounded in size."""

from __future__ import annotations

import math
from typing import Any

from routegate.mdtext import md_cell, md_code, md_table

MAX_SLICE_ROWS = 40
"""Rows listed per slice table; the rest are counted."""


def fmt_pct(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.{digits}f}%"


def fmt_num(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def fmt_usd(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"${value:,.4f}" if abs(value) < 10 else f"${value:,.2f}"


def fmt_quality(q: dict[str, Any]) -> str:
    mean, (low, high) = q["mean"], q["ci95"]
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


METRIC_HEADERS = ["n", "quality % [95% CI]", "$ per 1k", "p50 ms", "p95 ms", "p99 ms", "escalated", "fell back", "errors", "PII breaches"]


def metric_row(m: dict[str, Any]) -> list[str]:
    lat = m["latency_ms"]
    return [
        f"{m['n']:,}",
        fmt_quality(m["quality"]),
        fmt_usd(m["cost_per_1k_usd"]),
        fmt_num(lat["p50"]),
        fmt_num(lat["p95"]),
        fmt_num(lat["p99"]),
        fmt_pct(m["escalation_rate"]),
        fmt_pct(m["fallback_rate"]),
        fmt_pct(m["error_rate"]),
        f"{m['privacy_breaches']:,}",
    ]


def render_run_markdown(summary: dict[str, Any]) -> str:
    policy = summary["policy"]
    metrics = summary["metrics"]
    tiers: list[str] = summary["tiers"]
    out = [
        f"# routegate run: {md_code(policy['name'])} {md_cell(str(policy['version']))}",
        "",
        f"- Policy: {md_code(policy['source'])}, sha256 `{policy['sha256']}`",
        f"- Catalog: {md_code(policy['catalog'])}, sha256 `{policy['catalog_sha256']}`",
        f"- Bootstrap seed: {summary['seed']}; missing recordings: {summary['missing_recordings']['total']:,}"
        + (f" (skipped calls: {summary['skipped_calls']:,})" if summary["on_missing"] == "skip" else ""),
        "",
        "## Suites",
        "",
    ]
    out += md_table(
        ["suite", "version", "examples", "sha256"],
        [[md_code(s["name"]), md_cell(s["version"]), f"{s['examples']:,}", f"`{s['sha256'][:16]}`"] for s in summary["suites"]],
    )
    out += ["", "## Overall", ""]
    out += md_table(METRIC_HEADERS, [metric_row(metrics["overall"])])
    total = metrics["overall"]["cost_usd"]
    out += ["", f"Total cost: {fmt_usd(total)} for {metrics['overall']['n']:,} requests.", ""]
    out += ["## Tier mix (share of requests answered by each tier)", ""]
    out += md_table([md_code(t) for t in tiers], [[fmt_pct(metrics["overall"]["tier_mix"].get(t, 0.0)) for t in tiers]])
    out += ["", "## By tier (the tier that answered)", ""]
    out += md_table(["tier", *METRIC_HEADERS], [[md_code(t), *metric_row(m)] for t, m in metrics["by_tier"].items()])
    if len(metrics["by_suite"]) > 1:
        out += ["", "## By suite", ""]
        out += md_table(["suite", *METRIC_HEADERS], [[md_code(k), *metric_row(m)] for k, m in metrics["by_suite"].items()])
    for name, groups in metrics["by_slice"].items():
        out += ["", f"## By {md_cell(name)}", ""]
        rows = [[md_cell(k, limit=60), *metric_row(m)] for k, m in list(groups.items())[:MAX_SLICE_ROWS]]
        out += md_table([md_cell(name), *METRIC_HEADERS], rows)
        if len(groups) > MAX_SLICE_ROWS:
            out += ["", f"… and {len(groups) - MAX_SLICE_ROWS} more values (see summary.json)."]
    return "\n".join(out) + "\n"
