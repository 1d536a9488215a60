"""Planning: the traffic draw equals pandas' SipHash, and plans shared between runs change no plan."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from routegate.arrow.memo import Memo
from routegate.engine.plan import Plan, plan_tiers, suite_traffic_draw, traffic_draw
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import PolicySpec, load_policy
from routegate.load.suite import Suite, load_suite
from routegate.writer import dumps_json


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Suite, PolicySpec]:
    folder = write_synthetic_suite(tmp_path_factory.mktemp("plan") / "s", 3000, seed=11)
    spec = load_policy(str(folder / "policy.yaml")).spec
    assert any(rule.when.traffic is not None for rule in spec.rules)  # the memo is exercised
    return load_suite(folder), spec


def _assert_same_plan(found: Plan, expected: Plan) -> None:
    assert found.tiers == expected.tiers
    np.testing.assert_array_equal(found.tier, expected.tier)
    np.testing.assert_array_equal(found.rule, expected.rule)


def test_memoised_plan_equals_the_plain_plan(synthetic: tuple[Suite, PolicySpec]) -> None:
    suite, spec = synthetic
    plain = plan_tiers(suite.examples, spec)
    memo = Memo()
    for _ in range(2):  # computed, then from the memo
        _assert_same_plan(plan_tiers(suite.examples, spec, memo=memo), plain)


def test_plans_from_one_memo_are_each_policys_own_and_read_only(synthetic: tuple[Suite, PolicySpec]) -> None:
    """Over one suite's memo, a policy that decides alike (here another escalation threshold and
    renamed rules), one with another rule and one with the tiers reordered each get the plan they get
    alone; a plan read from the memo cannot be changed by the run that reads it."""
    suite, spec = synthetic
    memo = Memo()
    steps = [s.model_copy(update={"below_confidence": 0.9}) for s in spec.escalation.steps]
    stricter = spec.model_copy(
        update={
            "escalation": spec.escalation.model_copy(update={"steps": steps}),
            "rules": [r.model_copy(update={"name": r.name + "-renamed"}) for r in spec.rules],
        }
    )
    other_rule = spec.model_copy(update={"rules": [spec.rules[0].model_copy(update={"tier": spec.default_tier})]})
    reordered = spec.model_copy(update={"tiers": dict(reversed(list(spec.tiers.items())))})
    for changed in (spec, stricter, other_rule, reordered, spec):
        plan = plan_tiers(suite.examples, changed, memo=memo)
        _assert_same_plan(plan, plan_tiers(suite.examples, changed))
        with pytest.raises(ValueError, match="read-only"):
            plan.tier[0] = 0
    assert not np.array_equal(plan_tiers(suite.examples, other_rule).tier, plan_tiers(suite.examples, spec).tier)


def test_memoised_draws_are_the_draws_of_their_seed(synthetic: tuple[Suite, PolicySpec]) -> None:
    suite, _spec = synthetic
    memo = Memo()
    ids = suite.examples.column("id")
    for seed in (3, 4, 3):  # computed, computed, then from the memo
        np.testing.assert_array_equal(suite_traffic_draw(ids, seed, memo), traffic_draw(ids, seed))
    np.testing.assert_array_equal(suite_traffic_draw(ids, 3, None), traffic_draw(ids, 3))
    assert not np.array_equal(traffic_draw(ids, 3), traffic_draw(ids, 4))
    shared = suite_traffic_draw(ids, 3, memo)
    with pytest.raises(ValueError, match="read-only"):  # shared by every later run: nobody may change it
        shared[0] = 2.0


def test_parallel_plans_over_one_memo_equal_the_plain_plan(synthetic: tuple[Suite, PolicySpec]) -> None:
    suite, spec = synthetic
    memo = Memo()
    start = threading.Barrier(2)
    plans: list[Plan] = []

    def plan() -> None:
        start.wait()  # both threads plan at the same time
        plans.append(plan_tiers(suite.examples, spec, memo=memo))

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(plans) == 2
    plain = plan_tiers(suite.examples, spec)
    for found in plans:
        _assert_same_plan(found, plain)


def test_runs_over_one_suite_equal_runs_over_their_own_suites(tmp_path: Path) -> None:
    """Two policies with traffic splits run over one loaded suite (sharing its draws and plans) give
    the traces and summaries each gives over a freshly loaded suite."""
    from routegate.pipeline import run_policy

    folder = write_synthetic_suite(tmp_path / "s", 1200, seed=3)
    policies = [load_policy(str(folder / name)) for name in ("policy.yaml", "candidate.yaml")]
    assert all(any(r.when.traffic for r in p.spec.rules) for p in policies)
    suite = load_suite(folder)
    shared = [run_policy(p, [suite]) for p in policies]
    alone = [run_policy(p, [load_suite(folder)]) for p in policies]
    for found, expected in zip(shared, alone, strict=True):
        assert found.traces.equals(expected.traces)
        assert dumps_json(found.summary.to_json()) == dumps_json(expected.summary.to_json())
    assert not shared[0].traces.equals(shared[1].traces)


def _pandas_draw(ids: list[str], seed: int) -> np.ndarray:
    """The draw as first specified: pandas' SipHash of the ids (``hash_array``), top 53 bits."""
    import pandas as pd

    key = f"routegate{seed:07d}"[-16:].rjust(16, "0")
    hashed = pd.util.hash_array(np.array(ids, dtype=object), hash_key=key, categorize=False)
    return np.asarray((hashed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53)))


def _random_ids(count: int, seed: int) -> list[str]:
    """Ids of every length around the 8-byte block size, ASCII and multi-byte UTF-8 (up to 4 bytes)."""
    rng = np.random.default_rng(seed)
    alphabet = [*"abcXYZ019-_:/", "é", "ß", "日", "本", "\U0001f600", "\u0000"]
    ids = ["".join(rng.choice(alphabet, size=int(rng.integers(0, 30)))) for _ in range(count)]
    return [*ids, "", "a" * 7, "b" * 8, "c" * 9, "d" * 16, "é" * 4, "x" * 300]


@pytest.mark.parametrize("seed", [0, 7, 20240101, 123456789])
def test_draw_equals_pandas_siphash(seed: int) -> None:
    ids = _random_ids(3000, seed)
    expected = _pandas_draw(ids, seed)
    np.testing.assert_array_equal(traffic_draw(pa.array(ids), seed), expected)
    np.testing.assert_array_equal(traffic_draw(pa.array(ids, pa.large_string()), seed), expected)
    chunked = pa.chunked_array([pa.array(ids[:1000]), pa.array(ids[1000:])])
    np.testing.assert_array_equal(traffic_draw(chunked, seed), expected)
    np.testing.assert_array_equal(traffic_draw(pa.array(ids).slice(17, 2000), seed), expected[17:2017])


def test_draw_of_a_loaded_suite_equals_pandas(synthetic: tuple[Suite, PolicySpec]) -> None:
    suite, _spec = synthetic
    ids = suite.examples.column("id")
    np.testing.assert_array_equal(traffic_draw(ids, 99), _pandas_draw(ids.to_pylist(), 99))
    draw = traffic_draw(ids, 99)
    assert draw.min() >= 0.0
    assert draw.max() < 1.0
