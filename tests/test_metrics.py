"""Routing-literature metrics: hand-computed examples, the real engine, and published numbers."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import changed_policy
from routegate.engine.plan import traffic_draw
from routegate.gates.spec import GatesSpec
from routegate.importers.alpacaeval import LINEUP
from routegate.load.policy import Policy, load_policy
from routegate.load.suite import Suite, load_suite
from routegate.pipeline import RunOptions, gate_policies, run_policy
from routegate.providers.recorded import recording_index
from routegate.report.run_markdown import render_run_markdown
from routegate.report.verdict import verdict_json
from routegate.stats.aiq import aiq, hull_quality_at, upper_hull
from routegate.stats.apgr import RouterCurve, apgr, cpt, oracle_curve, pgr, random_apgr_sd, random_curve, ranked_curve
from routegate.stats.literature import RunTotals, literature
from routegate.stats.outcomes import ModelOutcomes, answer_groups, model_outcomes
from routegate.stats.summary import RunSummary
from routegate.writer import dumps_json

ROOT = Path(__file__).resolve().parents[1]
SUITES = ROOT / "eval_suites"
POLICIES = ROOT / "policies"
LEADERBOARD = ROOT.parent / "shared" / "data" / "alpaca_eval" / "leaderboard.csv"
ROUTEGATE = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")
ROUTELLM = ("routellm-mmlu", "routellm-gsm8k", "routellm-mtbench")
STRONG, WEAK = "gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1"


def load_policy_at(path: Path) -> Policy:
    return load_policy(str(path))


def literature_of(summary: RunSummary) -> dict[str, Any]:
    """The summary's ``literature`` entry, which every ``run_policy`` sets."""
    assert summary.literature is not None
    return summary.literature


def routegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ROUTEGATE, *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def suites() -> dict[str, Suite]:
    return {name: load_suite(SUITES / name) for name in (*ROUTELLM, "alpacaeval")}


@pytest.fixture(scope="module")
def single_strong_run(suites: dict[str, Suite]) -> RunSummary:
    policy = load_policy_at(POLICIES / "single" / f"{STRONG}.yaml")
    return run_policy(policy, [suites[n] for n in ROUTELLM], RunOptions()).summary


# --- hand-computed examples -----------------------------------------------------------------------------


def test_pgr_by_hand() -> None:
    assert pgr(0.7, 0.6, 0.8) == pytest.approx(0.5)
    assert pgr(0.6, 0.6, 0.8) == 0
    assert pgr(0.85, 0.6, 0.8) == pytest.approx(1.25)  # beyond the strong model: more than the gap
    assert pgr(0.7, 0.7, 0.7) is None  # no gap: undefined, never a division by zero
    assert pgr(float("nan"), 0.6, 0.8) is None


def test_apgr_and_cpt_by_hand() -> None:
    # PGR 0, 0.75, 1 at shares 0, 0.5, 1 (q_weak 0.6, q_strong 0.8).
    curve = RouterCurve(share=np.array([0.0, 0.5, 1.0]), quality=np.array([0.6, 0.75, 0.8]))
    # Trapezoids: 0.5 * (0 + 0.75) / 2 + 0.5 * (0.75 + 1) / 2 = 0.1875 + 0.4375.
    assert apgr(curve, 0.6, 0.8) == pytest.approx(0.625)
    # PGR 0.5 is reached two thirds of the way to share 0.5; 0.8 a fifth of the way from 0.5 to 1.
    assert cpt(curve, 0.5, 0.6, 0.8) == pytest.approx(1 / 3)
    assert cpt(curve, 0.8, 0.6, 0.8) == pytest.approx(0.6)
    assert cpt(curve, 1.2, 0.6, 0.8) is None  # never reached
    assert cpt(curve, 0.0, 0.6, 0.8) == 0.0
    assert apgr(curve, 0.7, 0.7) is None
    assert cpt(curve, 0.5, 0.7, 0.7) is None
    # CPT is the *first* crossing, also when the curve dips later.
    dip = RouterCurve(share=np.array([0.0, 0.25, 0.5, 1.0]), quality=np.array([0.6, 0.8, 0.6, 0.8]))
    assert cpt(dip, 0.5, 0.6, 0.8) == pytest.approx(0.125)


