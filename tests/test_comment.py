"""The sticky PR comment of ``routegate check`` (``project.comment.render_comment``) on real gates.

Two real gates over eval_suites/routellm-mtbench (the bundled baseline against a policy that fails
the quality gate, and against the bundled candidate, which passes) give the outcomes and each
policy's summary.md; the check plan around them is built by hand.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import changed_policy
from routegate.gates.outcome import GateOutcome
from routegate.gates.spec import GatesSpec
from routegate.load.policy import load_policy
from routegate.load.suite import load_suite
from routegate.pipeline import gate_policies
from routegate.project.changes import Change, ChangeSet
from routegate.project.check import CheckPlan, Gating, Note
from routegate.project.comment import MARKER, SKIPPED_ROW, render_comment
from routegate.project.config import Gated
from routegate.project.run import Checked
from routegate.report.gate_markdown import render_gate_markdown
from routegate.report.verdict import verdict_json

ROOT = Path(__file__).resolve().parent.parent
SUITE = "eval_suites/routellm-mtbench"
ENTRY = Gated("policies/*.yaml", (SUITE,), None, (), "error", None, "routegate.yaml:4:5")
URL = "https://github.com/acme/routing/actions/runs/42"
SEPARATOR = re.compile(r"^\|(---\|)+$")


@pytest.fixture(scope="module")
def outcomes() -> dict[str, GateOutcome]:
    """``failing`` and ``passing``: the production assistant against two of its example changes."""
    suite = load_suite(ROOT / SUITE)
    baseline = load_policy(str(ROOT / "policies" / "assistant.yaml"))
    return {
        kind: gate_policies(baseline, load_policy(str(changed_policy(change))), [suite], GatesSpec())
        for kind, change in (("failing", "assistant-cheaper-math"), ("passing", "assistant-skip-cascade"))
    }


def summary_of(outcome: GateOutcome) -> str:
    """The policy's summary.md, as ``routegate gate`` writes it."""
    return render_gate_markdown(verdict_json(outcome, GatesSpec()))


def checked_as(policy: str, outcome: GateOutcome, why: str = "policy edited") -> Checked:
    gating = Gating(policy, why, f"git:{'a' * 40}:{policy}", policy, ENTRY)
    return Checked(gating, outcome, policy.removesuffix(".yaml").replace("/", "__"))


def plan_of(checked: Sequence[Checked], notes: Sequence[Note] = ()) -> CheckPlan:
    changes = tuple(Change("modified", c.gating.policy) for c in checked)
    changeset = ChangeSet(repo=Path("."), base_ref="main", merge_base="a" * 40, head="b" * 40, changes=changes)
    return CheckPlan(changeset, tuple(c.gating for c in checked), tuple(notes))


def with_reason(outcome: GateOutcome, reason: str) -> GateOutcome:
    """``outcome`` with every failed gate's reason replaced by ``reason``."""
    gates = tuple(g if g.passed else dataclasses.replace(g, reason=reason) for g in outcome.verdict.gates)
    return dataclasses.replace(outcome, verdict=dataclasses.replace(outcome.verdict, gates=gates))


def with_failed_gates(outcome: GateOutcome, n: int) -> GateOutcome:
    """``outcome`` with ``n`` failing gates (copies of its failing quality gate under other names)."""
    failed = outcome.verdict.failed[0]
    extra = tuple(dataclasses.replace(failed, name=f"quality[slice={i:03d}]") for i in range(n - 1))
    verdict = dataclasses.replace(outcome.verdict, gates=(*outcome.verdict.gates, *extra))
    return dataclasses.replace(outcome, verdict=verdict)


@pytest.fixture(scope="module")
def two(outcomes: dict[str, GateOutcome]) -> tuple[CheckPlan, list[Checked], dict[str, str]]:
    """A check of two policies, the passing one first in the plan; one deleted policy reported."""
    checked = [
        checked_as("policies/assistant.yaml", outcomes["passing"]),
        checked_as("policies/support.yaml", outcomes["failing"]),
    ]
    sections = {c.gating.policy: summary_of(c.outcome) for c in checked}
    return plan_of(checked, [Note("policies/old.yaml", "deleted")]), checked, sections


def pipe_count(line: str) -> int:
    """The ``|`` that delimit cells: not escaped by a backslash (an escaped backslash does not count)."""
    return sum(token == "|" for token in re.findall(r"\\.|\|", line))


