"""The ``routegate check`` command (gate what a branch changed: ``project.check``, ``project.run``) and
``routegate validate`` (project files with all they declare: ``project.validate``).

Registered on the ``routegate`` group by ``routegate.cli``; the work is imported on use.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click


@click.command()
@click.option("--base", "base_ref", required=True, help="The branch or commit to compare with, e.g. origin/main.")
@click.option("--all", "every", is_flag=True, help="Gate every declared policy, changed or not (the nightly).")
@click.option("--out", "out_dir", default="reports/check", show_default=True, type=click.Path(file_okay=False))
@click.option("--project", "project_file", default="routegate.yaml", show_default=True, help="The project file.")
@click.option("--seed", default=None, type=int, help="Bootstrap seed (default 20240101); reported in every output.")
@click.option(
    "--annotations/--no-annotations",
    default=None,
    help="Print GitHub annotations on the policy files' lines (default: when GITHUB_ACTIONS=true).",
)
def check(
    base_ref: str, every: bool, out_dir: str, project_file: str, seed: int | None, annotations: bool | None
) -> None:
    """Gate each declared policy the branch changed (or whose catalog, gates, scenarios or suites it
    changed) against its own version at the merge base with BASE; new policies against their reference.

    Writes OUT/check.md, OUT/check.json and each gated policy's reports in OUT/<policy>/. Exit 0 when
    every gate passes (or nothing was gated), 1 when one fails, 2 on bad input.
    """
    from routegate.cli import EXIT_GATE_FAILED, EXIT_OK, report_input_errors

    started = time.perf_counter()
    annotate = annotations if annotations is not None else os.environ.get("GITHUB_ACTIONS") == "true"
    code = report_input_errors(_check)(base_ref, every, Path(out_dir), Path(project_file), seed, annotate)
    click.echo(f"routegate check: {time.perf_counter() - started:.1f} s")
    sys.exit(EXIT_OK if code == 0 else EXIT_GATE_FAILED)


def _check(base_ref: str, every: bool, out: Path, project_file: Path, seed: int | None, annotate: bool) -> int:
    from routegate.project.changes import find_changes
    from routegate.project.check import catalog_files, plan_check
    from routegate.project.config import load_project
    from routegate.stats.intervals import DEFAULT_SEED

    root = project_file.resolve().parent
    project = load_project(root, project_file.name)
    changes = find_changes(base_ref, repo=root)
    if changes.repo.resolve() != root:
        from routegate.errors import InputError

        raise InputError.single(str(project_file), f"the project file must be at the repository root {changes.repo}")
    plan = plan_check(project, changes, catalog_files(project, project.policies()), every=every)
    for note in plan.notes:
        click.echo(f"  {note.path}: {note.what}")
    if not plan.gatings:
        from routegate.project.run import write_check

        path = write_check(out, plan, [], reports_url=os.environ.get("ROUTEGATE_REPORTS_URL"))
        click.echo(
            f"nothing routing-relevant changed since {base_ref} ({len(changes.changes)} file(s) changed): "
            f"no policy gated -> {path}"
        )
        return 0
    from routegate.project.run import load_inputs, run_check, write_check

    loaded = load_inputs(project, plan)  # every input, both sides, before any report
    checked = run_check(loaded, out, plan, seed=DEFAULT_SEED if seed is None else seed)
    from routegate.outputs import verdict_lines

    for c in checked:
        *lines, counts = verdict_lines(c.outcome.verdict, indent="    ")
        status = "PASSED" if c.outcome.verdict.passed else "FAILED"
        click.echo("\n".join([f"  {c.gating.policy} ({c.gating.why}): {status} ({counts})", *lines]))
    path = write_check(out, plan, checked, reports_url=os.environ.get("ROUTEGATE_REPORTS_URL"))
    if annotate:
        _annotate(checked, loaded)
    failed = [c for c in checked if not c.outcome.verdict.passed]
    click.echo(
        f"routegate check {'FAILED' if failed else 'PASSED'}: {len(failed)} of {len(checked)} policies -> {path}"
    )
    return 1 if failed else 0


def _annotate(checked: list[Any], loaded: list[Any]) -> None:
    """GitHub annotations on each gated policy's own lines (``project.annotations``)."""
    import numpy as np

    from routegate.project import annotations as a

    for c, item in zip(checked, loaded, strict=True):
        policy = c.gating.policy
        text = Path(c.gating.candidate).read_text(encoding="utf-8")
        for line in a.warning_annotations(policy, item.candidate.warnings):
            click.echo(line)
        for line in a.unmatched_annotations(policy, text, item.candidate, item.suites):
            click.echo(line)
        if not c.outcome.verdict.passed:
            base, cand = c.outcome.baseline.traces, c.outcome.candidate.traces
            click.echo(a.failure_annotation(policy, text, [(g.name, g.reason) for g in c.outcome.verdict.failed]))
            if (tier := a.worst_tier(base, cand)) is not None:
                click.echo(a.tier_annotation(policy, text, *tier))
            rules = np.concatenate([r.replay.plan.rule for r in c.outcome.candidate.runs])
            if (rule := a.worst_rule(base, cand, rules)) is not None:
                click.echo(a.rule_annotation(policy, text, item.candidate, *rule))


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--strict", is_flag=True, help="Treat warnings (e.g. shadowed rules) as errors.")
def validate(paths: tuple[str, ...], strict: bool) -> None:
    """Check policies, catalogs, suites, project files with all they declare (no PATHS: ./routegate.yaml)."""
    from routegate.cli import EXIT_BAD_INPUT, report_input_errors
    from routegate.errors import errors_only
    from routegate.project.validate import validate_all

    checked, problems = report_input_errors(validate_all)(paths or ("routegate.yaml",))
    for problem in problems:
        click.echo(problem.format(), err=True)
    failed = errors_only(problems) or (strict and problems)
    if failed:
        n = len(problems) if strict else len(errors_only(problems))
        click.echo(f"{n} problem(s) found; {len(checked)} item(s) passed", err=True)
        sys.exit(EXIT_BAD_INPUT)
    for line in checked:
        click.echo(f"ok  {line}")
