"""Three-way gate outcomes (passed, failed, inconclusive), multiplicity in the right direction,
single-valued slices, clusters: on the bundled suites, with the default gates unless a test says."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import changed_policy, random_router, run_cli
from routegate import gate_policies, load_gates, load_policy, load_suite, render_html, verdict_json
from routegate.gates.spec import GatesSpec
from routegate.load.policy import Policy
from routegate.stats.clustered import clustered_mean_delta
from routegate.stats.intervals import paired_mean_delta
from routegate.stats.multiplicity import benjamini_hochberg, holm
from routegate.stats.notable import TEXT_LIMIT, truncate_text

ROOT = Path(__file__).resolve().parent.parent
ASSISTANT = ROOT / "policies" / "assistant.yaml"


def router(folder: Path, share: float, seed: int) -> Policy:
    return load_policy(str(random_router(folder, share, seed)))


def test_an_equal_change_on_a_small_suite_is_inconclusive_not_failed_and_says_what_would_resolve_it(
    tmp_path: Path,
) -> None:
    """GSM8K (1,307 requests) cannot resolve a 1-point margin for a 50/50 router: inconclusive, and
    the reason names the requests that would; the verdict still passes."""
    suite = load_suite(ROOT / "eval_suites" / "routellm-gsm8k")
    gates, source = load_gates(None)
    outcome = gate_policies(
        router(tmp_path, 0.5, 1000), router(tmp_path, 0.5, 5000), [suite], gates, gates_source=source
    )
    quality = next(g for g in outcome.verdict.gates if g.name == "quality")
    assert quality.status == "inconclusive", quality.reason
    assert quality.passed
    assert quality.inconclusive
    assert outcome.verdict.passed
    assert quality in outcome.verdict.inconclusive
    assert quality.details is not None
    needed = quality.details["n_needed"]
    assert isinstance(needed, int)
    assert needed > suite.examples.num_rows
    assert f"about {needed:,} scored requests would resolve 1.00 pt" in quality.reason
    assert quality.to_json()["status"] == "inconclusive"


def test_strict_gates_fail_an_inconclusive_gate(tmp_path: Path) -> None:
    (tmp_path / "strict.yaml").write_text("on_inconclusive: fail\n")
    a, b = router(tmp_path, 0.5, 1000), router(tmp_path, 0.5, 5000)
    done = run_cli(
        "gate",
        "--baseline",
        a.source,
        "--candidate",
        b.source,
        "--suite",
        str(ROOT / "eval_suites" / "routellm-gsm8k"),
        "--gates",
        str(tmp_path / "strict.yaml"),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.code == 1, done.stdout + done.stderr
    assert "failed: quality: inconclusive:" in done.stdout
    assert "(on_inconclusive: fail)" in done.stdout


def test_the_cli_prints_inconclusive_gates_beside_a_passing_verdict(tmp_path: Path) -> None:
    a, b = router(tmp_path, 0.5, 1000), router(tmp_path, 0.5, 5000)
    suite = str(ROOT / "eval_suites" / "routellm-gsm8k")
    done = run_cli("gate", "--baseline", a.source, "--candidate", b.source, "--suite", suite, "--out", str(tmp_path))
    assert done.code == 0, done.stdout + done.stderr
    assert "  inconclusive: quality: quality " in done.stdout
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("routegate gate PASSED: 0 of ")
    assert " inconclusive; report: " in last
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## routegate: ✅ PASSED, ")
    assert " inconclusive\n" in summary.splitlines()[0] + "\n"
    assert "| ❔ | `quality` |" in summary
    # Each heading names the pair; passing and not-gated rows are collapsed under the answer.
    assert "### Key deltas: `random-5000` 1 vs `random-1000` 1 (candidate − baseline)" in summary
    assert "### Gates: `random-5000` 1 vs `random-1000` 1" in summary
    passed = summary.index("gate(s) passed</summary>")
    assert summary.index("| ❔ | `quality` |") < passed < summary.index("| ✅ | `privacy` |")


def test_a_real_regression_fails_and_an_identical_policy_passes() -> None:
    suites = [load_suite(ROOT / "eval_suites" / n) for n in ("routellm-mmlu", "routellm-gsm8k")]
    gates = GatesSpec()
    base = load_policy(str(ASSISTANT))
    worse = gate_policies(base, load_policy(str(changed_policy("assistant-cheaper-math"))), suites, gates)
    quality = next(g for g in worse.verdict.gates if g.name == "quality")
    assert quality.status == "failed"
    assert "a significant drop (p<0.001)" in quality.reason  # plain words; the exact p is in details
    assert quality.details is not None
    assert quality.details["p_regression"] < 1e-6
    same = gate_policies(base, base, suites, gates)
    assert all(g.status in ("passed", "not gated") for g in same.verdict.gates), [
        (g.name, g.status) for g in same.verdict.gates
    ]


def test_single_valued_slices_are_not_gated_and_slices_are_not_adjusted_for_non_inferiority() -> None:
    suites = [load_suite(ROOT / "eval_suites" / "routellm-mmlu")]
    outcome = gate_policies(
        load_policy(str(ASSISTANT)), load_policy(str(changed_policy("assistant-skip-cascade"))), suites, GatesSpec()
    )
    by_name = {g.name: g for g in outcome.verdict.gates}
    pii = by_name["quality[pii=false]"]  # MMLU has no PII: every request has pii=False
    assert pii.skipped
    assert "every scored request has pii=false" in pii.reason
    gated = [g for g in outcome.verdict.gates if g.name.startswith("quality[") and not g.skipped]
    assert gated
    deltas = outcome.comparison.deltas["by_slice"]
    for g in gated:
        column, value = g.name[len("quality[") : -1].split("=", 1)
        block = deltas[column][value]["quality"]
        assert g.details is not None
        p = g.details["p_value"]
        # The non-inferiority p-value is the slice's own: every slice must pass on its own (no Holm).
        expected = 0.5 * math.erfc((block["delta"] + 0.03) / block["se"] / math.sqrt(2)) if block["se"] else p
        assert p == pytest.approx(expected, rel=1e-9, abs=1e-300)
        assert "adjusted over" in g.reason or g.status == "passed"


def test_benjamini_hochberg_is_selectable_and_named_in_the_reasons() -> None:
    suites = [load_suite(ROOT / "eval_suites" / n) for n in ("routellm-mmlu", "routellm-gsm8k")]
    gates = GatesSpec.model_validate({"quality": {"slices": {"multiplicity": "bh"}}})
    outcome = gate_policies(
        load_policy(str(ASSISTANT)), load_policy(str(changed_policy("assistant-cheaper-math"))), suites, gates
    )
    failing = [g for g in outcome.verdict.failed if g.name.startswith("quality[")]
    assert failing
    assert all("Benjamini-Hochberg-adjusted over" in g.reason for g in failing)


def test_a_cost_increase_beyond_the_allowance_fails_only_when_shown() -> None:
    suites = [load_suite(ROOT / "eval_suites" / "routellm-mmlu")]
    outcome = gate_policies(
        load_policy(str(ASSISTANT)), load_policy(str(changed_policy("assistant-gpt4-canary"))), suites, GatesSpec()
    )
    cost = next(g for g in outcome.verdict.gates if g.name == "cost")
    assert cost.status == "failed"
    assert "a significant increase" in cost.reason
    assert cost.details is not None
    assert cost.details["ci95_pct"][0] > 10


def test_multiplicity_adjustments_match_hand_computed_values() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([]) == []
    assert benjamini_hochberg([]) == []


def test_clustered_intervals_widen_for_duplicated_requests_and_match_the_independent_ones_otherwise() -> None:
    rng = np.random.default_rng(3)
    n = 3000  # the sandwich estimator (beyond the bootstrap's range)
    b = rng.random(n)
    c = b + rng.normal(0, 0.3, n)
    alone = paired_mean_delta(b, c)
    singletons = clustered_mean_delta(b, c, np.arange(n))
    assert singletons.se == pytest.approx(alone.se, rel=0.01)
    twice = clustered_mean_delta(np.repeat(b, 2), np.repeat(c, 2), np.repeat(np.arange(n), 2))
    assert twice.clusters == n
    assert twice.se_independent is not None
    assert twice.se / twice.se_independent == pytest.approx(math.sqrt(2), rel=0.02)  # pairs of copies
    small = clustered_mean_delta(np.repeat(b[:400], 2), np.repeat(c[:400], 2), np.repeat(np.arange(400), 2))
    assert small.method == "cluster bootstrap"
    assert small.se_independent is not None
    assert small.se / small.se_independent == pytest.approx(math.sqrt(2), rel=0.1)


def test_mtbench_is_clustered_by_question_and_the_gate_says_how_much_it_widened() -> None:
    suite = load_suite(ROOT / "eval_suites" / "routellm-mtbench")
    assert suite.manifest.cluster == "question_id"
    outcome = gate_policies(
        load_policy(str(ASSISTANT)), load_policy(str(changed_policy("assistant-cheaper-math"))), [suite], GatesSpec()
    )
    q = outcome.comparison.deltas["overall"]["quality"]
    assert q["clusters"] == 80
    quality = next(g for g in outcome.verdict.gates if g.name == "quality")
    assert "over 80 clusters of related requests" in quality.reason
    assert quality.details is not None
    assert quality.details["widening"] == pytest.approx(q["se"] / q["se_independent"])


def test_a_long_prompt_keeps_its_head_and_its_tail() -> None:
    """A listed example's prompt past the limit keeps the end, where a long prompt asks its question."""
    text = "context " * 1000 + "QUESTION: what is the total?"
    cut = truncate_text(text)
    assert cut is not None
    assert len(cut) <= TEXT_LIMIT
    assert cut.startswith("context context")
    assert cut.endswith("QUESTION: what is the total?")
    left_out = len(text) - (len(cut) - len(cut[cut.index(" … [") : cut.index("] … ") + 4]))
    assert f"… [{left_out:,} characters left out] …" in cut
    assert truncate_text("short") == "short"