def assert_well_formed(text: str, limit: int) -> None:
    """Within ``limit``; the marker first; valid UTF-8; ``<details>`` balanced and nested; every table whole."""
    assert len(text) <= limit
    assert text.encode("utf-8").decode("utf-8") == text  # strict: no lone surrogates
    assert "\ufffd" not in text
    lines = text.split("\n")
    assert lines[0] == MARKER
    depth = 0
    for line in lines:
        depth += line.count("<details>") - line.count("</details>")
        assert depth >= 0
    assert depth == 0
    assert text.count("<details>") == text.count("</details>")
    previous = ""
    cells = 0
    for index, line in enumerate(lines):
        if line.startswith("|"):
            assert line.endswith("|"), line
            if not previous.startswith("|"):  # a table's header: the separator follows, same width
                cells = pipe_count(line)
                assert SEPARATOR.match(lines[index + 1]), lines[index + 1]
                assert pipe_count(lines[index + 1]) == cells
            assert pipe_count(line) == cells, line
        previous = line


def details_of(text: str) -> list[str]:
    """The ``<summary>`` of every top-level ``<details>`` block (one per gated policy), in order."""
    out = []
    depth = 0
    for line in text.split("\n"):
        opened = re.fullmatch(r"<details><summary>([^<]*)</summary>", line)
        if opened and depth == 0:
            out.append(opened.group(1))
        depth += line.count("<details>") - line.count("</details>")
    return out


def test_under_the_limit_everything_is_there_failing_policies_first(
    two: tuple[CheckPlan, list[Checked], dict[str, str]],
) -> None:
    plan, checked, sections = two
    text = render_comment(plan, checked, sections, artifact_url=URL)
    assert_well_formed(text, 65_536)
    lines = text.split("\n")
    unsure = sum(len(c.outcome.verdict.inconclusive) for c in checked)
    assert unsure  # the passing change leaves a gate the 160 MT-Bench requests cannot decide
    assert lines[1] == f"## routegate check: ❌ FAILED, {unsure} gate{'s' if unsure > 1 else ''} inconclusive"
    assert any(
        line.startswith("Against `main@aaaaaaa` (2 changed files): 2 policies gated, 1 failed. ") for line in lines
    )
    table = [line for line in lines if line.startswith("| `policies/")]
    assert table == [
        "| `policies/support.yaml` | policy edited | **FAILED** | 1 of 29 |",
        "| `policies/assistant.yaml` | policy edited | passed, 1 inconclusive | 0 of 29 |",
    ]
    reason = checked[1].outcome.verdict.failed[0].reason
    assert f"- `policies/support.yaml`: `quality`: {reason}" in lines
    assert "- `policies/old.yaml`: deleted" in lines
    assert f"Full reports: <{URL}>" in lines
    assert details_of(text) == ["policies/support.yaml (FAILED)", "policies/assistant.yaml (passed)"]
    for section in sections.values():  # each summary.md whole, not-gated rows included
        assert section.strip("\n") in text
    assert "left out" not in text


def test_the_same_inputs_give_the_same_text(two: tuple[CheckPlan, list[Checked], dict[str, str]]) -> None:
    plan, checked, sections = two
    first = render_comment(plan, checked, sections, artifact_url=URL, limit=9_000)
    again = render_comment(plan, list(checked), dict(reversed(sections.items())), artifact_url=URL, limit=9_000)
    assert first.encode("utf-8") == again.encode("utf-8")
    assert first.split("\n")[0] == MARKER


def test_passing_details_are_left_out_first(two: tuple[CheckPlan, list[Checked], dict[str, str]]) -> None:
    plan, checked, sections = two
    whole = render_comment(plan, checked, sections)
    text = render_comment(plan, checked, sections, limit=len(whole) - 1)
    assert_well_formed(text, len(whole) - 1)
    assert details_of(text) == ["policies/support.yaml (FAILED)"]
    assert sections["policies/support.yaml"].strip("\n") in text  # the failing one still whole
    assert "1 passing policy's details left out: see the reports" in text.split("\n")


def test_then_the_rows_of_gates_not_gated_inside_the_failing_details(
    two: tuple[CheckPlan, list[Checked], dict[str, str]],
) -> None:
    plan, checked, sections = two
    whole = render_comment(plan, checked, sections)
    without_passing = render_comment(plan, checked, sections, limit=len(whole) - 1)
    limit = len(without_passing) - 1
    text = render_comment(plan, checked, sections, limit=limit)
    assert_well_formed(text, limit)
    assert details_of(text) == ["policies/support.yaml (FAILED)"]
    section = sections["policies/support.yaml"].split("\n")
    skipped = [line for line in section if line.startswith(SKIPPED_ROW)]
    assert len(skipped) == 23  # the slices of a 160-request suite are below min_n: reported, not gated
    assert SKIPPED_ROW not in text
    kept = [line for line in section if not line.startswith(SKIPPED_ROW)]
    assert set(kept) <= set(text.split("\n"))  # everything else of the failing summary.md is there
    assert "23 gates reported but not gated left out: see verdict.json" in text.split("\n")


