"""Step 7 of the pipeline: gate rules from a gates file -> a ``Verdict``.

docs/gates.md documents every gate. A quality gate has three outcomes: passed
when the data show, at the configured confidence, that the candidate's quality
is not worse than the baseline's by more than the margin (non-inferiority);
failed when they show a regression (the drop is significant and its estimate is
beyond the margin); inconclusive otherwise (the suite cannot tell at this
margin). Requiring every slice to be non-inferior is an intersection-union test
and needs no multiplicity adjustment; the regression alarms over the slices are
adjusted (Holm, or Benjamini-Hochberg). The privacy gate is hard: zero
breaches, always on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from routegate.errors import InputError, Problem, format_path
from routegate.load.schema import Frozen, validate_document
from routegate.load.sources import parse_source
from routegate.load.yamlsource import parse_yaml


class SliceQualityGate(Frozen):
    """Non-inferiority per slice value (e.g. per task type)."""

    columns: tuple[str, ...] | None = None
    """Slice columns to gate; default: every slice of the suites."""
    margin: float = Field(default=0.03, ge=0, le=1)
    """Largest acceptable drop in mean quality per slice value (0.03 = 3 points)."""
    min_n: int = Field(default=300, ge=1)
    """Slice values with fewer paired requests are reported but not gated."""
    multiplicity: Literal["holm", "bh"] = "holm"
    """How the slices' regression alarms are adjusted for their number: ``holm`` (the chance of any
    false alarm stays at the level) or ``bh`` (Benjamini-Hochberg: the expected share of false alarms
    among the alarms stays at the level; more alarms, some of them false)."""


class QualityGate(Frozen):
    margin: float = Field(default=0.01, ge=0, le=1)
    """Largest acceptable drop in overall mean quality (0.01 = 1 point)."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    """One-sided confidence of the non-inferiority test. Regression alarms spend ``1 - confidence``
    in all: half on the overall gate, half on the slice gates together (docs/gates.md)."""
    slices: SliceQualityGate | None = SliceQualityGate()
    """Per-slice gates; ``null`` turns them off."""


class CostGate(Frozen):
    max_increase_pct: float = Field(default=10.0, ge=-100)
    """Largest acceptable increase in $ per 1k requests, in percent of the baseline's."""


class LatencyGate(Frozen):
    p95_ms: dict[str, float] = {}
    """Absolute p95 latency ceiling per SLA class (ms)."""
    max_p95_increase_pct: float | None = Field(default=25.0, ge=0)
    """Largest acceptable p95 increase vs the baseline, per SLA class; ``null`` turns it off."""


class ErrorGate(Frozen):
    max_rate: float = Field(default=0.01, ge=0, le=1)
    """Largest acceptable share of requests that got no answer."""


class FastTierGate(Frozen):
    tier: str = "fast"
    min_share: float = Field(ge=0, le=1)
    """Smallest acceptable share of requests answered by ``tier``."""


class ResilienceRule(Frozen):
    """Resilience limits of one scenario; an unset field takes the section's default."""

    min_availability: float | None = Field(default=None, ge=0, le=1)
    max_quality_drop: float | None = Field(default=None, ge=0, le=1)
    max_cost_increase_pct: float | None = Field(default=None, ge=-100)


class ResilienceGates(Frozen):
    """Gates on fault drills (``--scenario``), evaluated on the candidate; docs/faults.md."""

    min_availability: float | None = Field(default=0.99, ge=0, le=1)
    """Smallest acceptable share of requests answered under each scenario; ``null``: not gated."""
    max_quality_drop: float | None = Field(default=0.05, ge=0, le=1)
    """Largest acceptable drop in mean quality vs the no-fault run (0.05 = 5 points); ``null``: not gated."""
    max_cost_increase_pct: float | None = Field(default=100.0, ge=-100)
    """Largest acceptable increase in $ per 1k requests under a price-shock scenario; ``null``: not gated."""
    scenarios: dict[str, ResilienceRule] = {}
    """Per-scenario overrides, by scenario name."""

    def for_scenario(self, name: str) -> ResilienceRule:
        own = self.scenarios.get(name, ResilienceRule())
        return ResilienceRule(
            min_availability=own.min_availability if own.min_availability is not None else self.min_availability,
            max_quality_drop=own.max_quality_drop if own.max_quality_drop is not None else self.max_quality_drop,
            max_cost_increase_pct=own.max_cost_increase_pct
            if own.max_cost_increase_pct is not None
            else self.max_cost_increase_pct,
        )


class GatesSpec(Frozen):
    """The contents of a gates file; every section has defaults."""

    on_inconclusive: Literal["pass", "fail"] = "pass"
    """What an inconclusive gate (quality, cost, p95 increase) does to the verdict: ``pass`` (shown beside
    the verdict, does not fail the check) or ``fail`` (strict: the suite must show every gate met)."""
    quality: QualityGate = QualityGate()
    cost: CostGate | None = CostGate()
    latency: LatencyGate | None = LatencyGate()
    errors: ErrorGate | None = ErrorGate()
    fast_tier: FastTierGate | None = None
    resilience: ResilienceGates = ResilienceGates()
    """Gates on fault drills; only evaluated when the gate runs with ``--scenario``."""


def load_gates(spec: str | None) -> tuple[GatesSpec, str]:
    """Gates from a file (path or git:REF:path), or the defaults; returns (spec, where from)."""
    if spec is None:
        return GatesSpec(), "(defaults)"
    source = parse_source(spec)
    doc = parse_yaml(source.read_text(), source.display)
    return validate_document(GatesSpec, doc), source.display


def check_slice_columns(spec: GatesSpec, slices: Sequence[str], source: str) -> None:
    """``quality.slices.columns`` names only slices the suites have (``slices``); else ``InputError`` at the
    column's place in the gates file ``source`` (``(defaults)`` has none), before any replay."""
    sg = spec.quality.slices
    if sg is None or sg.columns is None:
        return
    unknown = [(i, c) for i, c in enumerate(sg.columns) if c not in slices]
    if not unknown:
        return
    doc = None if source == "(defaults)" else parse_yaml(parse_source(source).read_text(), source)
    problems = []
    for i, column in unknown:
        path = ("quality", "slices", "columns", i)
        line, col = doc.position(path) if doc is not None else (0, 0)
        message = f"slice column {column!r} is not in the suites; slices: {', '.join(slices)}"
        problems.append(Problem(source, line, col, format_path(path), message))
    raise InputError(problems)
