"""Drills end to end on bundled suites: availability gates, the cascade example, exact price shocks, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import changed_policy
from routegate.faults.resolve import parse_scenario_args, resolve_scenarios
from routegate.faults.scenario import PriceShock, Scenario
from routegate.gates.resilience import resilience_gates
from routegate.gates.spec import GatesSpec, ResilienceGates
from routegate.load.policy import load_policy
from routegate.load.suite import Suite, load_suite
from routegate.pipeline import RunOptions, drill_policy, drill_scenario, gate_policies, run_policy
from routegate.report.verdict import verdict_json
from routegate.stats.resilience import provider_calls

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "policies" / "assistant.yaml"
SINGLE = changed_policy("assistant-single-provider-tiers")
CASCADE = changed_policy("assistant-cascade-without-rate-limit-fallback")


@pytest.fixture(scope="module")
def suites() -> list[Suite]:
    return [load_suite(ROOT / "eval_suites" / "routellm-mmlu"), load_suite(ROOT / "eval_suites" / "routellm-gsm8k")]


def test_single_provider_tiers_fail_availability_and_fallbacks_pass(suites: list[Suite]) -> None:
    base, single = load_policy(str(BASELINE)), load_policy(str(SINGLE))
    for scenario in ("openai-down", "together-down-2h"):
        out = gate_policies(base, single, suites, GatesSpec(), scenarios=[scenario])
        gate = next(g for g in out.verdict.gates if g.name == f"resilience.availability[{scenario}]")
        assert not gate.passed
        assert isinstance(gate.observed, float)
        assert gate.observed < 0.99
        assert out.resilience is not None
        baseline_gate = next(g for g in out.resilience["baseline_gates"] if g["name"] == gate.name)
        assert baseline_gate["passed"]
        assert baseline_gate["observed"] == 1.0
        # the failed requests are exactly those whose only model was at the dead provider
        cand = out.resilience["candidate"]["scenarios"][0]
        assert cand["failed"] > 0
        assert cand["providers"]
    same = gate_policies(single, base, suites, GatesSpec(), scenarios=["openai-down"])
    assert next(g for g in same.verdict.gates if g.name == "resilience.availability[openai-down]").passed


def test_cascade_is_cheaper_but_collapses_under_a_rate_limit_storm(suites: list[Suite], tmp_path: Path) -> None:
    base, cascade = load_policy(str(BASELINE)), load_policy(str(CASCADE))
    out = gate_policies(base, cascade, suites, GatesSpec(), scenarios=["rate-limit-together"])
    cost = out.comparison.deltas["overall"]["cost_per_1k_usd"]
    assert cost["candidate"] < 0.8 * cost["baseline"]  # cheaper in normal operation
    storm = out.resilience["candidate"]["scenarios"][0]  # type: ignore[index]
    calm = out.resilience["baseline"]["scenarios"][0]  # type: ignore[index]
    assert storm["availability"] < 0.75 < 0.999 <= calm["availability"]
    assert storm["providers"]["together"]["injected"]["rate_limit"] == storm["failed"]
    assert not out.verdict.passed
    verdict = verdict_json(out, GatesSpec())
    from routegate.report.gate_markdown import render_gate_markdown
    from routegate.report.html import render_html

    md = render_gate_markdown(verdict)
    assert "Resilience" in md
    assert storm["sentence"] in md
    assert "rate-limit-together" in md
    html = render_html(verdict, gates=out.verdict.gates)
    assert 'id="resilience"' in html
    assert "rate-limit-together" in html
    assert "<script" not in html


def test_price_shock_multiplies_cost_exactly(suites: list[Suite]) -> None:
    policy = load_policy(str(BASELINE))
    no_fault = run_policy(policy, suites)
    providers = sorted({policy.catalog.provider_of(m) for t in policy.spec.tiers.values() for m in t.models})
    shock = Scenario(
        name="all-x3",
        description="every price triples",
        faults=tuple(PriceShock(type="price", provider=p, multiplier=3) for p in providers),
    )
    run = drill_scenario(policy, suites, shock, RunOptions(), no_fault)
    np.testing.assert_allclose(
        run.traces.column("cost_usd").to_numpy(), 3 * no_fault.traces.column("cost_usd").to_numpy(), rtol=1e-12
    )
    report = drill_policy(policy, suites, [shock], RunOptions(), no_fault)
    s = report["scenarios"][0]
    assert s["cost_delta_pct"] == pytest.approx(200.0)
    assert s["availability"] == 1.0
    assert s["quality_delta"] == 0
    gates = resilience_gates(ResilienceGates(max_cost_increase_pct=150), report)
    assert [(g.name, g.passed) for g in gates if "cost" in g.name] == [("resilience.cost[all-x3]", False)]
    per = ResilienceGates(max_cost_increase_pct=150, scenarios={"all-x3": {"max_cost_increase_pct": 250}})
    assert all(g.passed for g in resilience_gates(per, report))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from routegate.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.slow
def test_drill_and_gate_files_are_byte_identical_across_runs(tmp_path: Path) -> None:
    scenario = tmp_path / "storm.yaml"
    scenario.write_text(
        "name: storm\ndescription: together rate limits 40% and openai is slow\nseed: 9\n"
        "arrival: {process: diurnal, rate_per_s: 0.5}\nfaults:\n"
        "  - {type: errors, provider: together, kind: rate_limit, rate: 0.4, retry_after_s: 1}\n"
        "  - {type: latency, provider: openai, multiplier: 2, start: 10m, duration: 1h}\n"
    )
    suite = str(ROOT / "eval_suites" / "routellm-gsm8k")
    outs = []
    for i in range(2):
        d = tmp_path / f"d{i}"
        r = _cli(
            "drill",
            "--policy",
            str(CASCADE),
            "--suite",
            suite,
            "--scenario",
            str(scenario),
            "--scenario",
            "builtin",
            "--out",
            str(d),
            "--no-progress",
        )
        assert r.returncode == 0, r.stderr
        g = tmp_path / f"g{i}"
        r = _cli(
            "gate",
            "--baseline",
            str(BASELINE),
            "--candidate",
            str(SINGLE),
            "--suite",
            suite,
            "--scenario",
            "openai-down",
            "--scenario",
            str(scenario),
            "--out",
            str(g),
            "--no-progress",
        )
        assert r.returncode == 1, r.stderr
        outs.append(
            ((d / "resilience.json").read_bytes(), (g / "verdict.json").read_bytes(), (g / "report.html").read_bytes())
        )
    assert outs[0] == outs[1]
    report = json.loads(outs[0][0])
    assert [s["name"] for s in report["scenarios"]][:2] == ["storm", "openai-down"]
    storm = report["scenarios"][0]
    assert storm["providers"]["together"]["injected"]["rate_limit"] > 0
    assert "resilience" in json.loads(outs[0][1])


def test_unknown_scenario_and_bad_file_exit_2(tmp_path: Path) -> None:
    suite = str(ROOT / "eval_suites" / "routellm-gsm8k")
    r = _cli("drill", "--policy", str(BASELINE), "--suite", suite, "--scenario", "nobody-down", "--out", str(tmp_path))
    assert r.returncode == 2
    assert "built-in names are" in r.stderr
    assert "openai-down" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndescription: x\nfaults:\n  - {type: outage, provider: nowhere}\n")
    r = _cli("run", "--policy", str(BASELINE), "--suite", suite, "--scenario", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    col = "  - {type: outage, provider: nowhere}".index("nowhere") + 1
    assert f"{bad}:4:{col}: faults[0].provider:" in r.stderr


def test_a_timed_outage_starts_into_the_traffic_whatever_epoch_the_timestamps_count_from() -> None:
    """``<provider>-down-2h`` on arrivals that start 3 days after 0 (real timestamps) hits the same
    requests as on arrivals from 0: the scenario's clock starts at the first arrival."""
    policy = load_policy(str(SINGLE))  # each tier on one provider: an outage leaves requests unanswered
    suite = load_suite(ROOT / "eval_suites" / "routellm-gsm8k")
    answered = {}
    for offset in (0.0, 3 * 86_400_000.0):
        arrival = suite.examples.column("arrival_ms").to_numpy(zero_copy_only=False) + offset
        shifted = replace(
            suite,
            examples=suite.examples.set_column(
                suite.examples.column_names.index("arrival_ms"), "arrival_ms", pa.array(arrival)
            ),
        )
        no_fault = run_policy(policy, [shifted])
        calls = provider_calls(no_fault.runs, policy.catalog)
        (scenario,) = resolve_scenarios(parse_scenario_args(["openai-down-2h"], [policy]), [policy], calls, [shifted])
        run = drill_scenario(policy, [shifted], scenario, RunOptions(), no_fault)
        answered[offset] = int(np.count_nonzero(~run.traces.column("error").to_numpy(zero_copy_only=False)))
    assert answered[0.0] < suite.examples.num_rows  # the outage hits some requests
    assert answered[3 * 86_400_000.0] == answered[0.0]