def test_random_and_oracle_curves_by_hand() -> None:
    q_weak = np.array([0.0, 1.0, 0.0, 0.0])
    q_strong = np.array([1.0, 1.0, 0.0, 1.0])
    # Oracle: the two requests the strong model alone gets right first, then nothing left to gain.
    oracle = oracle_curve(q_weak, q_strong)
    np.testing.assert_allclose(oracle.share, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(oracle.quality, [0.25, 0.5, 0.75, 0.75, 0.75])
    # PGR 0, .5, 1, 1, 1: area .0625 + .1875 + .25 + .25.
    assert apgr(oracle, 0.25, 0.75) == pytest.approx(0.75)
    # Random: requests in the order of their draws.
    rand = random_curve(q_weak, q_strong, np.array([0.9, 0.1, 0.5, 0.3]))  # order 1, 3, 2, 0
    np.testing.assert_allclose(rand.quality, [0.25, 0.25, 0.5, 0.5, 0.75])
    # The oracle never takes a loss: the weak answer is kept where the strong one is worse.
    swap = oracle_curve(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(swap.quality, [0.5, 1.0, 1.0])
    np.testing.assert_allclose(
        ranked_curve(np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0, 1])).quality, [0.5, 0.0, 0.5]
    )


def test_hull_and_aiq_by_hand() -> None:
    costs = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 2.0])
    quality = np.array([0.2, 0.5, 0.55, 0.9, 0.6, 0.4])
    # (3, .55) is under the segment (2, .5)-(4, .9) (0.7 there); (5, .6) and the second cost-2 point are dominated.
    assert upper_hull(costs, quality).tolist() == [0, 1, 3]
    # Area over [1, 5]: [1,2] (.2+.5)/2 = .35, [2,4] (.5+.9)/2*2 = 1.4, [4,5] flat .9 -> 2.65 / 4.
    assert aiq(costs, quality) == pytest.approx(2.65 / 4)
    hc, hq = costs[[0, 1, 3]], quality[[0, 1, 3]]
    assert hull_quality_at(hc, hq, 3.0) == pytest.approx(0.7)  # a 50/50 random split of the cost-2 and cost-4 models
    assert hull_quality_at(hc, hq, 10.0) == pytest.approx(0.9)  # flat after the best model
    assert hull_quality_at(hc, hq, 0.5) is None  # cheaper than any model: nothing to compare with
    # The cheapest point starts the hull even when it is not the worst; the best point ends it.
    assert upper_hull(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.4, 0.6])).tolist() == [0, 2]
    assert aiq(np.array([1.0, 1.0]), np.array([0.3, 0.6])) == pytest.approx(0.6)  # one cost: the best there
    assert aiq(np.array([]), np.array([])) is None


def test_random_apgr_sd_matches_simulation(suites: dict[str, Suite]) -> None:
    """The analytic spread of a random router's APGR matches 200 seeds of the real traffic hash."""
    suite = suites["routellm-gsm8k"]
    outcomes = model_outcomes(suite, load_policy_at(POLICIES / "assistant.yaml").catalog)
    qs, qw = outcomes.quality[outcomes.models.index(STRONG)], outcomes.quality[outcomes.models.index(WEAK)]
    ids = suite.examples.column("id")
    values = np.array(
        [apgr(random_curve(qw, qs, traffic_draw(ids, seed)), qw.mean(), qs.mean()) for seed in range(200)]
    )
    sd = random_apgr_sd(qw, qs)
    assert sd is not None
    # The sample sd of 200 draws is within ~10% of the truth (2 standard errors); the mean within 3 of its own.
    assert values.std(ddof=1) == pytest.approx(sd, rel=0.2)
    assert abs(values.mean() - 0.5) < 3 * sd / np.sqrt(200)


# --- the real engine on the bundled suites ----------------------------------------------------------------


@pytest.mark.parametrize("name", ROUTELLM)
def test_random_router_apgr_is_one_half(single_strong_run: RunSummary, name: str) -> None:
    block = literature_of(single_strong_run)[name]
    assert block["kind"] == "two_model"
    assert (block["strong_model"], block["weak_model"]) == (STRONG, WEAK)
    assert block["weak_models"] == [WEAK, f"{WEAK}-selfhosted"]  # the twin is the same recordings
    rand, oracle = block["random"], block["oracle"]
    # E[APGR] = 0.5 exactly for a uniformly random order; 3 sigma from the permutation variance.
    assert abs(rand["apgr"] - 0.5) < 3 * rand["apgr_sd"]
    assert oracle["apgr"] > rand["apgr"] + 3 * rand["apgr_sd"]
    assert oracle["cpt50"] < oracle["cpt80"] < rand["cpt50"] < rand["cpt80"]
    # A random router needs about x% strong calls for PGR x.
    assert rand["cpt50"] == pytest.approx(0.5, abs=4 * rand["apgr_sd"] + 0.05)
    # The single strong-model policy: every request calls it, PGR 1.
    assert block["policy"]["strong_call_share"] == 1.0
    assert block["policy"]["pgr"] == pytest.approx(1.0)


