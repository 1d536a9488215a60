"""The files a command writes from the results the pipeline returns, each atomically (``routegate.writer``).

* ``routegate run``: summary.json and summary.md (traces.parquet is written by
  ``pipeline.run_policy_writing_traces``, on a second thread while the literature
  metrics are computed);
* ``routegate drill`` (and ``run --scenario``): resilience.json and resilience.md;
* ``routegate gate``: report.html, summary.md, junit.xml and verdict.json, the
  verdict last (and with ``--traces`` both runs' traces).

docs/engine.md (traces), docs/faults.md (resilience) and docs/reports.md describe the files.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routegate.engine.traces import write_traces
from routegate.load.sources import parse_source
from routegate.report.gate_markdown import render_gate_markdown
from routegate.report.junit import render_junit
from routegate.report.run_markdown import render_run_markdown
from routegate.writer import dumps_json, write_json_atomic, write_text_atomic

if TYPE_CHECKING:
    from routegate.gates.outcome import GateOutcome
    from routegate.gates.result import GateResult, Verdict
    from routegate.gates.spec import GatesSpec
    from routegate.stats.summary import RunSummary


def write_run(out: Path, summary: RunSummary, resilience: dict[str, Any] | None) -> Path:
    """summary.json and summary.md of a run (with ``resilience``: its files, and its section in
    summary.md); return summary.md's path."""
    write_json_atomic(out / "summary.json", summary.to_json())
    summary_md = render_run_markdown(summary)
    if resilience is not None:
        summary_md += "\n" + write_resilience(out, resilience)
    path = out / "summary.md"
    write_text_atomic(path, summary_md)
    return path


def write_resilience(out: Path, report: dict[str, Any]) -> str:
    """resilience.md and resilience.json of one policy's drill; return the Markdown section."""
    from routegate.report.resilience_markdown import render_resilience_markdown

    text = render_resilience_markdown({"policy": report})
    write_text_atomic(out / "resilience.md", text)
    write_text_atomic(out / "resilience.json", dumps_json(report))
    return text


def write_drill(out: Path, report: dict[str, Any], gates: Sequence[GateResult]) -> Path:
    """A drill's resilience files, its gates' results in resilience.json; return resilience.md's path."""
    write_resilience(out, {**report, "gates": [g.to_json() for g in gates]})
    return out / "resilience.md"


def diff_policies(baseline_spec: str, candidate_spec: str, baseline_name: str, candidate_name: str) -> str:
    """The unified diff of the two policy files (each a file or ``git:REF:path``) report.html shows."""
    return "".join(
        difflib.unified_diff(
            parse_source(baseline_spec).read_text().splitlines(keepends=True),
            parse_source(candidate_spec).read_text().splitlines(keepends=True),
            fromfile=baseline_name,
            tofile=candidate_name,
        )
    )


def write_gate(
    out: Path,
    outcome: GateOutcome,
    gates: GatesSpec,
    *,
    policy_diff: str,
    generated_at: bool,
    traces: bool,
    title: str | None = None,
) -> Path:
    """A gate's reports, then its verdict.json last (on disk, a verdict always has its reports beside
    it); with ``traces``, both runs' traces first. Return report.html's path."""
    from routegate.report.html import render_html
    from routegate.report.verdict import verdict_json

    verdict = verdict_json(outcome, gates)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if generated_at else None
    html = render_html(verdict, gates=outcome.verdict.gates, policy_diff=policy_diff, generated_at=stamp, title=title)
    report = out / "report.html"
    if traces:
        write_traces(out / "baseline.traces.parquet", outcome.baseline.traces)
        write_traces(out / "candidate.traces.parquet", outcome.candidate.traces)
    write_text_atomic(report, html)
    write_text_atomic(out / "summary.md", render_gate_markdown(verdict, report_path=str(report), title=title))
    write_text_atomic(out / "junit.xml", render_junit(verdict))
    write_text_atomic(out / "verdict.json", dumps_json(verdict))
    return report


def verdict_lines(verdict: Verdict, indent: str = "  ") -> list[str]:
    """What ``routegate gate`` and ``routegate check`` print of a verdict: each failed gate, each
    inconclusive one, and the counts (``1 of 34 gates failed, 3 inconclusive``) as the last line."""
    lines = [f"{indent}failed: {g.name}: {g.reason}" for g in verdict.failed]
    lines += [
        f"{indent}inconclusive: {g.name}: {g.reason.removeprefix('inconclusive: ')}"
        for g in verdict.inconclusive
        if g.passed
    ]
    unsure = f", {len(verdict.inconclusive)} inconclusive" if verdict.inconclusive else ""
    return [*lines, f"{len(verdict.failed)} of {len(verdict.gates)} gates failed{unsure}"]


def confidence_warnings(sides: Sequence[tuple[str, RunSummary]]) -> list[str]:
    """A warning per run whose confidence escalation had to decide without a confidence: those
    requests did not escalate, which a summary.json field alone (``confidence_missing``) hides."""
    out = []
    for side, summary in sides:
        missing = summary.metrics["overall"]["confidence_missing"]
        if missing:
            out.append(
                f"warning: {side}: {missing:,} request(s) reached an escalation threshold (escalation.steps) with "
                "no confidence recorded or scored, so they did not escalate (docs/engine.md)"
            )
    return out
