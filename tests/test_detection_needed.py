"""Detection runs when it can change a replay: unlabelled requests, or rules on detected kinds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa

from routegate.engine.detection import needs_detection
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import run_policy


def test_detection_only_when_it_can_change_the_replay(tmp_path: Path) -> None:
    folder = write_synthetic_suite(tmp_path / "s", 300, seed=2)
    suite = load_suite(folder)
    policy = load_policy(str(folder / "policy.yaml"))
    assert not needs_detection(suite, policy)  # every request labelled, no pii_kinds rule
    assert "pii_kinds" not in run_policy(policy, [suite]).runs[0].suite.examples.column_names

    rule = {"name": "secrets-home", "when": {"pii_kinds_any": ["secret"]}, "tier": "private"}
    spec = policy.spec.model_validate({**policy.spec.model_dump(by_alias=True), "rules": [rule]})
    kinds_policy = dataclasses.replace(policy, spec=spec)
    assert needs_detection(suite, kinds_policy)
    assert "pii_kinds" in run_policy(kinds_policy, [suite]).runs[0].suite.examples.column_names

    labels = suite.examples.column("pii").to_pylist()
    unlabelled = suite.examples.set_column(
        suite.examples.column_names.index("pii"), "pii", pa.array([None, *labels[1:]], pa.bool_())
    )
    partial = dataclasses.replace(suite, examples=unlabelled)
    assert needs_detection(partial, policy)