@pytest.mark.parametrize(("name", "shares"), [("routellm-gsm8k", (0.1, 0.37, 0.8)), ("routellm-mtbench", (0.25, 0.6))])
def test_columnar_random_router_equals_the_engine(
    suites: dict[str, Suite], tmp_path: Path, name: str, shares: tuple[float, ...]
) -> None:
    """A policy with a traffic-split rule *is* the random router: the engine lands on the columnar curve."""
    suite = suites[name]
    shutil.copy(POLICIES / "models.yaml", tmp_path / "models.yaml")
    seed = 777
    draws = traffic_draw(suite.examples.column("id"), seed)
    outcomes = model_outcomes(suite, load_policy_at(POLICIES / "assistant.yaml").catalog)
    qs, qw = outcomes.quality[outcomes.models.index(STRONG)], outcomes.quality[outcomes.models.index(WEAK)]
    curve = random_curve(qw, qs, draws)
    for share in shares:
        path = tmp_path / f"split-{share}.yaml"
        path.write_text(
            "name: split\nversion: '1'\nowner: test\ncatalog: models.yaml\n"
            f"tiers:\n  strong: {{models: [{STRONG}]}}\n  weak: {{models: [{WEAK}]}}\n"
            f"rules:\n  - {{name: split, when: {{traffic: {{share: {share}, seed: {seed}}}}}, tier: strong}}\n"
            "default_tier: weak\n"
        )
        summary = run_policy(load_policy_at(path), [suite], RunOptions(seed=seed)).summary
        k = int(np.count_nonzero(draws < share))
        quality = summary.metrics["by_suite"][name]["quality"]["mean"]
        assert quality == pytest.approx(curve.quality[k], abs=1e-12)
        block = literature_of(summary)[name]
        assert block["policy"]["strong_call_share"] == pytest.approx(k / suite.examples.num_rows)
        # The policy sits exactly on the random router's curve (its seed is the run's seed here).
        assert block["policy"]["pgr"] == pytest.approx(block["policy"]["random_pgr_at_share"], abs=1e-12)
        assert block["policy"]["pgr"] <= block["policy"]["oracle_pgr_at_share"]


def test_baseline_policy_beats_random_at_its_share(suites: dict[str, Suite]) -> None:
    summary = run_policy(load_policy_at(POLICIES / "assistant.yaml"), [suites["routellm-mmlu"]], RunOptions()).summary
    policy = literature_of(summary)["routellm-mmlu"]["policy"]
    assert 0 < policy["strong_call_share"] < 1
    # Routing hard subjects to GPT-4 recovers more of the gap than a random split of the same size.
    assert policy["pgr"] > policy["random_pgr_at_share"]
    md = render_run_markdown(summary)
    assert "## Routing-literature metrics" in md
    assert "`routellm-mmlu`" in md.split("## Routing-literature")[1]
    assert "NaN" not in dumps_json(summary.to_json())


def test_q_strong_and_weak_equal_single_model_runs(suites: dict[str, Suite], single_strong_run: RunSummary) -> None:
    weak = run_policy(load_policy_at(POLICIES / "single" / f"{WEAK}.yaml"), [suites[n] for n in ROUTELLM]).summary
    for name in ROUTELLM:
        block = literature_of(single_strong_run)[name]
        assert block["q_strong"] == pytest.approx(
            single_strong_run.metrics["by_suite"][name]["quality"]["mean"], abs=1e-12
        )
        assert block["q_weak"] == pytest.approx(weak.metrics["by_suite"][name]["quality"]["mean"], abs=1e-12)
        assert literature_of(weak)[name]["policy"]["pgr"] == pytest.approx(0.0, abs=1e-12)
        assert literature_of(weak)[name]["policy"]["strong_call_share"] == 0.0


