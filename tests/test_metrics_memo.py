"""Literature metrics: the per-suite parts shared by the runs over one suite change no figure."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from conftest import changed_policy
from routegate.engine.run import replay_suite
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.catalog import Catalog
from routegate.load.policy import load_policy
from routegate.load.suite import Suite, load_suite
from routegate.providers.base import OK
from routegate.providers.recorded import RecordedProvider
from routegate.stats.literature import literature
from routegate.stats.outcomes import model_outcomes

ROOT = Path(__file__).resolve().parents[1]


def _fresh(folder: Path) -> Suite:
    return load_suite(folder)


def _by_model(suite: Suite, catalog: Catalog, model: str) -> dict[str, np.ndarray]:
    """One model's outcomes the long way: its recordings in example order, priced, failures scored 0."""
    rec = suite.recordings.filter(pa.compute.equal(suite.recordings.column("model"), model))
    position = {e: i for i, e in enumerate(suite.examples.column("id").to_pylist())}
    order = np.argsort([position[e] for e in rec.column("example_id").to_pylist()])
    rec = rec.take(pa.array(order))
    price = catalog.models[model].price
    tokens_in = np.array(rec.column("input_tokens").to_pylist(), dtype=np.float64)
    tokens_out = np.array(rec.column("output_tokens").to_pylist(), dtype=np.float64)
    failed = np.array([bool(e) for e in rec.column("error").to_pylist()])
    quality = np.array([np.nan if q is None else q for q in rec.column("quality").to_pylist()], dtype=np.float64)
    return {
        "cost": tokens_in * (price.input_per_1m / 1e6) + tokens_out * (price.output_per_1m / 1e6),
        "latency": np.array(rec.column("latency_ms").to_pylist(), dtype=np.float64),
        "quality": np.where(failed, 0.0, quality),
        "failed": failed,
    }


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_suite(tmp_path_factory.mktemp("lit") / "s", 2000, seed=21)


def test_outcomes_equal_each_models_recordings(synthetic: Path) -> None:
    suite = _fresh(synthetic)
    catalog = load_policy(str(synthetic / "policy.yaml")).catalog
    outcomes = model_outcomes(suite, catalog)
    assert outcomes.models == tuple(sorted(catalog.models))
    for k, model in enumerate(outcomes.models):
        expected = _by_model(suite, catalog, model)
        assert expected["failed"].any()  # failed calls are exercised
        np.testing.assert_array_equal(outcomes.cost[k], expected["cost"])
        np.testing.assert_array_equal(outcomes.latency[k], expected["latency"])
        np.testing.assert_array_equal(outcomes.quality[k], expected["quality"])
    # What the outcomes rely on: the provider's code is OK exactly where the recording has no error text.
    codes = RecordedProvider.from_suite(suite, ()).error
    np.testing.assert_array_equal(codes != OK, [bool(e) for e in suite.recordings.column("error").to_pylist()])


def _runs(folder: Path, suite: Suite) -> list[tuple[Suite, pa.Table]]:
    return [
        (suite, replay_suite(load_policy(str(folder / name)), suite).traces)
        for name in ("policy.yaml", "candidate.yaml")
    ]


@pytest.mark.parametrize("where", ["synthetic", "routellm-mmlu"])
def test_warm_literature_equals_cold(where: str, synthetic: Path) -> None:
    """The second run's block (suite parts from the memo) equals a block computed from scratch."""
    folder = synthetic if where == "synthetic" else ROOT / "eval_suites" / where
    if where == "synthetic":
        paths = (synthetic / "policy.yaml", synthetic / "candidate.yaml")
    else:
        paths = (ROOT / "policies" / "assistant.yaml", changed_policy("assistant-skip-cascade"))
    catalog = load_policy(str(paths[0])).catalog
    shared = _fresh(folder)
    traces = [replay_suite(load_policy(str(p)), shared).traces for p in paths]
    warm = [literature([(shared, t)], catalog, seed=5) for t in traces]
    cold = [literature([(_fresh(folder), t)], catalog, seed=5) for t in traces]
    assert warm == cold
    kind = warm[0][shared.name]["kind"]
    assert kind == ("multi_model" if where == "synthetic" else "two_model")
    assert warm[0] != warm[1]  # the policy part is per run
    before = copy.deepcopy(warm[1])
    warm[0][shared.name]["policy"]["quality"] = -1.0  # a caller editing its summary
    for block in warm[0][shared.name].values():
        if isinstance(block, (dict, list)):
            block.clear()
    assert literature([(shared, traces[1])], catalog, seed=5) == before


def test_parallel_runs_over_one_suite_equal_runs_over_their_own_suites(synthetic: Path) -> None:
    """Two runs' literature blocks computed at the same time over one loaded suite (as a gate's two
    threads do) equal the blocks computed one at a time, each over its own freshly loaded suite."""
    suite = _fresh(synthetic)
    catalog = load_policy(str(synthetic / "policy.yaml")).catalog
    traces = [t for _, t in _runs(synthetic, suite)]
    start = threading.Barrier(len(traces))
    out: dict[int, dict[str, Any]] = {}

    def compute(k: int) -> None:
        start.wait()  # both threads enter literature together
        out[k] = literature([(suite, traces[k])], catalog, seed=5)

    threads = [threading.Thread(target=compute, args=(k,)) for k in range(len(traces))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = [literature([(_fresh(synthetic), t)], catalog, seed=5) for t in traces]
    assert [out[k] for k in range(len(traces))] == alone
    assert alone[0] != alone[1]
