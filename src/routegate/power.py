"""The ``routegate power`` command: size the suites before trusting a margin (``stats.power``).

Registered on the ``routegate`` group by ``routegate.cli``; the work is imported on use.
"""

from __future__ import annotations

import click


@click.command()
@click.option("--policy", "policy_spec", required=True, help="The policy whose gates to plan (file or git:REF:path).")
@click.option("--suite", "suite_paths", multiple=True, required=True, help="Suite folder (repeat for several).")
@click.option("--gates", "gates_spec", default=None, help="Gates file (default: the documented defaults).")
@click.option(
    "--changed-share",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True),
    help="Share of requests the planned change re-routes.",
)
def power(policy_spec: str, suite_paths: tuple[str, ...], gates_spec: str | None, changed_share: float) -> None:
    """Print, for POLICY's quality gates over the suites, the margin each resolves, the drop each
    detects and the requests each needs for its margin (Markdown; docs/gates.md)."""
    from routegate.cli import report_input_errors

    report_input_errors(_power)(policy_spec, suite_paths, gates_spec, changed_share)


def _power(policy_spec: str, suite_paths: tuple[str, ...], gates_spec: str | None, changed_share: float) -> None:
    from routegate.gates.evaluate import alarm_level
    from routegate.gates.spec import load_gates
    from routegate.inputs import load_suites
    from routegate.load.policy import load_policy
    from routegate.pipeline import run_policy
    from routegate.report.power_markdown import render_power_markdown
    from routegate.stats.power import power_rows

    policy = load_policy(policy_spec)
    gates, _ = load_gates(gates_spec)
    suites = load_suites(suite_paths)
    result = run_policy(policy, suites)
    alpha = 1 - gates.quality.confidence
    slices = gates.quality.slices
    rows = power_rows(
        result,
        margin=gates.quality.margin,
        slice_margin=slices.margin if slices is not None else None,
        min_n=slices.min_n if slices is not None else 0,
        alpha=alpha,
        alarm=alarm_level(alpha, "quality"),
        slice_alarm=alarm_level(alpha, "quality slices"),
        changed=changed_share,
    )
    names = [s.name for s in suites]
    click.echo(render_power_markdown(policy_spec, names, rows, changed_share), nl=False)