@pytest.mark.parametrize("limit", [3_000, 1_200])
def test_at_a_small_limit_only_whole_parts_are_left_out(
    two: tuple[CheckPlan, list[Checked], dict[str, str]], limit: int
) -> None:
    plan, checked, sections = two
    text = render_comment(plan, checked, sections, artifact_url=URL, limit=limit)
    assert_well_formed(text, limit)
    assert details_of(text) == []  # a summary.md alone is longer than the limit
    lines = text.split("\n")
    assert "1 passing policy's details left out: see the reports" in lines
    assert "1 failing policy's details left out: see the reports" in lines
    assert "| `policies/support.yaml` | policy edited | **FAILED** | 1 of 29 |" in lines
    assert "- `policies/old.yaml`: deleted" in lines
    assert f"Full reports: <{URL}>" in lines


def test_multibyte_text_near_the_cut_stays_whole(outcomes: dict[str, GateOutcome]) -> None:
    reason = "qualité en baisse 🚦 " * 30  # 600 characters: cut at 400 by the failed-gate line
    checked = [checked_as(f"policies/équipe-{i}-🚀.yaml", with_reason(outcomes["failing"], reason)) for i in range(12)]
    sections = {c.gating.policy: summary_of(c.outcome) for c in checked}
    plan = plan_of(checked)
    whole = render_comment(plan, checked, sections)
    for limit in range(1_000, len(whole) + 200, 173):
        text = render_comment(plan, checked, sections, limit=limit)
        assert_well_formed(text, limit)
        for line in text.split("\n"):
            if line.startswith("- `policies/"):  # a failed gate: its reason cut at a character, marked
                assert line.endswith("…")
                assert "🚦" in line
                assert line.encode("utf-8").decode("utf-8") == line


def test_what_is_left_out_follows_the_documented_order(outcomes: dict[str, GateOutcome]) -> None:
    """At every limit: details of passing policies go before the not-gated rows, those before the
    failing policies' details, those before the reported list, that before the failed-gate lines."""
    checked = [checked_as(f"policies/ok-{i}.yaml", outcomes["passing"]) for i in range(3)]
    checked += [checked_as(f"policies/bad-{i}.yaml", with_failed_gates(outcomes["failing"], 60)) for i in range(3)]
    notes = [Note(f"policies/gone-{i}.yaml", "deleted") for i in range(5)]
    sections = {c.gating.policy: summary_of(c.outcome) for c in checked}
    plan = plan_of(checked, notes)
    whole = render_comment(plan, checked, sections, artifact_url=URL)
    seen_fifty = seen_cut_table = False
    for limit in [*range(700, 30_000, 211), *range(30_000, len(whole) + 1, 1_999)]:
        text = render_comment(plan, checked, sections, artifact_url=URL, limit=limit)
        assert_well_formed(text, limit)
        lines = text.split("\n")
        summaries = details_of(text)
        passing = [s for s in summaries if s.endswith("(passed)")]
        failing = [s for s in summaries if s.endswith("(FAILED)")]
        failed_lines = [line for line in lines if line.startswith("- `policies/bad-")]
        rows = [line for line in lines if line.startswith("| `policies/")]
        has_notes = "- `policies/gone-0.yaml`: deleted" in lines
        assert summaries == failing + passing  # failing first
        if passing:
            assert len(failing) == 3
            assert SKIPPED_ROW in text
        if len(failing) < 3:
            assert not passing
            assert SKIPPED_ROW not in text
        if not has_notes:
            assert not summaries
            assert "5 changes reported, not gated, left out: see check.md in the reports" in lines
        if 0 < len(failed_lines) < 180:
            assert not has_notes
            assert f"… and {180 - len(failed_lines)} more failed gates: see check.md in the reports" in lines
            seen_fifty |= len(failed_lines) == 50
        if len(failed_lines) < 50:
            assert not has_notes
            assert not summaries
        if len(rows) < 6:
            assert not failed_lines
            assert "180 failed gates left out: see check.md in the reports" in lines
            assert f"… and {6 - len(rows)} more policies: see check.md in the reports" in lines
            seen_cut_table = True
        assert f"Full reports: <{URL}>" in lines
    assert seen_fifty  # some limit kept exactly the first 50 failed gates
    assert seen_cut_table


