"""A gate computes slice groups from the suites before either run; they must be what a run finds in its traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routegate.arrow.groups import slice_groups
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import RunOptions, run_policy
from routegate.stats.summary import suite_groups

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("policy", "suites"),
    [
        ("policies/assistant.yaml", ["routellm-gsm8k", "routellm-mtbench"]),  # several suites
        ("policies/private-data.yaml", ["privacy"]),  # unknown pii labels: detection fills the pii slice
    ],
)
def test_groups_from_the_suites_are_the_runs_groups(policy: str, suites: list[str]) -> None:
    loaded = [load_suite(ROOT / "eval_suites" / s) for s in suites]
    run = run_policy(load_policy(str(ROOT / policy)), loaded, RunOptions())
    from_traces = slice_groups(run.traces, run.summary.slices)
    expected = suite_groups(loaded)
    assert list(expected) == list(from_traces)
    for column, groups in from_traces.items():
        assert list(expected[column]) == list(groups), column
        for key, rows in groups.items():
            assert np.array_equal(expected[column][key], rows), (column, key)
    if suites == ["privacy"]:
        assert loaded[0].examples.column("pii").null_count  # the case the test is about
        assert set(expected["pii"]) == {"false", "true"}
