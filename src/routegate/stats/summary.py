"""A run's result and its summary: what one policy did over the suites (summary.json).

``summarise_run`` is the measure step: from the per-suite runs it builds the traces' shared
columns and the summary, a ``RunSummary`` (policy, suites, seed, missing recordings, tiers,
slices, metrics); ``add_literature`` adds the RouteLLM / RouterBench metrics.
``RunSummary.to_json()`` is summary.json, which docs/reports.md documents.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
import pyarrow as pa

from routegate.arrow.groups import Groups, concat_groups, slice_groups
from routegate.engine.detection import with_detected_pii
from routegate.engine.run import SuiteRun
from routegate.engine.traces import slice_columns
from routegate.load.policy import STANDARD_TIERS, Policy
from routegate.load.suite import Suite
from routegate.providers.base import MISSING
from routegate.stats.literature import literature
from routegate.stats.measure import Columns, measure

SUMMARY_SCHEMA = 1
"""summary.json's ``schema_version``: changes only when a field is removed or changes meaning."""


class PolicyInfo(TypedDict):
    """A policy as summary.json and verdict.json name it (``describe_policy``)."""

    name: str
    """The policy's name."""
    version: str
    """The policy's version."""
    source: str
    """Where the policy was read from: a path or ``git:REF:path``."""
    sha256: str
    """The canonical sha256 of the policy's meaning."""
    catalog: str
    """Where its model catalog was read from."""
    catalog_sha256: str
    """The canonical sha256 of the catalog."""
    tiers: dict[str, list[str]]
    """Each tier's models, in fallback order."""


class SuiteInfo(TypedDict):
    """A suite as summary.json and verdict.json name it (``describe_suite``)."""

    name: str
    """The suite's name."""
    version: str
    """The suite's version."""
    sha256: str
    """The suite's sha256 (manifest and tables)."""
    examples: int
    """Rows of its examples table."""
    recordings: int
    """Rows of its recordings table."""


class MissingRecordings(TypedDict):
    """summary.json's ``missing_recordings``: the recordings a recorded run needed and did not find."""

    total: int
    """Missing recordings over every suite."""
    by_suite: dict[str, int]
    """Missing recordings per suite name."""


@dataclass(frozen=True)
class RunSummary:
    """summary.json of one run: one field per top-level key (docs/reports.md).

    The nested blocks stay JSON-shaped; ``to_json()`` is the document ``routegate run`` writes
    (with sorted keys: ``writer.dumps_json``).
    """

    schema_version: int
    """``SUMMARY_SCHEMA``."""
    policy: PolicyInfo
    """The policy replayed: name, version, source, sha256, catalog, catalog_sha256, tiers."""
    suites: list[SuiteInfo]
    """Each suite replayed, in the order given: name, version, sha256, examples, recordings."""
    seed: int
    """The seed of every bootstrap."""
    on_missing: str
    """What a missing recording did: ``error`` (stop before any work) or ``skip`` (the call failed)."""
    missing_recordings: MissingRecordings | None
    """Missing recordings in total and per suite; None for a live run (no recordings used)."""
    skipped_calls: int
    """Provider calls that failed for want of a recording (``--on-missing skip``)."""
    tiers: list[str]
    """The policy's tiers in report order (the standard ones first)."""
    slices: list[str]
    """The slice columns the metrics are grouped by, in first-seen order over the suites."""
    metrics: dict[str, Any]
    """``overall``, ``by_suite``, ``by_tier`` and ``by_slice`` groups, each with ``n``, quality with
    its CI, cost, latency percentiles, tier mix and rates (``stats.measure``; docs/reports.md)."""
    literature: dict[str, Any] | None = None
    """RouteLLM / RouterBench metrics per suite (``stats.literature``, docs/metrics.md), once
    ``add_literature`` has run; None (and not in summary.json) before."""

    def to_json(self) -> dict[str, Any]:
        """summary.json: every field in order, ``literature`` only when it is set."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "policy": self.policy,
            "suites": self.suites,
            "seed": self.seed,
            "on_missing": self.on_missing,
            "missing_recordings": self.missing_recordings,
            "skipped_calls": self.skipped_calls,
            "tiers": self.tiers,
            "slices": self.slices,
            "metrics": self.metrics,
        }
        if self.literature is not None:
            out["literature"] = self.literature
        return out


@dataclass(frozen=True)
class RunResult:
    """One policy replayed over the suites: its traces and its summary."""

    policy: Policy
    """The policy replayed."""
    runs: tuple[SuiteRun, ...]
    """One run per suite, in the order given."""
    traces: pa.Table
    """The suites' traces one after the other (traces.parquet)."""
    columns: Columns = field(repr=False)
    """The traces' numeric columns and latency order statistics, shared by the summary and a comparison."""
    summary: RunSummary = field(repr=False)
    """The run's summary; ``summary.to_json()`` is summary.json."""
    groups: Groups = field(repr=False, default_factory=dict)
    """Row indices per suite and slice value (shared with any run over the same suites)."""


