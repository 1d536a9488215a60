"""One policy over one suite: replay every request through a provider, score the final answers, build traces.

``replay_suite`` is the engine's whole job for one suite; the pipeline calls it once per suite
of a run (``routegate.pipeline.run_policy``) and a drill once per suite and fault scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from routegate.engine.chains import policy_models
from routegate.engine.plan import Plan
from routegate.engine.replay import CHUNK_ROWS, ConfidenceFn, StepHook, replay
from routegate.engine.result import Replay
from routegate.engine.traces import build_traces, score_final_answers
from routegate.load.policy import Policy
from routegate.load.suite import Suite
from routegate.providers.base import Provider, calls_are_independent
from routegate.providers.recorded import RecordedProvider
from routegate.scoring import ScoreInput, get_scorer, needs_response


@dataclass(frozen=True)
class SuiteRun:
    """What replaying one policy over one suite gave."""

    suite: Suite
    """The suite as replayed (with detected PII filled in where the policy needed it)."""
    replay: Replay
    """The replay's per-request arrays and its attempts table."""
    traces: pa.Table
    """One row per request: the final answer, its tier and model, cost, latency, quality and flags."""


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


def replay_suite(
    policy: Policy,
    suite: Suite,
    provider: Provider | None = None,
    *,
    plan: Plan | None = None,
    on_step: StepHook | None = None,
) -> SuiteRun:
    """Replay ``policy`` over ``suite`` asking ``provider`` (default: the suite's recordings), score the
    final answers and build the traces.

    ``plan``: the policy's initial tiers over the suite when already computed; ``on_step``: a
    progress hook called after each batch step.
    """
    if provider is None:
        provider = RecordedProvider.from_suite(suite, policy_models(policy.spec))
    result = replay(
        suite.examples,
        policy.spec,
        policy.catalog,
        provider,
        models=policy_models(policy.spec),
        confidence_fn=confidence_scorer(suite),
        on_step=on_step,
        plan=plan,
        want_text=needs_response(get_scorer(suite.manifest.scoring.scorer)),
        memo=suite.memo,
        chunk_rows=CHUNK_ROWS if calls_are_independent(provider) else None,
    )
    quality = score_final_answers(suite, result)
    return SuiteRun(suite=suite, replay=result, traces=build_traces(suite, result, quality))