def test_an_unknown_slice_column_in_a_gates_file_is_bad_input_at_its_position(tmp_path: Path) -> None:
    """Every unknown column, at its line and column in the gates file, before any replay or report."""
    gates = tmp_path / "gates.yaml"
    gates.write_text("quality:\n  slices:\n    columns: [task_type, taks_type, nope]\n")
    done = run_cli(
        "gate",
        "--baseline",
        str(ASSISTANT),
        "--candidate",
        str(ASSISTANT),
        "--suite",
        str(ROOT / "eval_suites" / "routellm-mtbench"),
        "--gates",
        str(gates),
        "--out",
        str(tmp_path / "out"),
    )
    assert done.code == 2
    lines = done.stderr.splitlines()
    assert lines[0].startswith(
        f"{gates}:3:26: quality.slices.columns[1]: slice column 'taks_type' is not in the suites"
    )
    assert lines[1].startswith(f"{gates}:3:37: quality.slices.columns[2]: slice column 'nope' is not in the suites")
    assert not (tmp_path / "out").exists()


def test_escalation_without_confidences_is_warned_about_on_the_cli(tmp_path: Path) -> None:
    """The assistant escalates the fast tier below confidence 0.5; MT-Bench records no confidence."""
    suite = str(ROOT / "eval_suites" / "routellm-mtbench")
    done = run_cli("run", "--policy", str(ASSISTANT), "--suite", suite, "--out", str(tmp_path / "run"))
    assert done.code == 0, done.stderr
    count = json.loads((tmp_path / "run" / "summary.json").read_text())["metrics"]["overall"]["confidence_missing"]
    assert count > 0
    missing = [line for line in done.stderr.splitlines() if line.startswith("warning: assistant: ")]
    assert missing == [
        f"warning: assistant: {count:,} request(s) reached an escalation threshold (escalation.steps) with no "
        "confidence recorded or scored, so they did not escalate (docs/engine.md)"
    ]
    single = str(ROOT / "policies" / "single" / "gpt-4-1106-preview.yaml")
    quiet = run_cli("run", "--policy", single, "--suite", suite, "--out", str(tmp_path / "single"))
    assert quiet.code == 0, quiet.stderr
    assert "warning:" not in quiet.stderr


