"""``summary.md`` of a gate: verdict, gate table and key deltas, for a PR comment or the job summary.

Everything from a suite or a policy is escaped (``md_cell``/``md_code``), and
the text is capped at ``MAX_CHARS`` whatever the suite size.
"""

from __future__ import annotations

import math
from typing import Any

from routegate.report.mdtext import md_cell, md_code, md_table
from routegate.report.resilience_markdown import render_resilience_markdown
from routegate.report.run_markdown import fmt_num, fmt_pct, fmt_usd
from routegate.units import (
    MISSING,
    format_count,
    format_ms,
    format_number,
    format_percent,
    format_points,
    format_significant,
)

MAX_CHARS = 60_000
MAX_GATE_ROWS = 60
MAX_SLICE_ROWS = 25
MAX_EXAMPLES = 5


def _fmt_observed(value: Any) -> str:
    """A gate's observed value or threshold: a float with 4 significant digits, anything else as text."""
    if value is None:
        return MISSING
    if isinstance(value, float):
        return MISSING if math.isnan(value) else format_significant(value, 4)
    return str(value)


def _signed_pts(x: float | None) -> str:
    return MISSING if x is None or math.isnan(x) else format_points(x)


def _ci_pts(ci: list[float | None]) -> str:
    lo, hi = ci
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return ""
    return f" [{format_points(lo, symbol=False)}, {format_points(hi, symbol=False)}]"


ICONS = {"failed": "❌", "inconclusive": "❔", "passed": "✅", "not gated": "⏭"}
"""The gates table's first column, by status."""
MAX_UNSURE_LINES = 10
"""Inconclusive gates listed under the headline."""


def _status(gate: dict[str, Any]) -> str:
    """A verdict.json gate's status (``failed``, ``inconclusive``, ``passed``, ``not gated``)."""
    status: str = gate["status"]
    return status


def _gate_rows(gates: list[dict[str, Any]]) -> list[str]:
    """A gates table: status icon, name, observed, threshold, reason."""
    rows = [
        [
            ICONS[_status(g)],
            md_code(g["name"]),
            _fmt_observed(g["observed"]),
            _fmt_observed(g["threshold"]),
            md_cell(g["reason"], limit=300),
        ]
        for g in gates
    ]
    return md_table(["", "gate", "observed", "threshold", "reason"], rows)


