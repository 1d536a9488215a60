"""The ``routegate`` command line.

Exit codes: 0 success (gate passed), 1 a gate failed, 2 bad input or usage.
Bad input never prints a traceback: ``InputError`` becomes one
``file:line:col: field: message`` line per problem on stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from functools import partial, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from routegate._version import __version__
from routegate.errors import InputError
from routegate.inputs import load_suites, parse_scenarios, select_providers
from routegate.power import power
from routegate.progress import build_progress
from routegate.project.cli import check, validate

if TYPE_CHECKING:  # each command imports what it uses when it runs: ``routegate --help`` stays fast
    from routegate.engine.coverage import OnMissing

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a tool whose reader went away (``routegate explain P | head``)."""


def report_input_errors(func: F) -> F:
    """``func`` with bad input (``InputError``, an unwritable output) as exit 2 and one line per problem."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(problem.format(), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except BrokenPipeError:  # stdout closed by its reader (``| head``): end quietly, as a Unix tool does
            sys.exit(EXIT_BROKEN_PIPE)
        except OSError as exc:  # e.g. an output folder that cannot be created or written
            where = exc.filename if exc.filename is not None else "-"
            click.echo(f"{where}:0:0: -: cannot write: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper  # type: ignore[return-value]


_providers_option = click.option(
    "--providers",
    type=click.Choice(["recorded", "live"]),
    default="recorded",
    show_default=True,
    help="Answer from the suites' recordings, or call the catalog's providers live (docs/providers.md).",
)
_seed_option = click.option(
    "--seed", default=None, type=int, help="Bootstrap seed (default 20240101); reported in every output."
)
_SCENARIO_HELP = (
    "Fault scenario: a YAML file, a built-in name, or 'builtin' for all (docs/faults.md); repeat for several."
)
_scenario_option = click.option("--scenario", "scenario_args", multiple=True, help=_SCENARIO_HELP)
_replay_options = [
    click.option("--suite", "suite_paths", multiple=True, required=True, help="Suite folder; repeat for several."),
    click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder."),
    click.option(
        "--on-missing",
        type=click.Choice(["error", "skip"]),
        default="error",
        show_default=True,
        help="A needed recording is missing: stop before any work (error) or count the call as failed (skip).",
    ),
    click.option("--progress/--no-progress", default=True, help="Progress on a terminal; always silent in CI."),
]
"""The options every replaying command shares: suites, output folder, missing recordings, progress."""


def _with_replay_options(func: F) -> F:
    """``func`` with the ``_replay_options``, in their order."""
    for option in reversed(_replay_options):
        func = option(func)
    return func


def entry() -> None:
    """The ``routegate`` console script: ``main``, then an exit without the interpreter's teardown.

    A command has written (atomically, fsynced) and closed every output before it returns; what
    the teardown would add is freeing a replay's objects and arrays one by one, ~0.1 s at 1M
    requests (docs/performance.md), for an OS that takes the whole address space back at once.
    The exit code is the one ``sys.exit`` would give; stdout and stderr are flushed first.
    Another exception propagates as usual (a traceback and the normal teardown).
    """
    try:
        main()
        code = EXIT_OK
    except SystemExit as exc:
        code = _exit_code(exc.code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (``| head``): nothing left to say
            stream.flush()
    os._exit(code)


def _exit_code(code: object) -> int:
    """The process exit code for ``SystemExit(code)``, as the interpreter computes it (a message: printed, 1)."""
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="routegate")
def main() -> None:
    """Gate routing-policy changes like deployments: replay, score, compare, verdict."""


@main.command()
@click.argument("policy")
@report_input_errors
def explain(policy: str) -> None:
    """Print POLICY as Markdown a product owner can read."""
    from routegate.load.policy import load_policy
    from routegate.report.explain import explain_policy

    click.echo(explain_policy(load_policy(policy)), nl=False)
    click.echo()


@main.command()
@click.argument("policy")
@click.argument("suite")
@click.option("--limit", default=50, show_default=True, help="List at most this many missing pairs.")
@report_input_errors
def coverage(policy: str, suite: str, limit: int) -> None:
    """List the (model, example) pairs POLICY could need that SUITE has no recording for.

    Exit 0 when every pair is recorded, 1 when some are missing.
    """
    from routegate.engine.coverage import missing_pairs, needed_pairs
    from routegate.load.policy import load_policy
    from routegate.load.suite import load_suite

    loaded_policy = load_policy(policy)
    loaded_suite = load_suite(suite, defer=False)  # unlabelled requests need their messages for PII detection
    need = needed_pairs(loaded_suite.examples, loaded_policy.spec)
    missing = missing_pairs(loaded_suite.examples, loaded_suite.recordings, loaded_policy.spec)
    click.echo(f"{need.num_rows} (model, example) pairs could be needed; {missing.num_rows} have no recording")
    if missing.num_rows:
        by_model = missing.group_by("model").aggregate([("example_id", "count")]).sort_by("model")
        for row in by_model.to_pylist():
            click.echo(f"  {row['model']}: {row['example_id_count']} missing")
        for row in missing.slice(0, limit).to_pylist():
            click.echo(f"  {row['model']}\t{row['example_id']}")
        if missing.num_rows > limit:
            click.echo(f"  ... and {missing.num_rows - limit} more")
        sys.exit(EXIT_GATE_FAILED)


@main.command()
@click.option("--policy", "policy_spec", required=True, help="Policy file or git:REF:path.")
@_with_replay_options
@_seed_option
@_providers_option
@_scenario_option
@report_input_errors
def run(
    policy_spec: str,
    suite_paths: tuple[str, ...],
    out_dir: str,
    on_missing: OnMissing,
    seed: int | None,
    progress: bool,
    providers: str,
    scenario_args: tuple[str, ...],
) -> None:
    """Replay one policy over one or more suites: traces.parquet, summary.json, summary.md.

    With --scenario, also drill each fault scenario: resilience.json, resilience.md (and its section in summary.md).
    """
    from routegate.engine.traces import write_traces
    from routegate.load.policy import load_policy
    from routegate.outputs import confidence_warnings, write_run
    from routegate.pipeline import RunOptions, run_policy_writing_traces
    from routegate.stats.intervals import DEFAULT_SEED

    policy = load_policy(policy_spec)
    scenarios = parse_scenarios(scenario_args, [policy])
    suites = load_suites(suite_paths)
    hook, context = build_progress(progress)
    live, extra = select_providers(providers)
    out = Path(out_dir)
    with context, live:
        options = RunOptions(on_missing=on_missing, seed=DEFAULT_SEED if seed is None else seed, on_step=hook, **extra)
        result = run_policy_writing_traces(policy, suites, options, partial(write_traces, out / "traces.parquet"))
        resilience = None
        if scenarios:
            from routegate.pipeline import drill_policy

            resilience = drill_policy(policy, suites, scenarios, options, result)
    summary_md = write_run(out, result.summary, resilience)
    for warning in confidence_warnings([(policy.name, result.summary)]):
        click.echo(warning, err=True)
    overall = result.summary.metrics["overall"]
    click.echo(
        f"{policy.name}: {overall['n']:,} requests, quality {100 * overall['quality']['mean']:.1f}%, "
        f"${overall['cost_per_1k_usd']:.4f} per 1k, p95 {overall['latency_ms']['p95']:,.0f} ms, "
        f"errors {100 * overall['error_rate']:.2f}% -> {summary_md}"
    )


@main.command()
@click.option("--policy", "policy_spec", required=True, help="Policy file or git:REF:path.")
@click.option("--scenario", "scenario_args", multiple=True, required=True, help=_SCENARIO_HELP)
@click.option("--gates", "gates_spec", default=None, help="Gates file whose resilience section to apply (exit 1).")
@_with_replay_options
@report_input_errors
def drill(
    policy_spec: str,
    suite_paths: tuple[str, ...],
    scenario_args: tuple[str, ...],
    out_dir: str,
    gates_spec: str | None,
    on_missing: OnMissing,
    progress: bool,
) -> None:
    """Replay POLICY without faults and under each fault scenario: resilience.json and resilience.md.

    Exit 0, or 1 when --gates is given and a resilience gate fails; 2 on bad input.
    """
    from routegate.gates.resilience import privacy_under_faults, resilience_gates
    from routegate.gates.spec import load_gates
    from routegate.load.policy import load_policy
    from routegate.outputs import write_drill
    from routegate.pipeline import RunOptions, drill_policy, run_policy

    policy = load_policy(policy_spec)
    scenarios = parse_scenarios(scenario_args, [policy])
    gates_cfg, _ = load_gates(gates_spec)
    suites = load_suites(suite_paths)
    hook, context = build_progress(progress)
    options = RunOptions(on_missing=on_missing, on_step=hook)
    with context:
        result = run_policy(policy, suites, options)
        report = drill_policy(policy, suites, scenarios, options, result)
    # Privacy under faults is a hard gate; the other resilience gates apply with --gates.
    gates = resilience_gates(gates_cfg.resilience, report) if gates_spec is not None else privacy_under_faults(report)
    resilience_md = write_drill(Path(out_dir), report, gates)
    for s in report["scenarios"]:
        click.echo(f"  {s['name']}: {s['sentence']}")
    failed = [g for g in gates if not g.passed]
    for g in failed:
        click.echo(f"  failed: {g.name}: {g.reason}")
    click.echo(f"routegate drill: {len(report['scenarios'])} scenario(s) -> {resilience_md}")
    sys.exit(EXIT_GATE_FAILED if failed else EXIT_OK)


@main.command()
@click.option("--baseline", "baseline_spec", required=True, help="Baseline policy (file or git:REF:path).")
@click.option("--candidate", "candidate_spec", required=True, help="Candidate policy (file or git:REF:path).")
@click.option("--gates", "gates_spec", default=None, help="Gates file (default: the documented defaults).")
@_with_replay_options
@_seed_option
@click.option("--generated-at/--no-generated-at", default=False, help="Print a generated-at line in report.html.")
@click.option("--traces", is_flag=True, help="Also write baseline.traces.parquet and candidate.traces.parquet.")
@_providers_option
@_scenario_option
@report_input_errors
def gate(
    baseline_spec: str,
    candidate_spec: str,
    suite_paths: tuple[str, ...],
    gates_spec: str | None,
    out_dir: str,
    on_missing: OnMissing,
    seed: int | None,
    generated_at: bool,
    traces: bool,
    progress: bool,
    providers: str,
    scenario_args: tuple[str, ...],
) -> None:
    """Replay baseline and candidate over the same suites, compare paired, apply gates.

    Writes report.html, summary.md, verdict.json and junit.xml. Exit 0 when every
    gate passes, 1 when one fails, 2 on bad input.
    """
    from routegate.gates.spec import load_gates
    from routegate.load.policy import load_policy
    from routegate.outputs import confidence_warnings, diff_policies, verdict_lines, write_gate
    from routegate.pipeline import RunOptions, gate_policies
    from routegate.stats.intervals import DEFAULT_SEED

    baseline = load_policy(baseline_spec)
    candidate = load_policy(candidate_spec)
    gates_cfg, gates_source = load_gates(gates_spec)
    scenarios = parse_scenarios(scenario_args, [candidate, baseline])
    suites = load_suites(suite_paths)
    hook, context = build_progress(progress)
    live, extra = select_providers(providers)
    options = RunOptions(on_missing=on_missing, seed=DEFAULT_SEED if seed is None else seed, on_step=hook, **extra)
    with context, live:
        outcome = gate_policies(
            baseline, candidate, suites, gates_cfg, gates_source=gates_source, options=options, scenarios=scenarios
        )
    diff = diff_policies(baseline_spec, candidate_spec, baseline.source, candidate.source)
    report = write_gate(Path(out_dir), outcome, gates_cfg, policy_diff=diff, generated_at=generated_at, traces=traces)
    *lines, counts = verdict_lines(outcome.verdict)
    sides = [
        (f"baseline {baseline.name}", outcome.baseline.summary),
        (f"candidate {candidate.name}", outcome.candidate.summary),
    ]
    for warning in confidence_warnings(sides):
        click.echo(warning, err=True)
    click.echo(
        "\n".join([*lines, f"routegate gate {'PASSED' if outcome.verdict else 'FAILED'}: {counts}; report: {report}"])
    )
    sys.exit(EXIT_OK if outcome.verdict.passed else EXIT_GATE_FAILED)


@main.command()
@click.option("--suite", "suite_path", required=True, help="Suite folder whose recordings to fill.")
@click.option("--models", "model_args", multiple=True, required=True, help="Model ids (repeat, or comma-separated).")
@click.option("--catalog", "catalog_path", default="policies/models.yaml", show_default=True, help="Model catalog.")
@click.option("--only-missing", is_flag=True, help="Call only the (example, model) pairs with no recording.")
@click.option("--retries", default=3, show_default=True, type=click.IntRange(1, 10), help="Calls per pair at most.")
@click.option("--max-tokens", default=None, type=int, help="max_tokens sent with each call.")
@click.option("--temperature", default=None, type=float, help="temperature sent with each call.")
@click.option("--stream/--no-stream", default=False, help="Stream answers (records time to first token).")
@click.option("--deadline", "deadline_s", default=None, type=float, help="Deadline of the whole run, in seconds.")
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1), help="Calls journaled at once.")
@report_input_errors
def record(
    suite_path: str,
    model_args: tuple[str, ...],
    catalog_path: str,
    only_missing: bool,
    retries: int,
    max_tokens: int | None,
    temperature: float | None,
    stream: bool,
    deadline_s: float | None,
    batch_size: int,
) -> None:
    """Fill a suite's recordings by calling live providers (resumable: re-run after a kill)."""
    from routegate.load.policy import Retry, load_catalog_source
    from routegate.load.sources import parse_source
    from routegate.load.suite import load_suite
    from routegate.providers.endpoint import LiveOptions
    from routegate.providers.record import record_suite

    models = [m.strip() for arg in model_args for m in arg.split(",") if m.strip()]
    catalog, _ = load_catalog_source(parse_source(catalog_path))
    suite = load_suite(suite_path, defer=False)  # every prompt is sent, every recording merged
    options = LiveOptions(stream=stream, max_tokens=max_tokens, temperature=temperature, deadline_s=deadline_s)
    retry = Retry(max_attempts=retries)
    stats = record_suite(
        suite, models, catalog, only_missing=only_missing, options=options, retry=retry, batch_size=batch_size
    )
    click.echo(
        f"recorded {stats.made:,} calls ({stats.failed:,} failed; {stats.resumed:,} resumed from an interrupted run) "
        f"into {suite.folder / suite.manifest.recordings}"
    )


@main.command(
    "import", context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
)
@click.pass_context
def import_(ctx: click.Context) -> None:
    """Build suites from public per-example results (routellm, alpacaeval); see `routegate import --help`."""
    from routegate.importers.cli import import_group  # imported on use: it pulls in pandas

    import_group.main(args=ctx.args, prog_name="routegate import", standalone_mode=True)


main.add_command(check)
main.add_command(power)
main.add_command(validate)
