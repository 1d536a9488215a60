"""``routegate power``'s Markdown: what each quality gate can resolve on the suites (``stats.power``)."""

from __future__ import annotations

from collections.abc import Sequence

from routegate.report.mdtext import md_cell, md_code, md_table
from routegate.stats.power import PowerRow
from routegate.units import format_count, format_points


def render_power_markdown(policy: str, suites: Sequence[str], rows: Sequence[PowerRow], changed: float) -> str:
    """A table per gate: scored requests, margin, the margin it resolves, the drop it detects, the
    requests needed; then how many gates the suites cannot decide at their margin."""

    def points(x: float) -> str:
        return format_points(x, signed=False) if x != float("inf") else "-"

    body = [
        [
            md_code(r.gate),
            format_count(r.n),
            points(r.margin),
            points(r.resolves),
            points(r.detects),
            format_count(r.needed) if r.needed is not None else "-",
            "yes" if r.enough else "**no**",
        ]
        for r in rows
    ]
    short = [r for r in rows if not r.enough]
    out = [
        f"## Power of {md_code(policy)}'s quality gates",
        "",
        f"Over {md_cell(', '.join(suites))}, for a change that re-routes {changed:.0%} of the requests "
        "(`--changed-share`), with the gates in force. A planning estimate (docs/gates.md, Power planning): "
        "a real gate's own figures are in its verdict.",
        "",
        *md_table(
            ["gate", "scored requests", "margin", "resolves", "detects drops of", "requests needed", "enough?"], body
        ),
        "",
        (
            f"{len(short)} of {len(rows)} gates cannot be decided at their margin on these suites: an equal-quality "
            "change would often be inconclusive there. Add requests (the column above), or widen the margin."
            if short
            else f"All {len(rows)} gates can be decided at their margin."
        ),
        "",
    ]
    return "\n".join(out)
