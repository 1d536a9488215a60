"""``routegate import``: build the bundled suites from the shared source data.

``routegate.cli``'s ``import`` command hands its arguments to ``import_group``
(imported on use: the importers pull in pandas).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from routegate.errors import InputError
from routegate.importers.common import DEFAULT_SEED

EXIT_BAD_INPUT = 2

_data = click.option(
    "--data",
    "data",
    envvar="ROUTEGATE_DATA",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The source data folder (holds routellm/ and alpaca_eval/); or set ROUTEGATE_DATA.",
)
_out = click.option(
    "--out",
    "out",
    default="eval_suites",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the suite folders are written into.",
)
_seed = click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int, help="Seed of the latency jitter.")


def _run(build: Callable[[], list[Path]]) -> None:
    from routegate.load.suite import load_suite

    try:
        folders = build()
        for folder in folders:
            suite = load_suite(folder)  # what we wrote must load: fail here, not in a later run
            click.echo(f"wrote {folder} ({suite.examples.num_rows} examples, {suite.recordings.num_rows} recordings)")
    except InputError as exc:
        for problem in exc.problems:
            click.echo(problem.format(), err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.group("import")
def import_group() -> None:
    """Build suites from public per-example results (see docs/bundled-suites.md)."""


@import_group.command("routellm")
@_data
@_out
@_seed
@click.option(
    "--only",
    type=click.Choice(["mmlu", "gsm8k", "mtbench"]),
    multiple=True,
    help="Build only these RouteLLM suites (repeatable); default all three.",
)
def routellm_command(data: Path, out: Path, seed: int, only: tuple[str, ...]) -> None:
    """routellm-mmlu, routellm-gsm8k and routellm-mtbench from DATA/routellm."""
    from routegate.importers import routellm

    builders = {"mmlu": routellm.import_mmlu, "gsm8k": routellm.import_gsm8k, "mtbench": routellm.import_mtbench}
    chosen = only or tuple(builders)
    _run(lambda: [builders[name](data, out, seed) for name in chosen])


@import_group.command("alpacaeval")
@_data
@_out
@_seed
def alpacaeval_command(data: Path, out: Path, seed: int) -> None:
    """alpacaeval from DATA/alpaca_eval/per_example.parquet."""
    from routegate.importers.alpacaeval import import_alpacaeval

    _run(lambda: [import_alpacaeval(data, out, seed)])


@import_group.command("privacy")
@click.option(
    "--source",
    default="eval_suites/alpacaeval",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The bundled suite the requests and recorded answers come from.",
)
@_out
@click.option("--seed", default=8, show_default=True, type=int, help="Seed of which requests get PII and its values.")
@click.option("--share", default=0.2, show_default=True, type=click.FloatRange(0, 1), help="Share with PII.")
def privacy_command(source: Path, out: Path, seed: int, share: float) -> None:
    """privacy: SOURCE with synthetic PII planted in a seeded share of requests (docs/privacy.md)."""
    from routegate.importers.privacy import import_privacy

    _run(lambda: [import_privacy(source, out, seed, share)])
