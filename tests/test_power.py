"""``routegate power``: the margin each quality gate resolves and the requests it needs, from the suites."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from conftest import run_cli
from routegate import load_policy, load_suite
from routegate.pipeline import run_policy
from routegate.stats.power import PowerRow, power_rows

ROOT = Path(__file__).resolve().parent.parent
ASSISTANT = str(ROOT / "policies" / "assistant.yaml")


def rows_of(names: list[str], changed: float = 0.5) -> dict[str, PowerRow]:
    result = run_policy(load_policy(ASSISTANT), [load_suite(ROOT / "eval_suites" / n) for n in names])
    rows = power_rows(
        result, margin=0.01, slice_margin=0.03, min_n=300, alpha=0.05, alarm=0.0125, slice_alarm=0.005, changed=changed
    )
    return {r.gate: r for r in rows}


def test_a_small_suite_needs_more_requests_for_a_one_point_margin_and_a_large_one_does_not() -> None:
    small = rows_of(["routellm-gsm8k"])["quality"]
    large = rows_of(["routellm-mmlu"])["quality"]
    assert not small.enough
    assert small.needed is not None
    assert small.needed > small.n
    assert small.needed == math.ceil(small.n * (small.resolves / 0.01) ** 2)
    assert large.enough
    assert large.detects > large.resolves  # a stricter alarm level


def test_a_larger_change_needs_proportionally_more_requests() -> None:
    half = rows_of(["routellm-gsm8k"], 0.5)["quality"]
    whole = rows_of(["routellm-gsm8k"], 1.0)["quality"]
    assert whole.resolves / half.resolves == pytest.approx(math.sqrt(2))


def test_slices_that_would_not_be_gated_are_left_out() -> None:
    rows = rows_of(["routellm-mmlu"])
    assert "quality[pii=false]" not in rows  # every request: the overall gate's
    assert all(r.n >= 300 for name, r in rows.items() if name != "quality")


def test_the_command_prints_a_table_and_refuses_bad_input(tmp_path: Path) -> None:
    done = run_cli("power", "--policy", ASSISTANT, "--suite", str(ROOT / "eval_suites" / "routellm-gsm8k"))
    assert done.code == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("| `quality` |"))
    assert re.fullmatch(r"\| `quality` \| 1,307 \| 1\.00 pt \| [\d.]+ pt \| [\d.]+ pt \| [\d,]+ \| \*\*no\*\* \|", line)
    assert "cannot be decided at their margin" in done.stdout
    bad = run_cli("power", "--policy", ASSISTANT, "--suite", str(tmp_path / "nowhere"))
    assert bad.code == 2
    assert "Traceback" not in bad.stderr
    assert "nowhere" in bad.stderr
