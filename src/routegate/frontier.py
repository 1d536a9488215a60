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
import pyarrow.compute as pc

from routegate.catalog import Catalog
from routegate.pipeline import RunOptions, run_policy
from routegate.policy import Policy, PolicySpec, canonical_sha256
from routegate.suite import Suite


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
    return replace(template, spec=spec, source=f"(every request to {model})", sha256=canonical_sha256(spec), warnings=())


def fully_recorded_models(suites: Sequence[Suite], catalog: Catalog) -> list[str]:
    """Catalog models that have a recording for every example of every suite."""
    out: list[str] = []
    for model in sorted(catalog.models):
        complete = True
        for suite in suites:
            rec = suite.recordings.filter(pc.equal(suite.recordings.column("model"), model))
            if rec.num_rows < suite.examples.num_rows or pc.count_distinct(rec.column("example_id")).as_py() < suite.examples.num_rows:
                complete = False
                break
        if complete:
            out.append(model)
    return out


def single_model_points(suites: Sequence[Suite], template: Policy, *, seed: int) -> list[dict[str, Any]]:
    """Quality and $ per 1k of each fully recorded single-model policy."""
    points = []
    for model in fully_recorded_models(suites, template.catalog):
        result = run_policy(single_model_policy(model, template.catalog, template), suites, RunOptions(seed=seed))
        m = result.summary["metrics"]["overall"]
        points.append(
            {
                "model": model,
                "provider": template.catalog.models[model].provider,
                "privacy": template.catalog.models[model].privacy,
                "quality": m["quality"]["mean"],
                "cost_per_1k_usd": m["cost_per_1k_usd"],
                "p95_ms": m["latency_ms"]["p95"],
            }
        )
    return points


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points not dominated (lower or equal cost and higher or equal quality), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best = -np.inf
    front: list[int] = []
    for i in order:
        cost, quality = points[i]
        if np.isfinite(quality) and quality > best:
            front.append(i)
            best = quality
    return front