@pytest.mark.parametrize(
    ("policy", "names"),
    [("assistant.yaml", ROUTELLM), ("support.yaml", ("alpacaeval",))],
    ids=["two-model", "multi-model"],
)
def test_literature_from_the_summary_is_literature_from_the_traces(
    suites: dict[str, Suite], policy: str, names: tuple[str, ...]
) -> None:
    """A run's place in the literature blocks, read from its summary per suite (what a run does), is
    exactly what the traces give, float for float, over several suites (rows gathered per suite)."""
    result = run_policy(load_policy_at(POLICIES / policy), [suites[n] for n in names], RunOptions())
    runs = [(r.suite, r.traces) for r in result.runs]
    by_suite = result.summary.metrics["by_suite"]
    catalog = result.policy.catalog
    assert result.summary.literature == literature(runs, catalog, seed=RunOptions().seed)
    for run in result.runs:
        assert RunTotals.measured(by_suite[run.suite.name]) == RunTotals.of(run.traces)
    unscored = run.traces.set_column(
        run.traces.column_names.index("quality"), "quality", pa.nulls(run.traces.num_rows, pa.float64())
    )
    assert RunTotals.of(unscored).quality is None
    assert RunTotals.measured(
        {"n": 0, "quality": {"mean": float("nan")}, "cost_per_1k_usd": float("nan")}
    ) == RunTotals(None, None)


def test_no_gap_gives_none_not_nan(suites: dict[str, Suite]) -> None:
    """Equal mean quality (GPT-4 given Mixtral's labels, shifted by one request): no gap, so no PGR, APGR or CPT."""
    suite = suites["routellm-gsm8k"]
    rows = recording_index(suite.examples, suite.recordings, (STRONG, WEAK))
    quality = suite.recordings.column("quality").to_numpy().copy()
    quality[rows[:, 0]] = np.roll(quality[rows[:, 1]], 1)
    rec = suite.recordings.set_column(suite.recordings.column_names.index("quality"), "quality", pa.array(quality))
    summary = run_policy(load_policy_at(POLICIES / "single" / f"{WEAK}.yaml"), [replace(suite, recordings=rec)]).summary
    block = literature_of(summary)["routellm-gsm8k"]
    assert block["kind"] == "two_model"
    assert block["q_strong"] == block["q_weak"]
    assert block["policy"]["pgr"] is None
    assert block["random"]["apgr"] is None
    assert block["oracle"]["cpt50"] is None
    assert "NaN" not in dumps_json(summary.to_json())
    # One answer set only (hosted and self-hosted Mixtral are the same recordings): no literature metric.
    keep = pc.is_in(suite.recordings.column("model"), pa.array([WEAK, f"{WEAK}-selfhosted"]))
    one = run_policy(
        load_policy_at(POLICIES / "single" / f"{WEAK}.yaml"), [replace(suite, recordings=suite.recordings.filter(keep))]
    )
    assert literature_of(one.summary)["routellm-gsm8k"]["kind"] == "none"
    assert "Routing-literature" not in render_run_markdown(one.summary)


# --- published numbers ----------------------------------------------------------------------------------

PUBLISHED = {  # RouteLLM's accuracy on the decontaminated sets (docs/bundled-suites.md)
    ("routellm-mmlu", STRONG): 80.587,
    ("routellm-mmlu", WEAK): 68.092,
    ("routellm-gsm8k", STRONG): 85.769,
    ("routellm-gsm8k", WEAK): 63.734,
}