def test_thousands_of_policies_keep_the_headline_and_the_first_rows(outcomes: dict[str, GateOutcome]) -> None:
    checked = [
        checked_as(f"policies/team-{i:04d}.yaml", outcomes["failing" if i % 3 == 0 else "passing"])
        for i in range(2_000)
    ]
    sections = {c.gating.policy: summary_of(c.outcome) for c in checked[:2]}
    sections.update({c.gating.policy: sections[checked[i % 2].gating.policy] for i, c in enumerate(checked)})
    plan = plan_of(checked)
    text = render_comment(plan, checked, sections, artifact_url=URL)
    assert_well_formed(text, 65_536)
    lines = text.split("\n")
    assert any(
        line.startswith("Against `main@aaaaaaa` (2,000 changed files): 2,000 policies gated, 667 failed.")
        for line in lines
    )
    rows = [line for line in lines if line.startswith("| `policies/")]
    assert 0 < len(rows) < 2_000
    assert f"… and {2_000 - len(rows):,} more policies: see check.md in the reports" in lines
    failing_rows = [row for row in rows if "**FAILED**" in row]
    assert rows[: len(failing_rows)] == failing_rows  # failing policies first
    assert rows[0] == "| `policies/team-0000.yaml` | policy edited | **FAILED** | 1 of 29 |"
    assert details_of(text) == []
    assert f"Full reports: <{URL}>" in lines


def test_untrusted_paths_and_reasons_are_escaped(outcomes: dict[str, GateOutcome]) -> None:
    policy = "policies/we|rd`<img src=x onerror=alert(1)>.yaml"
    outcome = with_reason(outcomes["failing"], "dropped | <script>alert(1)</script> `x`\n# heading")
    checked = [checked_as(policy, outcome, why="catalog edited: <b>models</b>|yaml")]
    plan = plan_of(checked, [Note("policies/<i>old</i>|x.yaml", "renamed from <u>a</u>")])
    text = render_comment(plan, checked, {policy: summary_of(outcome)})
    assert_well_formed(text, 65_536)  # the table keeps its four cells
    prose = re.sub(r"`[^`\n]*`", "", text)  # in a code span, HTML is shown as text
    for raw in ("<img", "<script", "<b>", "<i>", "<u>"):
        assert raw not in prose
    lines = text.split("\n")
    assert "<details><summary>policies/we|rd`&lt;img src=x onerror=alert(1)&gt;.yaml (FAILED)</summary>" in lines
    assert (
        "| `policies/we\\|rd'<img src=x onerror=alert(1)>.yaml` | catalog edited: &lt;b&gt;models&lt;/b&gt;\\|yaml |"
        in text
    )
    assert not any(line.startswith("#") and "heading" in line for line in lines)  # the newline is folded


def test_a_path_git_could_not_decode_still_gives_valid_utf8(outcomes: dict[str, GateOutcome]) -> None:
    policy = "policies/caf\udce9.yaml"  # os.fsdecode of b"caf\xe9.yaml" (Latin-1 bytes)
    checked = [checked_as(policy, outcomes["passing"])]
    text = render_comment(plan_of(checked), checked, {})
    assert_well_formed(text, 65_536)
    assert "`policies/caf?.yaml`" in text
    assert "No summary.md for this policy: see its reports." in text  # no section given


def test_a_summary_cut_inside_a_details_block_is_closed(outcomes: dict[str, GateOutcome]) -> None:
    section = summary_of(outcomes["failing"])
    cut = section[: section.index("</details>")]  # summary.md's own cap can fall inside a block
    checked = [checked_as("policies/a.yaml", outcomes["failing"])]
    text = render_comment(plan_of(checked), checked, {"policies/a.yaml": cut})
    assert_well_formed(text, 65_536)
    assert cut.strip("\n") in text


def test_nothing_gated_passes_and_says_so() -> None:
    plan = plan_of([], [Note("policies/old.yaml", "deleted")])
    text = render_comment(plan, [], {}, artifact_url=URL)
    assert_well_formed(text, 65_536)
    assert text.split("\n")[1] == "## routegate check: ✅ PASSED"
    assert "Nothing routing-relevant changed since `main@aaaaaaa`: no policy was gated." in text
    assert "|" not in text.replace(MARKER, "")


def test_the_reports_address_is_a_link_only_when_it_is_http() -> None:
    plan = plan_of([])
    odd = render_comment(plan, [], {}, artifact_url="https://example.com/a b>c")
    assert "Full reports: <https://example.com/a%20b%3Ec>" in odd.split("\n")
    script = render_comment(plan, [], {}, artifact_url="javascript:alert(1)")
    assert "Full reports: `javascript:alert(1)`" in script.split("\n")


def test_a_limit_below_the_headline_is_refused(two: tuple[CheckPlan, list[Checked], dict[str, str]]) -> None:
    plan, checked, sections = two
    with pytest.raises(ValueError, match="too small"):
        render_comment(plan, checked, sections, limit=200)
