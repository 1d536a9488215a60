"""The whole run, as a short list of verb-named steps.

    load -> check recordings -> plan + replay -> score -> measure

``run_policy`` is what ``routegate run`` calls; ``routegate gate`` calls it
twice over the same loaded suites. Every step is a function of its inputs;
only loading and the provider touch the outside world.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from routegate.arrow.memo import Memo
from routegate.engine.coverage import missing_pairs
from routegate.engine.plan import Plan, plan_tiers
from routegate.engine.replay import CHUNK_ROWS, ConfidenceFn, Replay, StepHook, policy_models, replay
from routegate.engine.traces import build_traces, score_final_answers, slice_columns
from routegate.errors import InputError, Problem
from routegate.load.policy import STANDARD_TIERS, Policy
from routegate.load.suite import Suite
from routegate.pii import with_detected_pii
from routegate.providers.base import MISSING, Provider, calls_are_independent
from routegate.providers.recorded import RecordedProvider
from routegate.scoring import ScoreInput, get_scorer, needs_response
from routegate.stats.intervals import DEFAULT_SEED
from routegate.stats.literature import literature
from routegate.stats.measure import Columns, Groups, concat_groups, measure, slice_groups

OnMissing = Literal["error", "skip"]
ProviderFactory = Callable[[Suite, tuple[str, ...], Policy], Provider]
"""Builds the provider one replay asks: (suite, the run's model ids, the policy being replayed)."""
SUMMARY_SCHEMA = 1


def recorded_provider(suite: Suite, models: tuple[str, ...], policy: Policy) -> Provider:
    return RecordedProvider.from_suite(suite, models)


@dataclass(frozen=True)
class RunOptions:
    on_missing: OnMissing = "error"
    """``error``: stop before any work when a needed recording is missing; ``skip``: count those calls as failed."""
    seed: int = DEFAULT_SEED
    """Seed of every bootstrap; reported in the summary."""
    provider: ProviderFactory = recorded_provider
    recorded: bool = True
    """Whether answers come from the suites' recordings. A live run needs none: no missing-recording
    check, and the summary reports ``missing_recordings: null``."""
    on_step: StepHook | None = None


@dataclass(frozen=True)
class SuiteRun:
    suite: Suite
    replay: Replay
    traces: pa.Table


@dataclass(frozen=True)
class RunResult:
    policy: Policy
    runs: tuple[SuiteRun, ...]
    traces: pa.Table
    columns: Columns = field(repr=False)
    """The traces' numeric columns and latency order statistics, shared by the summary and a comparison."""
    summary: dict[str, Any] = field(repr=False)
    groups: Groups = field(repr=False, default_factory=dict)
    """Row indices per suite and slice value (shared with any run over the same suites)."""


def check_recordings(
    policy: Policy, suites: Sequence[Suite], on_missing: OnMissing, plans: Sequence[Plan] | None = None
) -> dict[str, int]:
    """Missing (model, example) pairs per suite; raise ``InputError`` when not allowed."""
    counts: dict[str, int] = {}
    problems: list[Problem] = []
    for i, suite in enumerate(suites):
        plan = plans[i] if plans is not None else None
        missing = missing_pairs(suite.examples, suite.recordings, policy.spec, plan=plan, keys=suite.recording_keys())
        counts[suite.name] = missing.num_rows
        if missing.num_rows and on_missing == "error":
            head = missing.slice(0, 10)
            listed = ", ".join(
                f"({m}, {e})"
                for m, e in zip(head.column("model").to_pylist(), head.column("example_id").to_pylist(), strict=True)
            )
            problems.append(
                Problem(
                    str(suite.folder / suite.manifest.recordings),
                    0,
                    0,
                    "recordings",
                    f"{missing.num_rows} (model, example) pairs that policy {policy.name!r} could need have no "
                    f"recording; first {head.num_rows}: {listed}. Record them, or pass --on-missing skip to count "
                    "those calls as failed",
                )
            )
    if problems:
        raise InputError(problems)
    return counts


def confidence_scorer(suite: Suite) -> ConfidenceFn | None:
    """The suite's reference-free confidence check, if it names one."""
    name = suite.manifest.scoring.confidence
    if name is None:
        return None
    scorer = get_scorer(name)

    def judge(responses: pa.Array) -> np.ndarray:
        nulls = pa.nulls(len(responses), pa.string())
        inputs = ScoreInput(response=responses, reference=nulls, recorded=pa.nulls(len(responses), pa.float64()))
        return np.asarray(scorer(inputs, suite.manifest.scoring.confidence_options), dtype=np.float64)

    return judge


def replay_suite(policy: Policy, suite: Suite, options: RunOptions, plan: Plan | None = None) -> SuiteRun:
    models = policy_models(policy.spec)
    provider = options.provider(suite, models, policy)
    result = replay(
        suite.examples,
        policy.spec,
        policy.catalog,
        provider,
        models=models,
        confidence_fn=confidence_scorer(suite),
        on_step=options.on_step,
        plan=plan,
        want_text=needs_response(get_scorer(suite.manifest.scoring.scorer)),
        memo=suite.memo,
        chunk_rows=CHUNK_ROWS if calls_are_independent(provider) else None,
    )
    quality = score_final_answers(suite, result)
    return SuiteRun(suite=suite, replay=result, traces=build_traces(suite, result, quality))


def needs_detection(suite: Suite, policy: Policy) -> bool:
    """PII detection decides unlabelled requests and feeds ``pii_kinds_any`` rules; when every request
    is labelled and no rule reads ``pii_kinds``, its result cannot change a replay, so it is skipped.
    When it runs, it runs once per suite object (memoised), whichever policies are replayed."""
    return _detects(suite.examples, policy)


def _detects(examples: pa.Table, policy: Policy) -> bool:
    if examples.column("pii").null_count:
        return True
    return any(rule.when.pii_kinds_any is not None for rule in policy.spec.rules)


def plan_while_loading(policies: Sequence[Policy]) -> Callable[[pa.Table, Memo], None]:
    """For ``load_suite(prepare=...)``: plan ``policies`` over a suite's checked examples on the loading
    thread while its recordings are still being checked (the traffic split's hashing is most of a
    plan); the runs then find the plans in the suite's memo. A policy that needs PII detection is
    planned later, over the detected labels."""

    def prepare(examples: pa.Table, memo: Memo) -> None:
        for policy in policies:
            if not _detects(examples, policy):
                plan_tiers(examples, policy.spec, memo=memo)

    return prepare


def ordered_tiers(policy: Policy) -> tuple[str, ...]:
    """The policy's tiers, the standard ones first in their usual order."""
    names = list(policy.spec.tiers)
    return tuple([t for t in STANDARD_TIERS if t in names] + [t for t in names if t not in STANDARD_TIERS])


def run_policy(
    policy: Policy,
    suites: Sequence[Suite],
    options: RunOptions | None = None,
    *,
    groups: Groups | None = None,
    on_traces: Callable[[pa.Table], None] | None = None,
    literature_now: bool = True,
) -> RunResult:
    """Replay ``policy`` over every suite and summarise (``groups``: from an earlier run over the same suites).

    ``on_traces`` gets the traces table as soon as it exists, before the summary is computed (the
    CLI starts writing traces.parquet then, on another thread). Without ``literature_now`` the
    summary's ``literature`` entry is left out, for the caller to add with :func:`add_literature`
    when it suits (a gate does so while its other thread compares).
    """
    options = options or RunOptions()
    suites = seen_by(policy, suites)
    plans = [plan_tiers(suite.examples, policy.spec, memo=suite.memo) for suite in suites]
    missing = check_recordings(policy, suites, options.on_missing, plans) if options.recorded else None
    runs = tuple(replay_suite(policy, suite, options, plan) for suite, plan in zip(suites, plans, strict=True))
    traces = pa.concat_tables([r.traces for r in runs], promote_options="default")
    if on_traces is not None:
        on_traces(traces)
    slices = suite_slices(suites)
    tiers = ordered_tiers(policy)
    tier_names = {r.replay.plan.tiers for r in runs}  # one policy: the same tiers in every suite
    final_tier = (
        (np.concatenate([r.replay.final_tier for r in runs]), tier_names.pop()) if len(tier_names) == 1 else None
    )
    cols = Columns(traces, final_tier=final_tier)
    groups = groups if groups is not None else suite_groups(suites)
    summary = {
        "schema_version": SUMMARY_SCHEMA,
        "policy": describe_policy(policy),
        "suites": [describe_suite(s) for s in suites],
        "seed": options.seed,
        "on_missing": options.on_missing,
        "missing_recordings": {"total": sum(missing.values()), "by_suite": missing} if missing is not None else None,
        "skipped_calls": sum(
            int(np.count_nonzero(r.replay.attempts.column("error").to_numpy() == MISSING)) for r in runs
        ),
        "tiers": list(tiers),
        "slices": slices,
        "metrics": measure(traces, tiers, slices, seed=options.seed, groups=groups, cols=cols),
    }
    result = RunResult(policy=policy, runs=runs, traces=traces, columns=cols, summary=summary, groups=groups)
    return add_literature(result, options.seed) if literature_now else result


def add_literature(result: RunResult, seed: int) -> RunResult:
    """``result`` with its summary's ``literature`` entry (RouteLLM / RouterBench metrics per suite)."""
    runs = [(r.suite, r.traces) for r in result.runs]
    block = literature(runs, result.policy.catalog, seed=seed, by_suite=result.summary["metrics"]["by_suite"])
    return dataclasses.replace(result, summary={**result.summary, "literature": block})


def seen_by(policy: Policy, suites: Sequence[Suite]) -> list[Suite]:
    """The suites as ``run_policy`` replays ``policy`` over them (detected PII filled in when needed)."""
    return [with_detected_pii(suite) if needs_detection(suite, policy) else suite for suite in suites]


def prepare_recorded(policy: Policy, suites: Sequence[Suite]) -> None:
    """Derive now the recorded provider's columns of each suite (memoised per suite), which every
    recorded run of ``policy`` over ``suites`` reads. A gate does this on its second thread while
    the first one plans the candidate."""
    for suite in seen_by(policy, suites):
        RecordedProvider.from_suite(suite, ())


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
    every label set, from each suite's own groups (``Suite.slice_rows``, derived while loading).
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


def describe_policy(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.spec.name,
        "version": policy.spec.version,
        "source": policy.source,
        "sha256": policy.sha256,
        "catalog": policy.catalog_source,
        "catalog_sha256": policy.catalog_sha256,
        "tiers": {name: list(tier.models) for name, tier in policy.spec.tiers.items()},
    }


def describe_suite(suite: Suite) -> dict[str, Any]:
    return {
        "name": suite.name,
        "version": suite.version,
        "sha256": suite.sha256,
        "examples": suite.examples.num_rows,
        "recordings": suite.recordings.num_rows,
    }
