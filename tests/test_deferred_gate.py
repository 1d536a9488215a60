"""Leaving the text columns out of the load changes no number and no listed text of a gate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq

from conftest import changed_policy
from routegate.gates.spec import GatesSpec
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import gate_policies
from routegate.report.verdict import verdict_json

ROOT = Path(__file__).resolve().parents[1]


def test_gate_over_deferred_columns_equals_gate_over_whole_tables(tmp_path: Path) -> None:
    # The bundled suite rewritten with statistics and small row groups, so both text columns are deferred
    # and the listed examples' texts are read by row group.
    folder = tmp_path / "alpacaeval"
    shutil.copytree(ROOT / "eval_suites" / "alpacaeval", folder)
    for name in ("examples.parquet", "recordings.parquet"):
        pq.write_table(pq.read_table(folder / name), folder / name, row_group_size=100)
    lazy, eager = load_suite(folder), load_suite(folder, defer=False)
    assert set(lazy.deferred) == {"messages", "response"}
    assert not eager.deferred
    baseline = load_policy(str(ROOT / "policies" / "support.yaml"))
    candidate = load_policy(str(changed_policy("support-brainstorming-to-fast")))
    verdicts = [
        verdict_json(gate_policies(baseline, candidate, [suite], GatesSpec()), GatesSpec()) for suite in (lazy, eager)
    ]
    assert verdicts[0] == verdicts[1]
    listed = verdicts[0]["examples"]["regressions"] + verdicts[0]["examples"]["improvements"]
    assert listed
    assert all(e["prompt"] and (e["baseline"]["response"] or e["candidate"]["response"]) for e in listed)
