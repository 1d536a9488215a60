"""Carry out a ``CheckPlan``: load every input first, gate each policy, write its reports and the combined ones.

Every policy (both sides), suite, gates file and scenario is loaded before the first replay, so bad
input (a policy that does not parse at the merge base, a missing suite) stops the check with exit 2
and no report. Each gated policy's reports go to ``OUT/<policy path with / as __>/``; ``OUT/check.md``
(for the PR comment and the job summary) and ``OUT/check.json`` hold the combined verdict, written last.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routegate.faults.resolve import ScenarioArg, parse_scenario_args
from routegate.gates.outcome import GateOutcome
from routegate.gates.result import Verdict
from routegate.gates.spec import GatesSpec, check_slice_columns, load_gates
from routegate.load.policy import Policy, load_policy
from routegate.load.suite import Suite, load_suite
from routegate.outputs import diff_policies, write_gate
from routegate.pipeline import RunOptions, gate_policies
from routegate.project.check import SUITE_EDITED, CheckPlan, Gating, here
from routegate.project.config import Project
from routegate.project.suites import suite_change
from routegate.report.mdtext import md_cell, md_code, md_table
from routegate.writer import dumps_json, write_text_atomic

CHECK_SCHEMA = 1
"""check.json's ``schema_version``."""


@dataclass(frozen=True)
class Loaded:
    """One gating's inputs, loaded and checked."""

    gating: Gating
    baseline: Policy
    candidate: Policy
    suites: tuple[Suite, ...]
    gates: GatesSpec
    gates_source: str
    scenarios: tuple[ScenarioArg, ...]


@dataclass(frozen=True)
class Checked:
    """One gated policy's outcome and where its reports are."""

    gating: Gating
    """What was gated and why."""
    outcome: GateOutcome
    """The gate's outcome."""
    folder: str
    """Its reports' folder, relative to the output folder."""


def load_inputs(project: Project, plan: CheckPlan) -> list[Loaded]:
    """Every gating's inputs; every problem of every input in one ``InputError``, before any work.
    A policy gated because a suite changed has the suite's change stated in its ``why``
    (old and new version and sha256: ``project.suites``)."""
    suites: dict[str, Suite] = {}
    out = []
    for g in plan.gatings:
        baseline, candidate = load_policy(g.baseline), load_policy(g.candidate)
        for name in g.entry.suites:
            if name not in suites:
                suites[name] = load_suite(project.root / name)
        gates, source = load_gates(here(project, g.entry.gates) if g.entry.gates is not None else None)
        scenarios = parse_scenario_args(
            [here(project, s) if s.endswith((".yaml", ".yml")) else s for s in g.entry.scenarios], [candidate]
        )
        picked = tuple(suites[name] for name in g.entry.suites)
        check_slice_columns(gates, list(dict.fromkeys(c for s in picked for c in s.slice_columns)), source)
        suite = g.why.removeprefix(SUITE_EDITED)
        if g.why.startswith(SUITE_EDITED) and suite in suites:
            change = suite_change(project.root, plan.changes.merge_base, suite, suites[suite])
            g = dataclasses.replace(g, why=SUITE_EDITED + change.describe())
        out.append(Loaded(g, baseline, candidate, picked, gates, source, tuple(scenarios)))
    return out


def folder_of(policy: str) -> str:
    """The reports folder of a policy file: its path with ``/`` as ``__``, without ``.yaml``."""
    return policy.removesuffix(".yaml").removesuffix(".yml").replace("/", "__")


def run_check(loaded: list[Loaded], out: Path, plan: CheckPlan, *, seed: int) -> list[Checked]:
    """Gate each loaded policy and write its reports (``routegate gate``'s files) in its own folder,
    titled by the file and the refs (``policies/x.yaml: main@abc1234 -> working tree``)."""
    checked = []
    base = f"{plan.changes.base_ref}@{plan.changes.merge_base[:7]}"
    for item in loaded:
        g = item.gating
        options = RunOptions(on_missing=g.entry.on_missing, seed=seed)
        outcome = gate_policies(
            item.baseline,
            item.candidate,
            item.suites,
            item.gates,
            gates_source=item.gates_source,
            options=options,
            scenarios=item.scenarios,
        )
        folder = folder_of(g.policy)
        diff = diff_policies(g.baseline, g.candidate, item.baseline.source, item.candidate.source)
        against = g.baseline if not g.baseline.startswith("git:") else base
        title = f"{g.policy}: {against} -> working tree (HEAD {plan.changes.head[:7]})"
        write_gate(out / folder, outcome, item.gates, policy_diff=diff, generated_at=False, traces=False, title=title)
        checked.append(Checked(g, outcome, folder))
    return checked