def describe_policy(policy: Policy) -> PolicyInfo:
    """A policy as the summary and the verdict name it: name, version, source, hashes, tiers."""
    return {
        "name": policy.spec.name,
        "version": policy.spec.version,
        "source": policy.source,
        "sha256": policy.sha256,
        "catalog": policy.catalog_source,
        "catalog_sha256": policy.catalog_sha256,
        "tiers": {name: list(tier.models) for name, tier in policy.spec.tiers.items()},
    }


def describe_suite(suite: Suite) -> SuiteInfo:
    """A suite as the summary and the verdict name it: name, version, sha256, sizes."""
    return {
        "name": suite.name,
        "version": suite.version,
        "sha256": suite.sha256,
        "examples": suite.examples.num_rows,
        "recordings": suite.recordings.num_rows,
    }


def ordered_tiers(policy: Policy) -> tuple[str, ...]:
    """The policy's tiers, the standard ones first in their usual order."""
    names = list(policy.spec.tiers)
    return tuple([t for t in STANDARD_TIERS if t in names] + [t for t in names if t not in STANDARD_TIERS])


def suite_slices(suites: Sequence[Suite]) -> list[str]:
    """The slice columns of a run over ``suites``: each suite's, in first-seen order."""
    slices: list[str] = []
    for suite in suites:
        slices += [s for s in slice_columns(suite) if s not in slices]
    return slices


def suite_groups(suites: Sequence[Suite]) -> Groups:
    """What ``slice_groups`` finds in the traces of any run over ``suites``, from the suites alone.

    The grouping columns of traces are the suite name and request attributes, which no policy
    changes: PII detection fills only unknown ``pii`` labels, and any unknown label makes every
    run detect (``needs_detection``). So a gate computes the groups once, before both runs; with
    every label set, from each suite's own groups (``Suite.slice_rows``).
    """
    if not any(suite.examples.column("pii").null_count for suite in suites):
        parts = [(s.name, s.examples.num_rows, s.slice_rows()) for s in suites]
        return concat_groups(parts, suite_slices(suites))
    tables = []
    for suite in suites:
        seen = with_detected_pii(suite) if suite.examples.column("pii").null_count else suite
        n = seen.examples.num_rows
        name = {"suite": pa.repeat(pa.scalar(seen.name, pa.string()), n)}
        tables.append(pa.table(name | {c: seen.examples.column(c) for c in slice_columns(seen)}))
    return slice_groups(pa.concat_tables(tables, promote_options="default"), suite_slices(suites))


def summarise_run(
    policy: Policy,
    suites: Sequence[Suite],
    runs: Sequence[SuiteRun],
    *,
    seed: int,
    on_missing: str,
    missing: Mapping[str, int] | None,
    groups: Groups | None = None,
) -> RunResult:
    """The measure step: the traces of ``runs`` and their summary (without ``literature``: see
    :func:`add_literature`). ``missing``: missing recordings per suite (``None`` for a live run);
    ``groups``: from an earlier run over the same suites."""
    traces = pa.concat_tables([r.traces for r in runs], promote_options="default")
    slices = suite_slices(suites)
    tiers = ordered_tiers(policy)
    tier_names = {r.replay.plan.tiers for r in runs}  # one policy: the same tiers in every suite
    final_tier = (
        (np.concatenate([r.replay.final_tier for r in runs]), tier_names.pop()) if len(tier_names) == 1 else None
    )
    cols = Columns(traces, final_tier=final_tier)
    groups = groups if groups is not None else suite_groups(suites)
    summary = RunSummary(
        schema_version=SUMMARY_SCHEMA,
        policy=describe_policy(policy),
        suites=[describe_suite(s) for s in suites],
        seed=seed,
        on_missing=on_missing,
        missing_recordings=MissingRecordings(total=sum(missing.values()), by_suite=dict(missing))
        if missing is not None
        else None,
        skipped_calls=sum(int(np.count_nonzero(r.replay.attempts.column("error").to_numpy() == MISSING)) for r in runs),
        tiers=list(tiers),
        slices=slices,
        metrics=measure(traces, tiers, slices, seed=seed, groups=groups, cols=cols),
    )
    return RunResult(policy=policy, runs=tuple(runs), traces=traces, columns=cols, summary=summary, groups=groups)


def add_literature(result: RunResult, seed: int) -> RunResult:
    """``result`` with its summary's ``literature`` set (RouteLLM / RouterBench metrics per suite)."""
    runs = [(r.suite, r.traces) for r in result.runs]
    block = literature(runs, result.policy.catalog, seed=seed, by_suite=result.summary.metrics["by_suite"])
    return dataclasses.replace(result, summary=dataclasses.replace(result.summary, literature=block))