@pytest.mark.parametrize("model", [STRONG, WEAK])
def test_single_model_cli_runs_reproduce_published_accuracy(tmp_path: Path, model: str) -> None:
    out = tmp_path / "out"
    result = routegate(
        "run",
        "--policy",
        str(POLICIES / "single" / f"{model}.yaml"),
        "--suite",
        str(SUITES / "routellm-mmlu"),
        "--suite",
        str(SUITES / "routellm-gsm8k"),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    for suite in ("routellm-mmlu", "routellm-gsm8k"):
        measured = 100 * summary["metrics"]["by_suite"][suite]["quality"]["mean"]
        # The figures are given to 3 decimals after rounding from 0.680915 etc. (68.09147% -> 68.0915 -> 68.092):
        # one unit of the last digit. The exact fraction is a whole number of correct answers out of n.
        assert measured == pytest.approx(PUBLISHED[suite, model], abs=0.001)
        n = summary["metrics"]["by_suite"][suite]["n"]
        assert measured / 100 * n == pytest.approx(round(measured / 100 * n), abs=1e-6)
        block = summary["literature"][suite]
        assert 100 * block["q_strong" if model == STRONG else "q_weak"] == pytest.approx(measured, abs=1e-9)
    assert "Routing-literature metrics" in (out / "summary.md").read_text()


def _leaderboard() -> dict[str, dict[str, str]]:
    with LEADERBOARD.open(newline="") as f:
        return {row[""]: row for row in csv.DictReader(f)}


@pytest.mark.skipif(
    not LEADERBOARD.exists() and not os.environ.get("CI"), reason="needs ../shared/data/alpaca_eval/leaderboard.csv"
)
@pytest.mark.parametrize(("generator", "model"), sorted(LINEUP.items()))
def test_alpacaeval_single_model_runs_match_leaderboard(tmp_path: Path, generator: str, model: str) -> None:
    out = tmp_path / "out"
    result = routegate(
        "run",
        "--policy",
        str(POLICIES / "single" / f"{model}.yaml"),
        "--suite",
        str(SUITES / "alpacaeval"),
        "--out",
        str(out),
        "--on-missing",
        "skip",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    row = _leaderboard()[generator]
    n_total = int(row["n_total"])
    overall = summary["metrics"]["overall"]
    # A model without a recording for some instructions (phi-2: 803, gpt-3.5-turbo-instruct: 804) fails those
    # requests under --on-missing skip, and a failed request scores 0: the leaderboard's mean over n_total
    # becomes a mean over 805 with n_total / 805 of the weight. summary.json rounds to 12 significant digits
    # and both sides average the same preferences, so 1e-9 leaves room only for rounding.
    assert overall["n"] == 805
    assert summary["skipped_calls"] == 805 - n_total
    assert overall["quality"]["mean"] == pytest.approx(float(row["win_rate"]) / 100 * n_total / 805, abs=1e-9)
    block = summary["literature"]["alpacaeval"]
    assert block["kind"] == "multi_model"
    points = {p["model"]: p for p in block["points"]}
    if n_total == 805:
        # The hull's points are this same arithmetic, done columnar: they equal the engine's single-model run.
        assert points[model]["quality"] == pytest.approx(overall["quality"]["mean"], abs=1e-9)
        assert points[model]["cost_per_1k_usd"] == pytest.approx(overall["cost_per_1k_usd"], rel=1e-9)
    else:
        assert model not in points  # not every request recorded: not a point of the hull


def test_alpacaeval_hull_and_policies(suites: dict[str, Suite]) -> None:
    suite = suites["alpacaeval"]
    results = {
        side: literature_of(run_policy(load_policy_at(path), [suite]).summary)["alpacaeval"]
        for side, path in (
            ("baseline", POLICIES / "support.yaml"),
            ("candidate", changed_policy("support-brainstorming-to-fast")),
        )
    }
    block = results["baseline"]
    costs = np.array([p["cost_per_1k_usd"] for p in block["points"]])
    quality = np.array([p["quality"] for p in block["points"]])
    hull = [p for p in block["points"] if p["on_hull"]]
    hc = np.array([p["cost_per_1k_usd"] for p in sorted(hull, key=lambda p: p["cost_per_1k_usd"])])
    hq = np.array([p["quality"] for p in sorted(hull, key=lambda p: p["cost_per_1k_usd"])])
    assert block["hull"] == [p["model"] for p in sorted(hull, key=lambda p: p["cost_per_1k_usd"])]
    assert np.all(np.diff(hq) > 0)
    assert np.all(np.diff(hc) > 0)
    # Every single model is on or under the hull, and the hull is the cheapest and the best model's.
    for c, q in zip(costs, quality, strict=True):
        at = hull_quality_at(hc, hq, c)
        assert at is not None
        assert q <= at + 1e-12
    assert hc[0] == costs.min()
    assert hq[-1] == quality.max()
    assert min(hq) <= block["aiq"] <= max(hq)
    for side, b in results.items():
        p = b["policy"]
        assert p["gap_to_hull"] == pytest.approx(p["quality"] - hull_quality_at(hc, hq, p["cost_per_1k_usd"]))
        # Adding a point never lowers the hull.
        assert p["aiq_with_policy"] >= b["aiq"] - 1e-12, side


# --- the numeric scorer against RouteLLM's GSM8K labels ---------------------------------------------------


def _routellm_grader(response: str, reference: str) -> bool:
    """What RouteLLM's recorded correctness behaves like: the last run of digits, compared as text."""
    found = re.findall(r"\d+", response.replace(",", ""))
    return bool(found) and found[-1] == reference.replace(",", "")


@pytest.fixture(scope="module")
def numeric_gsm8k(tmp_path_factory: pytest.TempPathFactory) -> Suite:
    folder = tmp_path_factory.mktemp("gsm8k-numeric") / "routellm-gsm8k"
    shutil.copytree(SUITES / "routellm-gsm8k", folder)
    text = (folder / "suite.yaml").read_text()
    assert "scoring:\n  scorer: judge\n" in text
    (folder / "suite.yaml").write_text(text.replace("scoring:\n  scorer: judge\n", "scoring:\n  scorer: numeric\n"))
    suite = load_suite(folder)
    assert suite.manifest.scoring.scorer == "numeric"
    return suite


@pytest.mark.parametrize(("model", "floor"), [(STRONG, 0.96), (WEAK, 0.99)])
def test_numeric_scorer_agrees_with_routellm_labels(
    suites: dict[str, Suite], numeric_gsm8k: Suite, model: str, floor: float
) -> None:
    """Same suite, same recordings, scorer `numeric` vs `judge` (RouteLLM's labels), through the engine."""
    policy = load_policy_at(POLICIES / "single" / f"{model}.yaml")
    judged = run_policy(policy, [suites["routellm-gsm8k"]])
    graded = run_policy(policy, [numeric_gsm8k])
    labels = judged.traces.column("quality").to_numpy()
    numeric = graded.traces.column("quality").to_numpy()
    assert not np.isnan(numeric).any()
    agree = numeric == labels
    # docs/metrics.md: GPT-4 1,265 / 1,307 (96.79%), Mixtral 1,296 / 1,307 (99.16%).
    assert agree.mean() >= floor
    # Every disagreement is the recorded grader reading the last run of digits as text.
    ids = judged.traces.column("example_id").to_pylist()
    suite = judged.runs[0].suite
    finals = judged.runs[0].replay.final_responses(partial(suite.take, "recordings", "response")).to_pylist()
    refs = suites["routellm-gsm8k"].examples.column("reference").to_pylist()
    for r in np.flatnonzero(~agree):
        assert _routellm_grader(finals[r], refs[r]) == bool(labels[r]), ids[r]
    # The literature block follows the suite's scorer: its q_strong / q_weak are the numeric accuracies.
    block = literature_of(graded.summary)["routellm-gsm8k"]
    side = "q_strong" if model == STRONG else "q_weak"
    assert block[side] == pytest.approx(float(numeric.mean()), abs=1e-12)


def test_verdict_json_carries_both_literature_blocks(suites: dict[str, Suite]) -> None:
    gates = GatesSpec()
    outcome = gate_policies(
        load_policy_at(POLICIES / "assistant.yaml"),
        load_policy_at(changed_policy("assistant-skip-cascade")),
        [suites["routellm-gsm8k"]],
        gates,
    )
    verdict = verdict_json(outcome, gates)
    for side in ("baseline", "candidate"):
        block = verdict["literature"][side]["routellm-gsm8k"]
        assert block == literature_of(getattr(outcome, side).summary)["routellm-gsm8k"]
        assert block["kind"] == "two_model"
    assert "NaN" not in dumps_json(verdict)


def test_answer_groups_join_only_identical_quality() -> None:
    """A copy (NaN where the original is NaN, -0.0 for 0.0) joins its original; arrays with the same NaN
    count and sum but other values, or the same values in another order, stay apart."""
    base = np.array([1.0, 0.0, np.nan, 0.5, 0.25])
    rows = [
        base,
        np.array([1.0, -0.0, np.nan, 0.5, 0.25]),  # a copy
        np.array([0.5, 0.0, np.nan, 1.0, 0.25]),  # same count and sum, other order
        np.array([1.0, 0.0, 0.0, 0.5, 0.25]),  # a NaN scored
        np.array([1.0, 0.0, np.nan, 0.5, 0.25]),  # a copy again
    ]
    quality = np.vstack(rows)
    outcomes = ModelOutcomes(tuple(f"m{i}" for i in range(len(rows))), quality, np.zeros_like(quality), list(quality))
    assert answer_groups(outcomes) == [[0, 1, 4], [2], [3]]
