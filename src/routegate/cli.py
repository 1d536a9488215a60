"""The ``routegate`` command line.

Exit codes: 0 success (gate passed), 1 a gate failed, 2 bad input or usage.
Bad input never prints a traceback: ``InputError`` becomes one
``file:line:col: field: message`` line per problem on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from routegate import __version__
from routegate.errors import InputError, errors_only

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2


def _report_input_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(problem.format(), err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper  # type: ignore[return-value]


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        # click exits 2 on usage errors already; keep it that way for every command.
        return super().main(*args, **kwargs)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="routegate")
def main() -> None:
    """Gate routing-policy changes like deployments: replay, score, compare, verdict."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Treat warnings (e.g. shadowed rules) as errors.")
@_report_input_errors
def validate(paths: tuple[str, ...], strict: bool) -> None:
    """Check policies, catalogs and suites (files or folders; git:REF:path for policies)."""
    from routegate.validate import validate_paths

    checked, problems = validate_paths(paths)
    for problem in problems:
        click.echo(problem.format(), err=True)
    failed = errors_only(problems) or (strict and problems)
    if failed:
        n = len(problems) if strict else len(errors_only(problems))
        click.echo(f"{n} problem(s) found; {len(checked)} item(s) passed", err=True)
        sys.exit(EXIT_BAD_INPUT)
    for line in checked:
        click.echo(f"ok  {line}")


@main.command()
@click.argument("policy")
@_report_input_errors
def explain(policy: str) -> None:
    """Print POLICY as Markdown a product owner can read."""
    from routegate.explain import explain_policy
    from routegate.policy import load_policy

    click.echo(explain_policy(load_policy(policy)), nl=False)
    click.echo()


@main.command()
@click.argument("policy")
@click.argument("suite")
@click.option("--limit", default=50, show_default=True, help="List at most this many missing pairs.")
@_report_input_errors
def coverage(policy: str, suite: str, limit: int) -> None:
    """List the (model, example) pairs POLICY could need that SUITE has no recording for.

    Exit 0 when every pair is recorded, 1 when some are missing.
    """
    from routegate.coverage import missing_pairs, needed_pairs
    from routegate.policy import load_policy
    from routegate.suite import load_suite

    loaded_policy = load_policy(policy)
    loaded_suite = load_suite(suite)
    need = needed_pairs(loaded_suite.examples, loaded_policy.spec)
    missing = missing_pairs(loaded_suite.examples, loaded_suite.recordings, loaded_policy.spec)
    click.echo(f"{need.num_rows} (model, example) pairs could be needed; {missing.num_rows} have no recording")
    if missing.num_rows:
        by_model = missing.group_by("model").aggregate([("example_id", "count")]).sort_by("model")
        for model, count in zip(
            by_model.column("model").to_pylist(), by_model.column("example_id_count").to_pylist(), strict=True
        ):
            click.echo(f"  {model}: {count} missing")
        head = missing.slice(0, limit)
        for model, example in zip(head.column("model").to_pylist(), head.column("example_id").to_pylist(), strict=True):
            click.echo(f"  {model}\t{example}")
        if missing.num_rows > limit:
            click.echo(f"  ... and {missing.num_rows - limit} more")
        sys.exit(EXIT_GATE_FAILED)


def _progress_hook(enabled: bool) -> tuple[Any, Any]:
    """A rich status line on a terminal (never in CI or when piped); ``(hook, context)``."""
    import contextlib
    import os

    if not enabled or os.environ.get("CI") or not sys.stderr.isatty():
        return None, contextlib.nullcontext()
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("replaying", total=None)

    def hook(step: int, pending: int) -> None:
        progress.update(task, description=f"replay step {step}: {pending:,} requests pending")

    return hook, progress


@main.command()
@click.option("--policy", "policy_spec", required=True, help="Policy file or git:REF:path.")
@click.option("--suite", "suite_paths", multiple=True, required=True, help="Suite folder; repeat for several.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option(
    "--on-missing",
    type=click.Choice(["error", "skip"]),
    default="error",
    show_default=True,
    help="A needed recording is missing: stop before any work (error) or count the call as failed (skip).",
)
@click.option("--seed", default=None, type=int, help="Bootstrap seed (default 20240101); reported in the summary.")
@click.option("--progress/--no-progress", default=True, help="Progress on a terminal; always silent in CI.")
@_report_input_errors
def run(
    policy_spec: str, suite_paths: tuple[str, ...], out_dir: str, on_missing: str, seed: int | None, progress: bool
) -> None:
    """Replay one policy over one or more suites: traces.parquet, summary.json, summary.md."""
    from pathlib import Path

    from routegate.pipeline import RunOptions, run_policy
    from routegate.policy import load_policy
    from routegate.run_report import render_run_markdown
    from routegate.stats import DEFAULT_SEED
    from routegate.suite import load_suite
    from routegate.writer import write_json_atomic, write_parquet_atomic, write_text_atomic

    policy = load_policy(policy_spec)
    suites = [load_suite(p) for p in suite_paths]
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise InputError.single(",".join(suite_paths), "the same suite is given twice")
    hook, context = _progress_hook(progress)
    with context:
        result = run_policy(
            policy,
            suites,
            RunOptions(on_missing=on_missing, seed=DEFAULT_SEED if seed is None else seed, on_step=hook),  # type: ignore[arg-type]
        )
    out = Path(out_dir)
    write_parquet_atomic(out / "traces.parquet", result.traces)
    write_json_atomic(out / "summary.json", result.summary)
    write_text_atomic(out / "summary.md", render_run_markdown(result.summary))
    overall = result.summary["metrics"]["overall"]
    click.echo(
        f"{policy.name}: {overall['n']:,} requests, quality {100 * overall['quality']['mean']:.1f}%, "
        f"${overall['cost_per_1k_usd']:.4f} per 1k, p95 {overall['latency_ms']['p95']:,.0f} ms, "
        f"errors {100 * overall['error_rate']:.2f}% -> {out / 'summary.md'}"
    )


