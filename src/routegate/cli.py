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
        for model, count in zip(by_model.column("model").to_pylist(), by_model.column("example_id_count").to_pylist(), strict=True):
            click.echo(f"  {model}: {count} missing")
        head = missing.slice(0, limit)
        for model, example in zip(head.column("model").to_pylist(), head.column("example_id").to_pylist(), strict=True):
            click.echo(f"  {model}\t{example}")
        if missing.num_rows > limit:
            click.echo(f"  ... and {missing.num_rows - limit} more")
        sys.exit(EXIT_GATE_FAILED)
