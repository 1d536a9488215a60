"""Single-model reference points: the shortcut equals replaying each single-model policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import run_policy
from routegate.stats.frontier import p95, single_model_points, single_model_policy
from routegate.stats.intervals import SORT_FROM
from routegate.stats.pareto import pareto_frontier

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "suites", [["routellm-gsm8k", "routellm-mtbench"], ["alpacaeval"]], ids=["routellm", "alpacaeval"]
)
def test_points_equal_replaying_each_single_model_policy(suites: list[str]) -> None:
    loaded = [load_suite(ROOT / "eval_suites" / s) for s in suites]
    template = load_policy(str(ROOT / "policies/assistant.yaml"))
    points = single_model_points(loaded, template, seed=1)
    assert points, "no fully recorded model"
    for point in points:
        result = run_policy(single_model_policy(point["model"], template.catalog, template), loaded)
        overall = result.summary.metrics["overall"]
        assert point["quality"] == pytest.approx(overall["quality"]["mean"], abs=1e-12)
        assert point["cost_per_1k_usd"] == pytest.approx(overall["cost_per_1k_usd"], rel=1e-12)
        assert point["p95_ms"] == pytest.approx(overall["latency_ms"]["p95"], rel=1e-12)


def test_points_count_failed_calls_as_zero_quality(tmp_path: Path) -> None:
    """The synthetic suite records timeouts and rate limits: a single model has no fallback."""
    folder = write_synthetic_suite(tmp_path / "s", 1500, seed=5)
    suite = load_suite(folder)
    policy = load_policy(str(folder / "policy.yaml"))
    for point in single_model_points([suite], policy, seed=1):
        result = run_policy(single_model_policy(point["model"], policy.catalog, policy), [suite])
        overall = result.summary.metrics["overall"]
        assert overall["error_rate"] > 0  # the property is tested on failures, not around them
        assert point["quality"] == pytest.approx(overall["quality"]["mean"], abs=1e-12)
        assert point["cost_per_1k_usd"] == pytest.approx(overall["cost_per_1k_usd"], rel=1e-12)


def test_pareto_frontier() -> None:
    points = [(1.0, 0.5), (2.0, 0.4), (3.0, 0.9), (0.5, 0.2), (3.0, 0.8), (5.0, np.nan)]
    assert pareto_frontier(points) == [3, 0, 2]


@pytest.mark.parametrize("n", [1, 2, 19, 20, 21, 1001, SORT_FROM - 1, SORT_FROM, 200_003])
@pytest.mark.parametrize("special", [None, np.inf, np.nan])
def test_p95_is_numpys_percentile_bit_for_bit(n: int, special: float | None) -> None:
    """The points' p95 is ``np.percentile``'s float exactly, by partition or by sort, ties included; a
    non-finite value (which a latency check would have refused) gives numpy's answer too."""
    rng = np.random.default_rng(n)
    values = np.round(rng.lognormal(6, 1, n), 1)  # rounded: many ties
    if special is not None:
        values[n // 2] = special
    with np.errstate(invalid="ignore"):  # numpy's interpolation next to an inf: NaN, with a warning
        assert np.array_equal(p95(values), float(np.percentile(values, 95)), equal_nan=True)
