"""The privacy gate counts breaches from the attempts actually made; the bundled privacy suite and its policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import changed_policy, example_row, recording_row, run_cli, write_project, write_suite
from routegate.engine.detection import detect_examples
from routegate.faults.resolve import parse_scenario_args, resolve_scenarios
from routegate.gates.privacy import privacy_gate
from routegate.importers.privacy import COMBOS, PLACEMENTS, import_privacy
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import RunOptions, drill_scenario, run_policy
from routegate.stats.resilience import provider_calls

ROOT = Path(__file__).resolve().parents[1]
PASSING = ROOT / "policies" / "private-data.yaml"
# The production private-data policy with its PII tier falling back to an external model.
LEAKY = changed_policy("private-data-external-fallback")


def _project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path,
        tiers={
            "fast": {"models": ["gpt-small", "claude-mid"]},
            "reasoning": {"models": ["gpt-big"]},
            "onprem": {"models": ["llama-local", "gpt-big"]},  # falls back to an external model
            "home": {"models": ["qwen-local"]},  # escalates to an external tier
        },
        rules=[
            {"name": "summaries-fast", "when": {"task_type": ["summarize"]}, "tier": "fast"},
            {"name": "pii-math-home", "when": {"pii": True, "task_type": ["math"]}, "tier": "home"},
            {"name": "pii-onprem", "when": {"pii": True}, "tier": "onprem"},
        ],
        default_tier="fast",
        escalation={"steps": [{"from": "home", "to": "reasoning", "below_confidence": 0.5}], "max_escalations": 1},
        sla=None,
    )


def _rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ex = [
        example_row(0, pii=True),  # onprem: llama fails -> gpt-big: breach on attempt 1 (fallback)
        example_row(1, pii=True),  # onprem: llama answers: no breach
        example_row(2, pii=True, task_type="math"),  # home: low confidence -> reasoning: attempt 1 (escalation)
        example_row(3, pii=False),  # fast, external, no PII: no breach
        example_row(4, pii=None, messages=[{"role": "user", "content": "I am bob@example.com"}]),  # detected
        example_row(5, pii=True, task_type="summarize"),  # fast: the first call leaks (attempt 0)
        example_row(6, pii=True, task_type="math"),  # home, confident: no breach
    ]
    models = ("gpt-small", "claude-mid", "gpt-big", "llama-local", "qwen-local")
    rec = [recording_row(str(r["id"]), m) for r in ex for m in models]
    for r in rec:
        if r["model"] == "llama-local" and r["example_id"] in ("ex0", "ex4"):
            r.update(error="server_error", response=None, quality=None)
        if r["model"] == "qwen-local" and r["example_id"] == "ex2":
            r["confidence"] = 0.2
    return ex, rec


def test_breaches_are_counted_on_fallbacks_escalations_and_first_calls(tmp_path: Path) -> None:
    policy = load_policy(str(_project(tmp_path)))
    ex, rec = _rows()
    suite = load_suite(write_suite(tmp_path / "s", ex, rec))
    result = run_policy(policy, [suite])
    assert result.traces.column("privacy_breach").to_pylist() == [True, False, True, False, True, True, False]
    assert result.traces.column("breach_attempt").to_pylist() == [1, None, 1, None, 1, 0, None]
    gate = privacy_gate(result)
    assert not gate.passed
    assert gate.details is not None
    assert gate.details["total"] == 4
    assert gate.details["breaches"] == [
        {"suite": "tiny", "example_id": "ex0", "attempt": 1, "kind": "fallback", "model": "gpt-big"},
        {"suite": "tiny", "example_id": "ex2", "attempt": 1, "kind": "escalation", "model": "gpt-big"},
        {"suite": "tiny", "example_id": "ex4", "attempt": 1, "kind": "fallback", "model": "gpt-big"},
        {"suite": "tiny", "example_id": "ex5", "attempt": 0, "kind": "first", "model": "gpt-small"},
    ]
    assert "tiny/ex0 on attempt 1 (fallback) to gpt-big" in gate.reason
    assert "bob@example.com" not in str(gate.details) + gate.reason  # ids, never the text
    assert result.summary.metrics["overall"]["privacy_breaches"] == 4


def test_no_breach_when_every_pii_chain_stays_private(tmp_path: Path) -> None:
    policy = load_policy(str(write_project(tmp_path)))  # conftest's policy: PII -> private [llama, qwen]
    ex, rec = _rows()
    suite = load_suite(write_suite(tmp_path / "s", ex, rec))
    gate = privacy_gate(run_policy(policy, [suite]))
    assert gate.passed
    assert gate.observed == 0


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_privacy(ROOT / "eval_suites" / "alpacaeval", tmp_path_factory.mktemp("priv"))


def test_privacy_suite_rebuilds_byte_identical(rebuilt: Path) -> None:
    shipped = ROOT / "eval_suites" / "privacy"
    for name in ("suite.yaml", "examples.parquet", "recordings.parquet", "LICENSE"):
        assert (rebuilt / name).read_bytes() == (shipped / name).read_bytes(), name


def test_privacy_suite_covers_every_kind_variant_and_placement(rebuilt: Path) -> None:
    suite = load_suite(rebuilt)
    ex = suite.examples
    variants = set(ex.column("pii_variant").to_pylist()) - {"none"}
    assert variants == {f"{k}/{v}" for k, v in COMBOS}
    assert set(ex.column("pii_placement").to_pylist()) - {"none"} == set(PLACEMENTS)
    planted = np.array([bool(t) for t in ex.column("pii_truth").to_pylist()])
    assert planted.sum() == round(0.2 * ex.num_rows)
    assert ex.column("pii").null_count == ex.num_rows
    base = load_suite(ROOT / "eval_suites" / "alpacaeval")
    assert suite.recordings.equals(base.recordings)  # the models' real answers, unchanged


def test_detector_recall_is_complete_on_the_planted_pii(rebuilt: Path) -> None:
    ex = load_suite(rebuilt).examples
    kinds = detect_examples(ex).kinds().to_pylist()
    truth = ex.column("pii_truth").to_pylist()
    missed = [(i, t, k) for i, (t, k) in enumerate(zip(truth, kinds, strict=True)) if t and not set(t) <= set(k)]
    assert missed == []
    wrong_kind = [(t, k) for t, k in zip(truth, kinds, strict=True) if t and set(k) - set(t)]
    assert wrong_kind == []
    untouched_flagged = sum(1 for t, k in zip(truth, kinds, strict=True) if not t and k)
    assert untouched_flagged <= 2  # real e-mail addresses / phone numbers in AlpacaEval's own text (docs/privacy.md)


@pytest.mark.slow
def test_privacy_policies_pass_in_normal_operation(tmp_path: Path) -> None:
    out = run_cli(
        "gate",
        "--baseline",
        str(PASSING),
        "--candidate",
        str(LEAKY),
        "--suite",
        "eval_suites/privacy",
        "--out",
        str(tmp_path / "gate"),
        cwd=ROOT,
    )
    assert out.code == 0, out.stdout + out.stderr
    for path in (PASSING, LEAKY):
        policy = load_policy(str(path))
        result = run_policy(policy, [load_suite(ROOT / "eval_suites" / "privacy")])
        assert privacy_gate(result).passed
        assert result.traces.column("pii").to_pylist().count(True) >= 161  # every planted request is PII


def test_the_leaky_policy_breaches_only_when_the_private_provider_is_down() -> None:
    suite = load_suite(ROOT / "eval_suites" / "privacy")
    results = {}
    for name, path in (("passing", PASSING), ("leaky", LEAKY)):
        policy = load_policy(str(path))
        no_fault = run_policy(policy, [suite])
        assert privacy_gate(no_fault).passed
        calls = provider_calls(no_fault.runs, policy.catalog)
        scenarios = resolve_scenarios(parse_scenario_args(["selfhosted-down"], [policy]), [policy], calls, [suite])
        detected = [r.suite for r in no_fault.runs]  # the suites with pii decided by detection
        results[name] = privacy_gate(drill_scenario(policy, detected, scenarios[0], RunOptions(), no_fault))
    assert results["passing"].passed
    leak = results["leaky"]
    assert not leak.passed
    pii_on_prem = int(
        np.count_nonzero(
            run_policy(load_policy(str(LEAKY)), [suite]).traces.column("initial_tier").to_numpy(zero_copy_only=False)
            == "onprem"
        )
    )
    assert leak.observed == pii_on_prem  # every PII request falls back to Claude Instant
    assert leak.details is not None
    assert {(b["attempt"], b["kind"], b["model"]) for b in leak.details["breaches"]} == {
        (1, "fallback", "claude-instant-1.2")
    }


@pytest.mark.slow
def test_gate_and_drill_fail_the_leaky_policy_under_the_outage(tmp_path: Path) -> None:
    """From the CLI: the privacy gate holds under faults, with or without a gates file."""
    gate = run_cli(
        "gate",
        "--baseline",
        str(PASSING),
        "--candidate",
        str(LEAKY),
        "--suite",
        "eval_suites/privacy",
        "--scenario",
        "selfhosted-down",
        "--out",
        str(tmp_path / "gate"),
        cwd=ROOT,
    )
    assert gate.code == 1, gate.stdout + gate.stderr
    verdict = json.loads((tmp_path / "gate" / "verdict.json").read_text())
    failed = {g["name"] for g in verdict["gates"] if not g["passed"]}
    assert "resilience.privacy[selfhosted-down]" in failed
    assert "privacy" not in failed  # no breach without the outage
    for name, path, code in (("passing", PASSING, 0), ("leaky", LEAKY, 1)):
        drill = run_cli(
            "drill",
            "--policy",
            str(path),
            "--suite",
            "eval_suites/privacy",
            "--scenario",
            "selfhosted-down",
            "--out",
            str(tmp_path / name),
            cwd=ROOT,
        )
        assert drill.code == code, drill.stdout + drill.stderr
        report = json.loads((tmp_path / name / "resilience.json").read_text())
        breaches = report["scenarios"][0]["privacy_breaches"]
        assert (breaches > 0) == (code == 1)