def _policy_text(spec: str) -> str:
    from routegate.sources import parse_source

    return parse_source(spec).read_text()


@main.command()
@click.option("--baseline", "baseline_spec", required=True, help="Baseline policy (file or git:REF:path).")
@click.option("--candidate", "candidate_spec", required=True, help="Candidate policy (file or git:REF:path).")
@click.option("--suite", "suite_paths", multiple=True, required=True, help="Suite folder; repeat for several.")
@click.option("--gates", "gates_spec", default=None, help="Gates file (default: the documented defaults).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--on-missing", type=click.Choice(["error", "skip"]), default="error", show_default=True)
@click.option("--seed", default=None, type=int, help="Bootstrap seed (default 20240101); reported everywhere.")
@click.option("--generated-at/--no-generated-at", default=False, help="Print a generated-at line in report.html.")
@click.option("--traces", is_flag=True, help="Also write baseline.traces.parquet and candidate.traces.parquet.")
@click.option("--progress/--no-progress", default=True, help="Progress on a terminal; always silent in CI.")
@_report_input_errors
def gate(
    baseline_spec: str,
    candidate_spec: str,
    suite_paths: tuple[str, ...],
    gates_spec: str | None,
    out_dir: str,
    on_missing: str,
    seed: int | None,
    generated_at: bool,
    traces: bool,
    progress: bool,
) -> None:
    """Replay baseline and candidate over the same suites, compare paired, apply gates.

    Writes report.html, summary.md, verdict.json and junit.xml. Exit 0 when every
    gate passes, 1 when one fails, 2 on bad input.
    """
    import datetime as dt
    import difflib
    from pathlib import Path

    from routegate.frontier import single_model_points
    from routegate.gate_report import render_gate_markdown
    from routegate.gates import load_gates
    from routegate.html_report import render_html
    from routegate.junit import render_junit
    from routegate.pipeline import RunOptions
    from routegate.policy import load_policy
    from routegate.stats import DEFAULT_SEED
    from routegate.suite import load_suite
    from routegate.verdict import gate_policies, verdict_json
    from routegate.writer import dumps_json, write_parquet_atomic, write_text_atomic

    baseline = load_policy(baseline_spec)
    candidate = load_policy(candidate_spec)
    gates_cfg, gates_source = load_gates(gates_spec)
    suites = [load_suite(p) for p in suite_paths]
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise InputError.single(",".join(suite_paths), "the same suite is given twice")
    hook, context = _progress_hook(progress)
    options = RunOptions(on_missing=on_missing, seed=DEFAULT_SEED if seed is None else seed, on_step=hook)  # type: ignore[arg-type]
    with context:
        outcome = gate_policies(baseline, candidate, suites, gates_cfg, gates_source=gates_source, options=options)
        points = single_model_points(suites, candidate, seed=options.seed)
    verdict = verdict_json(outcome, gates_cfg)
    verdict["single_models"] = points
    diff = "".join(
        difflib.unified_diff(
            _policy_text(baseline_spec).splitlines(keepends=True),
            _policy_text(candidate_spec).splitlines(keepends=True),
            fromfile=baseline.source,
            tofile=candidate.source,
        )
    )
    out = Path(out_dir)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if generated_at else None
    html = render_html(verdict, policy_diff=diff, generated_at=stamp)
    report = out / "report.html"
    # Reports first, verdict last: a verdict.json on disk always has its reports beside it.
    if traces:
        write_parquet_atomic(out / "baseline.traces.parquet", outcome.baseline.traces)
        write_parquet_atomic(out / "candidate.traces.parquet", outcome.candidate.traces)
    write_text_atomic(report, html)
    write_text_atomic(out / "summary.md", render_gate_markdown(verdict, report_path=str(report)))
    write_text_atomic(out / "junit.xml", render_junit(verdict))
    write_text_atomic(out / "verdict.json", dumps_json(verdict))
    status = "PASSED" if outcome.verdict.passed else "FAILED"
    for g in outcome.verdict.failed:
        click.echo(f"  failed: {g.name}: {g.reason}")
    failed, total = len(outcome.verdict.failed), len(outcome.verdict.gates)
    click.echo(f"routegate gate {status}: {failed} of {total} gates failed; report: {report}")
    sys.exit(EXIT_OK if outcome.verdict.passed else EXIT_GATE_FAILED)


@main.command(
    "import", context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
)
@click.pass_context
def import_(ctx: click.Context) -> None:
    """Build suites from public per-example results (routellm, alpacaeval); see `routegate import --help`."""
    from routegate.importers.cli import import_group  # imported on use: it pulls in pandas

    import_group.main(args=ctx.args, prog_name="routegate import", standalone_mode=True)