def render_gate_markdown(verdict: dict[str, Any], *, report_path: str | None = None, title: str | None = None) -> str:
    """summary.md of ``verdict``; ``title`` names what was gated (``routegate check``: the file and refs)."""
    base, cand = verdict["baseline"]["policy"], verdict["candidate"]["policy"]
    gates = verdict["gates"]
    failed = [g for g in gates if not g["passed"]]
    unsure = [g for g in gates if g.get("status") == "inconclusive"]
    icon = "✅ PASSED" if verdict["passed"] else "❌ FAILED"
    beside = f", {len(unsure)} inconclusive" if unsure else ""
    out = [
        f"## routegate: {icon}{beside}",
        "",
        (f"{md_code(title)}: candidate " if title else "Candidate ")
        + f"{md_code(cand['name'])} {md_cell(str(cand['version']))} vs baseline {md_code(base['name'])} "
        f"{md_cell(str(base['version']))} over {format_count(sum(s['examples'] for s in verdict['suites']))} requests "
        f"in {len(verdict['suites'])} suite(s). "
        + (f"{len(failed)} of {len(gates)} gates failed." if failed else f"No gate of {len(gates)} failed."),
        "",
    ]
    if unsure:
        out += [
            f"**{len(unsure)} gate(s) inconclusive**: the suites cannot tell whether the candidate meets them "
            "(neither shown met nor shown missed; docs/gates.md). "
            + ("They fail this verdict (`on_inconclusive: fail`)." if any(not g["passed"] for g in unsure) else "")
            + ("They do not fail it." if all(g["passed"] for g in unsure) else ""),
            "",
            *(f"- {md_code(g['name'])}: {md_cell(g['reason'], limit=300)}" for g in unsure[:MAX_UNSURE_LINES]),
            *(
                [f"- … and {len(unsure) - MAX_UNSURE_LINES} more (see the gates below)"]
                if len(unsure) > MAX_UNSURE_LINES
                else []
            ),
            "",
        ]
    overall = verdict["deltas"]["overall"]
    q, cost, err = overall["quality"], overall["cost_per_1k_usd"], overall["error_rate"]
    p95 = overall["latency_ms"]["p95"]
    pair = " vs ".join(f"{md_code(p['name'])} {md_cell(str(p['version']))}" for p in (cand, base))
    out += [f"### Key deltas: {pair} (candidate − baseline)", ""]
    out += md_table(
        ["metric", "baseline", "candidate", "delta [95% CI]"],
        [
            ["quality", fmt_pct(q["baseline"]), fmt_pct(q["candidate"]), _signed_pts(q["delta"]) + _ci_pts(q["ci95"])],
            [
                "$ per 1k requests",
                fmt_usd(cost["baseline"]),
                fmt_usd(cost["candidate"]),
                f"{fmt_usd(cost['delta'])} ({format_percent(cost['delta_pct'])})"
                if cost["delta_pct"] is not None
                else fmt_usd(cost["delta"]),
            ],
            [
                "p95 latency",
                f"{fmt_num(p95['baseline'])} ms",
                f"{fmt_num(p95['candidate'])} ms",
                format_ms(p95["delta"], signed=True),
            ],
            ["error rate", fmt_pct(err["baseline"], 2), fmt_pct(err["candidate"], 2), _signed_pts(err["delta"])],
            [
                "PII breaches",
                str(overall["privacy_breaches"]["baseline"]),
                str(overall["privacy_breaches"]["candidate"]),
                "",
            ],
        ],
    )
    out += ["", f"### Gates: {pair}", ""]
    rank = {"failed": 0, "inconclusive": 1, "passed": 2, "not gated": 3}
    ordered = sorted(gates, key=lambda g: rank[_status(g)])
    shown = [g for g in ordered if _status(g) in ("failed", "inconclusive")]
    passed = [g for g in ordered if _status(g) == "passed"]
    skipped = [g for g in ordered if _status(g) == "not gated"]
    if shown:
        out += _gate_rows(shown[:MAX_GATE_ROWS])
    else:
        out += ["No gate failed or was inconclusive."]
    # Passing and not-gated rows are collapsed: the answer is the rows above (and verdict.json has every one).
    for group, label in ((passed, "passed"), (skipped, "not gated (each says why)")):
        if group:
            out += ["", f"<details><summary>{len(group)} gate(s) {label}</summary>", ""]
            out += _gate_rows(group[:MAX_GATE_ROWS])
            if len(group) > MAX_GATE_ROWS:
                out += ["", f"… and {len(group) - MAX_GATE_ROWS} more (see verdict.json)."]
            out += ["", "</details>"]
    tiers = verdict["tiers"]
    out += ["", f"### Tier mix: {pair} (share answered by each tier)", ""]
    out += md_table(
        ["", *[md_code(t) for t in tiers]],
        [
            ["baseline", *[fmt_pct(overall["tier_mix"][t]["baseline"]) for t in tiers]],
            ["candidate", *[fmt_pct(overall["tier_mix"][t]["candidate"]) for t in tiers]],
        ],
    )
    for name, groups in verdict["deltas"]["by_slice"].items():
        out += ["", f"<details><summary>Quality by {md_cell(name)}</summary>", ""]
        rows = [
            [
                md_cell(value, limit=60),
                format_count(g["n"]),
                fmt_pct(g["quality"]["baseline"]),
                fmt_pct(g["quality"]["candidate"]),
                _signed_pts(g["quality"]["delta"]) + _ci_pts(g["quality"]["ci95"]),
                format_percent(g["cost_per_1k_usd"]["delta_pct"])
                if g["cost_per_1k_usd"]["delta_pct"] is not None
                else MISSING,
            ]
            for value, g in list(groups.items())[:MAX_SLICE_ROWS]
        ]
        out += md_table([md_cell(name), "n", "baseline", "candidate", "delta [95% CI]", "cost"], rows)
        if len(groups) > MAX_SLICE_ROWS:
            out += ["", f"… and {len(groups) - MAX_SLICE_ROWS} more values."]
        out += ["", "</details>"]
    regressions = verdict["examples"]["regressions"][:MAX_EXAMPLES]
    if regressions:
        out += ["", "<details><summary>Largest regressions</summary>", ""]
        out += md_table(
            ["suite", "example", "baseline", "candidate", "prompt"],
            [
                [
                    md_code(e["suite"]),
                    md_code(str(e["example_id"])),
                    f"{md_cell(str(e['baseline']['model']))} {format_number(e['baseline']['quality'], 2)}",
                    f"{md_cell(str(e['candidate']['model']))} {format_number(e['candidate']['quality'], 2)}",
                    md_cell(e["prompt"] or "", limit=160),
                ]
                for e in regressions
            ],
        )
        out += ["", "</details>"]
    if verdict.get("resilience"):
        block = verdict["resilience"]
        out += ["", render_resilience_markdown({"baseline": block["baseline"], "candidate": block["candidate"]})]
    out += ["", "### Provenance", ""]
    out += [
        f"- Baseline {md_code(base['source'])} sha256 `{base['sha256']}`",
        f"- Candidate {md_code(cand['source'])} sha256 `{cand['sha256']}`",
        *[f"- Suite {md_code(s['name'])} {md_cell(s['version'])} sha256 `{s['sha256']}`" for s in verdict["suites"]],
        f"- Gates: {md_code(verdict['gates_config']['source'])}; bootstrap seed {verdict['seed']}",
    ]
    if report_path:
        out += ["", f"Full report: {md_code(report_path)}"]
    text = "\n".join(out) + "\n"
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 200].rsplit("\n", 1)[0] + "\n\n… (truncated; see verdict.json and report.html)\n"
    return text
