"""``report.html`` of a gate: one self-contained page for product owners (docs/reports.md).

The page is rendered from the verdict dict (the one written as verdict.json), the typed gate
results (which carry each gate's unit, :class:`~routegate.units.Unit`; verdict.json leaves it
out) and the policy diff. Each section's context is built by its own module
(:mod:`.summary`, :mod:`.gates`, :mod:`.tiers`, :mod:`.frontier`, :mod:`.latency`,
:mod:`.slices`, :mod:`.examples`, :mod:`.provenance`), every number through :mod:`.cells`.
Safety:

- Jinja2 autoescapes every expression; nothing from a suite, a policy, a
  gates file or a model (prompts, responses, ids, names, slice values,
  reasons, the diff) is ever marked safe. The only ``Markup`` is the SVG that
  :mod:`routegate.report.svg` draws, which escapes every text it embeds.
- Every printed value first passes the environment's ``finalize`` hook, which
  shows C0 control characters as visible Control Pictures (␀ … ␟).
- No script, no external resource, and a Content-Security-Policy of
  ``default-src 'none'`` in the page itself.

Determinism: no clock is read (``generated_at`` is printed only when given),
every list is put in an explicit order, and numbers use fixed formats, so
the same verdict gives byte-identical HTML. Size: only aggregates go in;
per-slice tables, gates, the diff and the examples are capped.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from routegate.gates.result import GateResult
from routegate.report.html.examples import example_lists
from routegate.report.html.frontier import frontier_section
from routegate.report.html.gates import gates_table, resilience_table
from routegate.report.html.latency import latency_section
from routegate.report.html.provenance import diff_lines, provenance
from routegate.report.html.slices import MAX_SLICE_ROWS, slice_tables
from routegate.report.html.summary import banner, cards, headline, policy_label
from routegate.report.html.tiers import shift_matrix, tiers_section
from routegate.report.svg import clean_text
from routegate.units import format_count

TEMPLATE = "report.html.j2"
"""The page's template, in ``routegate/templates``."""


def build_context(
    verdict: Mapping[str, Any],
    gates: Sequence[GateResult],
    policy_diff: str = "",
    generated_at: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Everything the template prints, already formatted (strings, lists, and the SVG as Markup).
    ``title``: the page's heading (e.g. ``policies/assistant.yaml: main@abc1234 -> working tree``);
    default: the two policies' names and versions."""
    overall = verdict["deltas"]["overall"]
    n = int(overall.get("n") or 0)
    table = gates_table(gates)
    base_label = policy_label(verdict["baseline"]["policy"])
    cand_label = policy_label(verdict["candidate"]["policy"])
    return {
        "title": f"routegate: {title}" if title else f"routegate: {cand_label} vs {base_label}",
        "heading": title or f"Candidate {cand_label} vs baseline {base_label}",
        "baseline": base_label,
        "candidate": cand_label,
        "suite_names": ", ".join(
            f"{s.get('name', '')} {s.get('version', '')}".strip() for s in verdict.get("suites") or []
        ),
        "n": format_count(n),
        "banner": banner(verdict, table, n),
        "headline": headline(overall),
        "gates": table,
        "cards": cards(overall),
        "tiers": tiers_section(verdict),
        "shift": shift_matrix(verdict),
        "model_shift": shift_matrix(verdict, "model_shift", "models"),
        "scatter": frontier_section(verdict),
        "latency": latency_section(verdict),
        "slices": slice_tables(verdict),
        "max_slice_rows": MAX_SLICE_ROWS,
        "examples": example_lists(verdict),
        "diff": diff_lines(policy_diff),
        "prov": provenance(verdict),
        "resilience": resilience_table(verdict, gates),
        "generated_at": generated_at,
    }


def _finalize(value: Any) -> Any:
    """Every printed value: SVG Markup as is, anything else as text with control characters made visible."""
    if isinstance(value, Markup):
        return value
    return clean_text(value)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("routegate", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def _template() -> Template:
    """The report template, compiled once per process."""
    return _environment().get_template(TEMPLATE)


def render_html(
    verdict: Mapping[str, Any],
    *,
    gates: Sequence[GateResult],
    policy_diff: str = "",
    generated_at: str | None = None,
    title: str | None = None,
) -> str:
    """report.html for ``verdict`` (verdict.json's dict) and its typed gate results ``gates``.

    ``gates`` are the results verdict.json lists (``GateOutcome.verdict.gates``), in the same order;
    the page takes each gate's name, result, values and unit from them. Self-contained, escaped and
    deterministic; ``generated_at`` adds the only line that may differ between runs.
    """
    return _template().render(build_context(verdict, gates, policy_diff, generated_at, title))
