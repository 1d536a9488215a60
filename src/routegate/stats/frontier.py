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

from routegate.load.catalog import Catalog
from routegate.load.policy import Policy, PolicySpec, canonical_sha256
from routegate.load.suite import Suite
from routegate.stats.intervals import OrderStatistics, percentile_ranks, percentiles_from
from routegate.stats.outcomes import model_outcomes


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


def fully_recorded_models(suites: Sequence[Suite], catalog: Catalog) -> list[str]:
    """Catalog models that have a recording (answer or error) for every example of every suite."""
    models = tuple(sorted(catalog.models))
    complete = set(models)
    for suite in suites:
        complete &= set(suite.recording_keys().rows_of(suite.examples.num_rows, models))
    return [m for m in models if m in complete]


def single_model_points(suites: Sequence[Suite], template: Policy, *, seed: int) -> list[dict[str, Any]]:
    """Quality, $ per 1k and p95 latency of each fully recorded single-model policy.

    Sending every request to one model needs no routing: each request makes one
    call, so the outcome is that model's recording, scored by the suite's scorer
    (a failed call scores 0), priced by the catalog. ``model_outcomes`` holds
    exactly that per request (computed once per suite and shared with the
    literature metrics); ``tests/test_frontier.py`` checks it against the engine.
    """
    del seed  # point estimates only: no resampling
    outcomes = [model_outcomes(suite, template.catalog) for suite in suites]
    points = []
    for model in fully_recorded_models(suites, template.catalog):
        rows = [o.models.index(model) for o in outcomes]
        quality = _joined([o.quality[r] for o, r in zip(outcomes, rows, strict=True)])
        cost = _joined([o.cost[r] for o, r in zip(outcomes, rows, strict=True)])
        latency = _joined([o.latency[r] for o, r in zip(outcomes, rows, strict=True)])
        scored = quality[np.isfinite(quality)]
        n = quality.size
        points.append(
            {
                "model": model,
                "provider": template.catalog.models[model].provider,
                "privacy": template.catalog.models[model].privacy,
                "quality": float(scored.mean()) if scored.size else float("nan"),
                "cost_per_1k_usd": float(cost.sum()) / n * 1000 if n else float("nan"),
                "p95_ms": p95(latency) if n else float("nan"),
            }
        )
    return points


def p95(values: np.ndarray) -> float:
    """``np.percentile(values, 95)``, bit for bit; when every value is finite (recorded latencies are),
    from the order statistics of one vectorised sort (``stats.OrderStatistics``), ~2x faster than
    ``np.percentile``'s partition at 1M values."""
    if not np.isfinite(values).all():
        return float(np.percentile(values, 95))
    order = OrderStatistics.of(values, lambda n: percentile_ranks(n, (95,)))
    return percentiles_from(order, (95,))["p95"]


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The suites' rows end to end (one suite: that row itself, read-only use, no copy)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
