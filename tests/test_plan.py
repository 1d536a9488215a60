"""Planning: the traffic draw is memoised per (suite, seed) without changing any plan."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import routegate.engine.plan as plan_module
from routegate.arrow.memo import Memo
from routegate.engine.plan import plan_tiers, suite_traffic_draw, traffic_draw
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import PolicySpec, load_policy
from routegate.load.suite import Suite, load_suite


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Suite, PolicySpec]:
    folder = write_synthetic_suite(tmp_path_factory.mktemp("plan") / "s", 3000, seed=11)
    spec = load_policy(str(folder / "policy.yaml")).spec
    assert any(rule.when.traffic is not None for rule in spec.rules)  # the memo is exercised
    return load_suite(folder), spec


def _counting(monkeypatch: pytest.MonkeyPatch, delay: float = 0.0) -> list[int]:
    """Count (and optionally slow down) the real traffic draws."""
    calls: list[int] = []
    real = plan_module.traffic_draw

    def counted(ids: object, seed: int) -> np.ndarray:
        calls.append(seed)
        time.sleep(delay)
        return real(ids, seed)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_module, "traffic_draw", counted)
    return calls


def test_memoised_plan_equals_the_plain_plan(synthetic: tuple[Suite, PolicySpec]) -> None:
    suite, spec = synthetic
    plain = plan_tiers(suite.examples, spec)
    memo = Memo()
    for _ in range(2):  # computed, then from the memo
        memoised = plan_tiers(suite.examples, spec, memo=memo)
        np.testing.assert_array_equal(memoised.tier, plain.tier)
        np.testing.assert_array_equal(memoised.rule, plain.rule)
    assert memoised.tiers == plain.tiers


def test_policies_that_decide_alike_share_one_plan(synthetic: tuple[Suite, PolicySpec]) -> None:
    """A change that leaves tiers, rules and default tier alone (here an escalation threshold and the
    rules' names) reuses the plan; a change to any rule, or to the order of the tiers, does not."""
    suite, spec = synthetic
    memo = Memo()
    first = plan_tiers(suite.examples, spec, memo=memo)
    assert not first.tier.flags.writeable  # shared between runs: nobody may change it
    steps = [s.model_copy(update={"below_confidence": 0.9}) for s in spec.escalation.steps]
    stricter = spec.model_copy(
        update={
            "escalation": spec.escalation.model_copy(update={"steps": steps}),
            "rules": [r.model_copy(update={"name": r.name + "-renamed"}) for r in spec.rules],
        }
    )
    assert plan_tiers(suite.examples, stricter, memo=memo) is first
    other_rule = spec.model_copy(update={"rules": [spec.rules[0].model_copy(update={"tier": spec.default_tier})]})
    reordered = spec.model_copy(update={"tiers": dict(reversed(list(spec.tiers.items())))})
    for changed in (other_rule, reordered):
        plan = plan_tiers(suite.examples, changed, memo=memo)
        assert plan is not first
        plain = plan_tiers(suite.examples, changed)
        np.testing.assert_array_equal(plan.tier, plain.tier)
        assert plan.tiers == plain.tiers


def test_draw_is_computed_once_per_seed(synthetic: tuple[Suite, PolicySpec], monkeypatch: pytest.MonkeyPatch) -> None:
    suite, _spec = synthetic
    calls = _counting(monkeypatch)
    memo = Memo()
    ids = suite.examples.column("id")
    first = suite_traffic_draw(ids, 3, memo)
    again = suite_traffic_draw(ids, 3, memo)
    other = suite_traffic_draw(ids, 4, memo)
    assert calls == [3, 4]
    assert again is first
    assert not first.flags.writeable  # shared by every later run: nobody may change it
    np.testing.assert_array_equal(first, traffic_draw(ids, 3))
    assert not np.array_equal(first, other)
    suite_traffic_draw(ids, 3, None)  # no memo: computed every time
    assert calls == [3, 4, 3]


def test_parallel_plans_hash_the_ids_once(synthetic: tuple[Suite, PolicySpec], monkeypatch: pytest.MonkeyPatch) -> None:
    suite, spec = synthetic
    calls = _counting(monkeypatch, delay=0.2)  # both threads are inside planning at the same time
    memo = Memo()
    plans = []
    threads = [
        threading.Thread(target=lambda: plans.append(plan_tiers(suite.examples, spec, memo=memo))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(plans) == 2
    np.testing.assert_array_equal(plans[0].tier, plans[1].tier)


def test_importing_the_planner_does_not_import_pandas() -> None:
    code = "import sys, routegate.engine.plan; sys.exit('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_pipeline_shares_the_draw_between_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from routegate.pipeline import run_policy

    folder = write_synthetic_suite(tmp_path / "s", 1200, seed=3)
    suite = load_suite(folder)
    calls = _counting(monkeypatch)
    run_policy(load_policy(str(folder / "policy.yaml")), [suite])
    run_policy(load_policy(str(folder / "candidate.yaml")), [suite])
    traffic_seeds = {r.when.traffic.seed for r in load_policy(str(folder / "policy.yaml")).spec.rules if r.when.traffic}
    assert sorted(set(calls)) == sorted(traffic_seeds)
    assert len(calls) == len(set(calls))  # each (suite, seed) hashed once over both runs


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