def verdict_cell(verdict: Verdict) -> str:
    """A gated policy's verdict in a table: ``passed``, ``passed, 2 inconclusive`` or ``**FAILED**``."""
    if not verdict.passed:
        return "**FAILED**"
    return f"passed, {len(verdict.inconclusive)} inconclusive" if verdict.inconclusive else "passed"


def check_json(plan: CheckPlan, checked: list[Checked]) -> dict[str, Any]:
    """check.json: the combined verdict, each gated policy's verdict and why, the reported changes."""
    return {
        "schema_version": CHECK_SCHEMA,
        "passed": all(c.outcome.verdict.passed for c in checked),
        "base": {"ref": plan.changes.base_ref, "merge_base": plan.changes.merge_base},
        "head": plan.changes.head,
        "changed_files": len(plan.changes.changes),
        "gated": [
            {
                "policy": c.gating.policy,
                "why": c.gating.why,
                "baseline": c.gating.baseline,
                "absolute_gates_only": c.gating.absolute_only,
                "passed": c.outcome.verdict.passed,
                "failed": [g.name for g in c.outcome.verdict.failed],
                "inconclusive": [g.name for g in c.outcome.verdict.inconclusive],
                "reports": c.folder,
            }
            for c in checked
        ],
        "reported": [{"path": n.path, "what": n.what} for n in plan.notes],
    }


def check_markdown(plan: CheckPlan, checked: list[Checked]) -> str:
    """check.md: one line for the whole check, a row per gated policy, the failed gates, the reported changes."""
    passed = all(c.outcome.verdict.passed for c in checked)
    base = f"{plan.changes.base_ref}@{plan.changes.merge_base[:7]}"
    out = [f"## routegate check: {'PASSED' if passed else 'FAILED'}", ""]
    if not checked:
        out += [f"Nothing routing-relevant changed since {md_code(base)}: no policy was gated.", ""]
    else:
        rows = [
            [
                _code_cell(c.gating.policy),
                md_cell(c.gating.why),
                verdict_cell(c.outcome.verdict),
                f"{len(c.outcome.verdict.failed)} of {len(c.outcome.verdict.gates)}",
                _code_cell(f"{c.folder}/report.html"),
            ]
            for c in checked
        ]
        out += [f"Against {md_code(base)}, {len(plan.changes.changes)} changed file(s):", ""]
        out += md_table(["policy", "why", "verdict", "gates failed", "report"], rows)
        for c in checked:
            for g in c.outcome.verdict.failed:
                out.append(f"- {md_code(c.gating.policy)}: {md_code(g.name)}: {md_cell(g.reason, limit=400)}")
        out.append("")
    if plan.notes:
        out += ["Reported, not gated:", ""]
        out += [f"- {md_code(n.path)}: {md_cell(n.what)}" for n in plan.notes]
        out.append("")
    return "\n".join(out)


def _code_cell(text: str) -> str:
    """A code span inside a table cell: GitHub splits cells on ``|`` even within backticks."""
    return md_code(text).replace("|", "\\|")


def write_check(out: Path, plan: CheckPlan, checked: list[Checked], *, reports_url: str | None = None) -> Path:
    """check.md, comment.md (the sticky PR comment, ``project.comment``; ``reports_url``: where the
    uploaded reports are), then check.json (the combined verdict) last; return check.md's path."""
    from routegate.project.comment import render_comment

    path = out / "check.md"
    write_text_atomic(path, check_markdown(plan, checked))
    sections = {c.gating.policy: (out / c.folder / "summary.md").read_text(encoding="utf-8") for c in checked}
    write_text_atomic(out / "comment.md", render_comment(plan, checked, sections, artifact_url=reports_url))
    write_text_atomic(out / "check.json", dumps_json(check_json(plan, checked)))
    return path