def test_listed_regressions_spread_over_task_types_and_say_why_an_answer_is_missing() -> None:
    """MMLU's drops are all -1 (binary quality) and its ids sort by subject: the list must not be ten
    abstract-algebra questions, and MMLU's missing answer texts are named as such, with the reference."""
    suites = [load_suite(ROOT / "eval_suites" / n) for n in ("routellm-mmlu", "routellm-gsm8k")]
    gates = GatesSpec()
    worse = gate_policies(
        load_policy(str(ASSISTANT)), load_policy(str(changed_policy("assistant-cheaper-math"))), suites, gates
    )
    listed = worse.comparison.examples
    assert listed is not None
    regressions = listed["regressions"]
    assert len(regressions) == 10
    subjects = {r["example_id"].rsplit("-", 1)[0] for r in regressions}
    assert len(subjects) > 1, subjects
    assert all(r["reference"] is not None for r in regressions if r["suite"] == "routellm-gsm8k")
    html = render_html(verdict_json(worse, gates), gates=worse.verdict.gates)
    if any(r["suite"] == "routellm-mmlu" for r in regressions):
        assert "(answer text not recorded in this suite)" in html
    assert "(no response)" not in html
    assert "<h4>Reference answer</h4>" in html


def test_a_model_swap_within_a_tier_shows_in_the_model_shift_not_the_tier_shift() -> None:
    """support-gpt35-first swaps the fast tier's two models: every request stays on its tier."""
    suite = load_suite(ROOT / "eval_suites" / "alpacaeval")
    gates = GatesSpec()
    outcome = gate_policies(
        load_policy(str(ROOT / "policies" / "support.yaml")),
        load_policy(str(changed_policy("support-gpt35-first"))),
        [suite],
        gates,
    )
    tiers = outcome.comparison.tier_shift
    moved_tiers = sum(v for i, row in enumerate(tiers["counts"]) for j, v in enumerate(row) if i != j)
    models = outcome.comparison.model_shift
    at = {name: i for i, name in enumerate(models["models"])}
    swapped = models["counts"][at["claude-instant-1.2"]][at["gpt-3.5-turbo-1106"]]
    assert swapped > 100
    assert moved_tiers < swapped  # the tier matrix alone hides most of the move
    assert sum(map(sum, models["counts"])) == suite.examples.num_rows
    html = render_html(verdict_json(outcome, gates), gates=outcome.verdict.gates)
    assert "<h3>Model shift</h3>" in html
