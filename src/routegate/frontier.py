"""Single-model reference points and the cost-quality frontier.

For every catalog model recorded for every request of the suites, the policy
"send everything to this model" is replayed through the same engine (one
tier, one model). Those points, plus the baseline and candidate, give the
cost-vs-quality plot and its Pareto frontier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from routegate.catalog import Catalog
from routegate.pipeline import recorded_provider
from routegate.policy import Policy, PolicySpec, canonical_sha256
from routegate.replay import Replay, policy_models, replay
from routegate.suite import Suite
from routegate.traces import score_final_answers


def single_model_policy(model: str, catalog: Catalog, template: Policy) -> Policy:
    """The policy that sends every request to ``model`` (a private model's tier is marked private)."""
    private = catalog.models[model].privacy == "private"
    spec = PolicySpec.model_validate(
        {
            "name": f"single-{model.lower().replace('/', '-').replace(':', '-').replace('@', '-')}"[:64],
            "version": "1",
            "owner": "routegate",
            "catalog": template.spec.catalog,
            "tiers": {"only": {"models": [model], "private": private}},
            "default_tier": "only",
        }
    )
    return replace(
        template, spec=spec, source=f"(every request to {model})", sha256=canonical_sha256(spec), warnings=()
    )


def _replay(policy: Policy, suite: Suite) -> Replay:
    models = policy_models(policy.spec)
    return replay(suite.examples, policy.spec, policy.catalog, recorded_provider(suite, models), models=models)


def fully_recorded_models(suites: Sequence[Suite], catalog: Catalog) -> list[str]:
    """Catalog models that have a successful-or-failed recording for every example of every suite."""
    models = tuple(sorted(catalog.models))
    complete = np.ones(len(models), dtype=bool)
    for suite in suites:
        index = suite.recording_keys().index(suite.examples.num_rows, models)
        complete &= (index >= 0).all(axis=0)
    return [m for m, ok in zip(models, complete, strict=True) if ok]


def single_model_points(suites: Sequence[Suite], template: Policy, *, seed: int) -> list[dict[str, Any]]:
    """Quality, $ per 1k and p95 latency of each fully recorded single-model policy.

    Replayed through the same engine and scorer as any policy, but only the three
    figures the cost-quality plot needs are computed (no traces table, no summaries).
    """
    del seed  # point estimates only: no resampling
    points = []
    for model in fully_recorded_models(suites, template.catalog):
        policy = single_model_policy(model, template.catalog, template)
        quality_parts, cost, latency_parts = [], 0.0, []
        for suite in suites:
            run = _replay(policy, suite)
            quality_parts.append(score_final_answers(suite, run))
            cost += float(run.cost_usd.sum())
            latency_parts.append(run.latency_ms)
        quality = np.concatenate(quality_parts)
        n = quality.size
        scored = quality[np.isfinite(quality)]
        points.append(
            {
                "model": model,
                "provider": template.catalog.models[model].provider,
                "privacy": template.catalog.models[model].privacy,
                "quality": float(scored.mean()) if scored.size else float("nan"),
                "cost_per_1k_usd": cost / n * 1000 if n else float("nan"),
                "p95_ms": float(np.percentile(np.concatenate(latency_parts), 95)) if n else float("nan"),
            }
        )
    return points


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated (lower or equal cost and higher or equal quality), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best = -np.inf
    front: list[int] = []
    for i in order:
        _cost, quality = points[i]
        if np.isfinite(quality) and quality > best:
            front.append(i)
            best = quality
    return front
