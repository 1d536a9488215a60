"""The default gates neither cry wolf nor miss a real drop, on every bundled suite (docs/gates.md).

A/A: pairs of random routers that send the same share of requests to the strong model with different
seeds have equal expected quality, cost and latency; with the DEFAULT gates (no gates file) at most 5%
of such pairs may fail, at shares 10% and 50%, on each bundled suite and on the synthetic suite.

Power: a candidate whose expected quality is 3 points lower (it sends fewer requests to the strong
model) must fail at least 90% of the time on every suite whose mde80 for the overall quality gate is
below 3 points; on the others its quality gate may be inconclusive, never passed.

Run with ``-s`` to print the table that docs/gates.md shows (``nox -s slow -- -k calibration -s``).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from conftest import random_router
from routegate import gate_policies, load_gates, load_policy, load_suite
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.policy import Policy
from routegate.load.suite import Suite

ROOT = Path(__file__).resolve().parent.parent
PAIRS = 40
"""A/A pairs per suite and share (at most 2 may fail: 5%)."""
POWER_PAIRS = 20
"""Pairs per suite for the power check (at least 18 must fail where the suite resolves 3 points)."""
DROP = 0.03
"""The power check's expected quality drop (3 points)."""
SYNTHETIC_N = 20_000


@dataclass(frozen=True)
class Line:
    """A suite and the two models its random routers choose between."""

    strong: str
    weak: str
    private: str | None = None
    """A self-hosted model for the requests with PII, where the suite has them."""


LINES = {
    "routellm-mmlu": Line("gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1"),
    "routellm-gsm8k": Line("gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1"),
    "routellm-mtbench": Line("gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1"),
    "alpacaeval": Line("gpt-4-1106-preview", "claude-instant-1.2"),
    "synthetic": Line("synth-reasoning", "synth-fast", "synth-private"),
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Where each suite's random routers are written (beside a catalog that knows its models)."""
    out = {}
    routellm = tmp_path_factory.mktemp("routers")
    (routellm / "models.yaml").write_bytes((ROOT / "policies" / "models.yaml").read_bytes())
    for name in LINES:
        out[name] = routellm
    out["synthetic"] = write_synthetic_suite(tmp_path_factory.mktemp("synthetic"), SYNTHETIC_N)
    return out


def router(folder: Path, line: Line, share: float, seed: int) -> Policy:
    """A random router between the line's models; each tier falls back to the other model, so that
    recorded errors do not decide the error-rate gate, and requests with PII (the synthetic suite has
    some) stay on a private model, as they must."""
    path = random_router(folder, share, seed, strong=line.strong, weak=line.weak, fallback=True, private=line.private)
    return load_policy(str(path))


@cache
def suite_of(name: str, folder: Path) -> Suite:
    return load_suite(folder if name == "synthetic" else ROOT / "eval_suites" / name)


def gap(suite: Suite, line: Line) -> float:
    """Mean recorded quality of the strong model minus the weak one's, over requests both answered."""
    rec = suite.recordings
    models = np.asarray(rec.column("model").to_numpy(zero_copy_only=False), dtype=object)
    quality = np.asarray(rec.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64)
    ids = np.asarray(rec.column("example_id").to_numpy(zero_copy_only=False), dtype=object)
    strong = dict(zip(ids[models == line.strong], quality[models == line.strong], strict=True))
    weak = dict(zip(ids[models == line.weak], quality[models == line.weak], strict=True))
    diffs = [strong[i] - weak[i] for i in strong.keys() & weak.keys() if np.isfinite(strong[i] - weak[i])]
    return float(np.mean(diffs))


@dataclass(frozen=True)
class Tally:
    failed: int
    inconclusive: int
    passed_quality: int
    mde80: float
    pairs: int


def tally(name: str, folder: Path, share_b: float, share_c: float, pairs: int) -> Tally:
    suite, line = suite_of(name, folder), LINES[name]
    gates, source = load_gates(None)  # the documented defaults
    failed = inconclusive = passed_quality = 0
    mdes = []
    for i in range(pairs):
        base, cand = router(folder, line, share_b, 1000 + i), router(folder, line, share_c, 5000 + i)
        outcome = gate_policies(base, cand, [suite], gates, gates_source=source)
        quality = next(g for g in outcome.verdict.gates if g.name == "quality")
        failed += not outcome.verdict.passed
        inconclusive += bool(outcome.verdict.inconclusive)
        passed_quality += quality.status == "passed"
        mdes.append(outcome.comparison.deltas["overall"]["quality"]["mde80"])
    return Tally(failed, inconclusive, passed_quality, statistics.median(mdes), pairs)


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.1, 0.5])
@pytest.mark.parametrize("name", list(LINES))
def test_equal_routers_fail_at_most_5_percent_under_the_default_gates(
    name: str, share: float, folders: dict[str, Path]
) -> None:
    t = tally(name, folders[name], share, share, PAIRS)
    print(
        f"\nA/A | {name} | {share:.0%} | {t.failed}/{t.pairs} failed | {t.inconclusive}/{t.pairs} with an "
        f"inconclusive gate | mde80 {100 * t.mde80:.2f} pt"
    )
    assert t.failed <= 0.05 * t.pairs, f"{name} at {share:.0%}: {t.failed} of {t.pairs} equal pairs failed"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LINES))
def test_a_three_point_drop_fails_where_the_suite_resolves_it(name: str, folders: dict[str, Path]) -> None:
    suite, line = suite_of(name, folders[name]), LINES[name]
    share_c = 0.5 - DROP / gap(suite, line)  # expected quality 3 points below the baseline's
    t = tally(name, folders[name], 0.5, share_c, POWER_PAIRS)
    print(
        f"\npower | {name} | 50% vs {share_c:.1%} | {t.failed}/{t.pairs} failed | quality passed "
        f"{t.passed_quality}/{t.pairs} | mde80 {100 * t.mde80:.2f} pt"
    )
    assert t.passed_quality == 0, "a 3-point drop must never pass the quality gate"
    if t.mde80 < DROP:
        assert t.failed >= 0.9 * t.pairs, f"{name}: only {t.failed} of {t.pairs} 3-point drops failed"
