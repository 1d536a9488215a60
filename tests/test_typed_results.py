"""The typed step results are the files: ``RunSummary.to_json()`` is summary.json and the ``Comparison``
is what verdict.json copies, byte for byte as the CLI writes them, with one field per key."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import changed_policy, run_cli
from routegate.gates.spec import load_gates
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import gate_policies, replay_policy, run_policy
from routegate.report.run_markdown import render_run_markdown
from routegate.report.verdict import verdict_json
from routegate.stats.compare import ComparedRun, Comparison
from routegate.stats.notable import NotableExamples
from routegate.stats.summary import MissingRecordings, PolicyInfo, RunSummary, SuiteInfo
from routegate.writer import dumps_json

ROOT = Path(__file__).resolve().parents[1]
BASELINE = str(ROOT / "policies" / "assistant.yaml")
CANDIDATE = str(changed_policy("assistant-skip-cascade"))
SUITE = str(ROOT / "eval_suites" / "routellm-mtbench")

SUMMARY_KEYS = (
    "schema_version",
    "policy",
    "suites",
    "seed",
    "on_missing",
    "missing_recordings",
    "skipped_calls",
    "tiers",
    "slices",
    "metrics",
    "literature",
)
"""summary.json's top-level keys, in ``RunSummary``'s order."""
COMPARISON_KEYS = (
    "schema_version",
    "seed",
    "baseline",
    "candidate",
    "suites",
    "tiers",
    "slices",
    "deltas",
    "tier_shift",
    "model_shift",
    "examples",
)
"""The comparison's keys, in ``Comparison``'s order."""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``routegate run`` writes for the baseline over MT-Bench."""
    out = tmp_path_factory.mktemp("run")
    ran = run_cli("run", "--policy", BASELINE, "--suite", SUITE, "--out", str(out), "--no-progress")
    assert ran.code == 0, ran.stderr
    return out


@pytest.fixture(scope="module")
def gate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``routegate gate`` writes for baseline vs candidate over MT-Bench (the default gates)."""
    out = tmp_path_factory.mktemp("gate")
    ran = run_cli(
        "gate", "--baseline", BASELINE, "--candidate", CANDIDATE, "--suite", SUITE, "--out", str(out), "--no-progress"
    )
    assert ran.code in (0, 1), ran.stderr
    return out


def json_keys(path: Path) -> set[str]:
    data: dict[str, Any] = json.loads(path.read_text())
    return set(data)


def test_run_summary_to_json_is_the_summary_json_routegate_run_writes(run_dir: Path) -> None:
    result = run_policy(load_policy(BASELINE), [load_suite(SUITE)])
    assert dumps_json(result.summary.to_json()).encode("utf-8") == (run_dir / "summary.json").read_bytes()
    assert render_run_markdown(result.summary).encode("utf-8") == (run_dir / "summary.md").read_bytes()


def test_run_summary_declares_every_key_of_summary_json(run_dir: Path) -> None:
    assert tuple(f.name for f in dataclasses.fields(RunSummary)) == SUMMARY_KEYS
    assert json_keys(run_dir / "summary.json") == set(SUMMARY_KEYS)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["policy"]) == PolicyInfo.__required_keys__
    assert all(set(s) == SuiteInfo.__required_keys__ for s in summary["suites"])
    assert set(summary["missing_recordings"]) == MissingRecordings.__required_keys__


def test_to_json_keeps_the_field_order_and_leaves_out_literature_until_it_is_added() -> None:
    policy, suites = load_policy(BASELINE), [load_suite(SUITE)]
    without = replay_policy(policy, suites).summary
    assert without.literature is None
    assert tuple(without.to_json()) == SUMMARY_KEYS[:-1]
    with_literature = run_policy(policy, suites).summary
    assert tuple(with_literature.to_json()) == SUMMARY_KEYS
    bare = dataclasses.replace(with_literature, literature=None)
    assert dumps_json(bare.to_json()) == dumps_json(without.to_json())


def test_verdict_json_from_the_comparison_is_the_verdict_json_routegate_gate_writes(gate_dir: Path) -> None:
    gates, source = load_gates(None)
    suites = [load_suite(SUITE)]
    outcome = gate_policies(load_policy(BASELINE), load_policy(CANDIDATE), suites, gates, gates_source=source)
    written = (gate_dir / "verdict.json").read_bytes()
    assert dumps_json(verdict_json(outcome, gates)).encode("utf-8") == written
    comparison = json.loads(dumps_json(outcome.comparison.to_json()))
    verdict = json.loads(written)
    for key in ("baseline", "candidate", "suites", "seed", "tiers", "tier_shift", "examples"):
        assert verdict[key] == comparison[key], key
    assert set(verdict["deltas"]) == set(comparison["deltas"])


def test_comparison_declares_every_key_verdict_json_copies(gate_dir: Path) -> None:
    assert tuple(f.name for f in dataclasses.fields(Comparison)) == COMPARISON_KEYS
    verdict = json.loads((gate_dir / "verdict.json").read_text())
    # verdict.json carries every comparison field but its own schema version and the slice list
    assert set(COMPARISON_KEYS) - {"schema_version", "slices"} <= set(verdict)
    assert set(verdict["baseline"]) == set(verdict["candidate"]) == ComparedRun.__required_keys__
    assert set(verdict["baseline"]["policy"]) == PolicyInfo.__required_keys__
    assert set(verdict["examples"]) == NotableExamples.__required_keys__


def test_a_comparison_gets_its_examples_from_the_pipeline() -> None:
    gates, _ = load_gates(None)
    outcome = gate_policies(load_policy(BASELINE), load_policy(CANDIDATE), [load_suite(SUITE)], gates)
    assert outcome.comparison.examples is not None
    assert tuple(outcome.comparison.to_json()) == COMPARISON_KEYS
    bare = dataclasses.replace(outcome.comparison, examples=None)
    assert tuple(bare.to_json()) == COMPARISON_KEYS[:-1]
    with pytest.raises(ValueError, match="notable examples"):
        verdict_json(dataclasses.replace(outcome, comparison=bare), gates)
