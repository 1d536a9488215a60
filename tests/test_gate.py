"""`routegate gate`: pairing, statistics, gates, verdict files, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import changed_policy
from routegate.errors import InputError
from routegate.gates.spec import load_gates
from routegate.report.junit import render_junit
from routegate.stats.intervals import BOOTSTRAP_MAX_N, paired_mean_delta, paired_percentile_delta

ROOT = Path(__file__).resolve().parent.parent
ROUTEGATE = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")
ROUTELLM = [str(ROOT / "eval_suites" / s) for s in ("routellm-mmlu", "routellm-gsm8k", "routellm-mtbench")]


def routegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROUTEGATE, *args], capture_output=True, text=True, check=False)


def suite_args() -> list[str]:
    return [arg for s in ROUTELLM for arg in ("--suite", s)]


def walk_numbers(value: Any, path: str = "") -> list[tuple[str, float]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in walk_numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in walk_numbers(v, f"{path}[{i}]")]
    if isinstance(value, float | int) and not isinstance(value, bool):
        return [(path, float(value))]
    return []


def test_gating_a_policy_against_itself_passes_with_every_delta_zero(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = routegate(
        "gate",
        "--baseline",
        str(ROOT / "policies/assistant.yaml"),
        "--candidate",
        str(ROOT / "policies/assistant.yaml"),
        *suite_args(),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr + result.stdout
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["passed"] is True
    deltas = [
        (p, v)
        for p, v in walk_numbers(verdict["deltas"])
        if p.endswith(".delta") or (".ci95[" in p and ".latency_ms" not in p)
    ]
    assert deltas, "no deltas found"
    assert all(v == 0.0 for _, v in deltas), [d for d in deltas if d[1] != 0.0][:5]
    shift = np.array(verdict["tier_shift"]["counts"])
    assert shift.sum() == 15_504
    assert shift.trace() == shift.sum()
    assert verdict["examples"] == {"regressions": [], "improvements": []}


@pytest.mark.slow
def test_candidate_passes_examples_fail_and_exit_codes_say_so(tmp_path: Path) -> None:
    base = str(ROOT / "policies/assistant.yaml")
    ok = routegate(
        "gate",
        "--baseline",
        base,
        "--candidate",
        str(changed_policy("assistant-skip-cascade")),
        *suite_args(),
        "--out",
        str(tmp_path / "a"),
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad_q = routegate(
        "gate",
        "--baseline",
        base,
        "--candidate",
        str(changed_policy("assistant-cheaper-math")),
        *suite_args(),
        "--out",
        str(tmp_path / "b"),
    )
    assert bad_q.returncode == 1
    failed = {g["name"] for g in json.loads((tmp_path / "b/verdict.json").read_text())["gates"] if not g["passed"]}
    assert "quality" in failed
    assert "quality[task_type=math]" in failed
    assert "cost" not in failed
    bad_c = routegate(
        "gate",
        "--baseline",
        base,
        "--candidate",
        str(changed_policy("assistant-gpt4-canary")),
        *suite_args(),
        "--out",
        str(tmp_path / "c"),
    )
    assert bad_c.returncode == 1
    failed = {g["name"] for g in json.loads((tmp_path / "c/verdict.json").read_text())["gates"] if not g["passed"]}
    assert failed == {"cost"}
    usage = routegate(
        "gate",
        "--baseline",
        base,
        "--candidate",
        str(tmp_path / "missing.yaml"),
        *suite_args(),
        "--out",
        str(tmp_path / "d"),
    )
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr
    assert not (tmp_path / "d").exists()


def test_same_inputs_give_byte_identical_verdict_files(tmp_path: Path) -> None:
    args = [
        "--baseline",
        str(ROOT / "policies/assistant.yaml"),
        "--candidate",
        str(changed_policy("assistant-cheaper-math")),
        *suite_args(),
    ]
    files = ("verdict.json", "summary.md", "junit.xml", "report.html")
    out = tmp_path / "out"
    assert routegate("gate", *args, "--out", str(out)).returncode == 1
    first = {f: (out / f).read_bytes() for f in files}
    assert routegate("gate", *args, "--out", str(out)).returncode == 1
    for file in files:
        assert (out / file).read_bytes() == first[file], file
    summary = (out / "summary.md").read_text()
    assert len(summary) < 60_000
    assert "FAILED" in summary


def test_junit_is_valid_xml_even_with_control_characters() -> None:
    nasty = "bad \x00\x07\x1b text ]]> <b>&amp; \ud800 end"
    verdict = {
        "baseline": {"policy": {"name": "b", "sha256": "1"}},
        "candidate": {"policy": {"name": nasty, "sha256": "2"}},
        "suites": [{"name": "s", "sha256": "3"}],
        "seed": 1,
        "gates": [
            {
                "name": nasty,
                "status": "failed",
                "passed": False,
                "skipped": False,
                "observed": 1,
                "threshold": 0,
                "reason": nasty,
            },
            {
                "name": "ok",
                "status": "passed",
                "passed": True,
                "skipped": False,
                "observed": 0,
                "threshold": 0,
                "reason": "fine",
            },
            {
                "name": "skip",
                "status": "not gated",
                "passed": True,
                "skipped": True,
                "observed": None,
                "threshold": 0,
                "reason": "small",
            },
        ],
    }
    root = ET.fromstring(render_junit(verdict).encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    failure = root.find(".//testcase/failure")
    assert failure is not None
    assert "]]> <b>&amp;" in (failure.get("message") or "")


def test_bootstrap_and_normal_paths_agree_where_they_overlap() -> None:
    rng = np.random.default_rng(3)
    n = BOOTSTRAP_MAX_N
    b = (rng.random(n) < 0.7).astype(float)
    c = np.where(rng.random(n) < 0.2, 1 - b, b)
    boot = paired_mean_delta(b, c, seed=1)
    normal = paired_mean_delta(np.append(b, b[0]), np.append(c, c[0]), seed=1)
    assert boot.method == "bootstrap"
    assert normal.method == "normal"
    assert boot.se == pytest.approx(normal.se, rel=0.08)
    assert boot.low == pytest.approx(normal.low, abs=0.004)
    assert boot.high == pytest.approx(normal.high, abs=0.004)
    assert boot.p_noninferior(0.01) == pytest.approx(normal.p_noninferior(0.01), abs=0.03)
    lat_b, lat_c = rng.lognormal(6, 1, n), rng.lognormal(6.1, 1, n)
    d1, lo1, hi1, m1 = paired_percentile_delta(lat_b, lat_c, 95, seed=1)
    d2, lo2, hi2, m2 = paired_percentile_delta(np.append(lat_b, lat_b[0]), np.append(lat_c, lat_c[0]), 95, seed=1)
    assert (m1, m2) == ("bootstrap", "order-statistics")
    assert d1 == pytest.approx(d2, rel=0.02)
    # The order-statistic interval is the conservative one; both contain the estimate.
    assert lo2 <= lo1 + 1e-9
    assert hi2 >= hi1 - 1e-9
    assert lo1 <= d1 <= hi1


def test_gates_file_is_validated_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text("quality:\n  margin: -1\ncost:\n  max_increase: 5\n")
    with pytest.raises(InputError) as info:
        load_gates(str(path))
    text = str(info.value)
    assert f"{path}:2:11: quality.margin:" in text
    assert f"{path}:4:3: cost.max_increase: unknown field; allowed here: max_increase_pct" in text
