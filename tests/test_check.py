"""`routegate check --base REF` on real git repositories: a main branch and a pull-request branch.

Each test builds a small repository like a platform team's (a catalog, production policies, two
RouteLLM suites, routegate.yaml), commits it on main, branches, changes something and runs the
command line in that repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CHANGES, changed_policy

ROOT = Path(__file__).resolve().parent.parent
SUITES = ("routellm-gsm8k", "routellm-mtbench")
PROJECT = """\
version: 1
defaults:
  suites: [eval_suites/routellm-gsm8k, eval_suites/routellm-mtbench]
policies:
  - path: policies/assistant.yaml
  - path: policies/support.yaml
  - path: policies/new/*.yaml
    reference: policies/assistant.yaml
  - path: policies/experiments/*.yaml
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def check(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    run = [sys.executable, "-c", "from routegate.cli import entry; entry()", "check", *args]
    return subprocess.run(run, cwd=repo, capture_output=True, text=True, check=False, env=None)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: the catalog, two production policies (assistant = the bundled baseline, support = the
    bundled candidate), two suites and routegate.yaml; then a branch ``pr`` checked out."""
    r = tmp_path / "repo"
    (r / "policies").mkdir(parents=True)
    shutil.copy(ROOT / "policies" / "models.yaml", r / "policies" / "models.yaml")
    shutil.copy(ROOT / "policies" / "assistant.yaml", r / "policies" / "assistant.yaml")
    shutil.copy(changed_policy("assistant-skip-cascade"), r / "policies" / "support.yaml")
    for name in SUITES:
        shutil.copytree(ROOT / "eval_suites" / name, r / "eval_suites" / name)
    (r / "routegate.yaml").write_text(PROJECT)
    (r / "README.md").write_text("docs\n")
    git(r, "init", "-q", "-b", "main")
    git(r, "add", ".")
    git(r, "commit", "-q", "-m", "main")
    git(r, "checkout", "-q", "-b", "pr")
    return r


def apply_change(repo: Path, change: str) -> None:
    """Apply ``docs/changes/<change>.patch`` to the repository's work tree, as the pull request would."""
    git(repo, "apply", str(CHANGES / f"{change}.patch"))


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def report(repo: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((repo / "reports" / "check" / "check.json").read_text())
    return data


def gated(repo: Path) -> dict[str, object]:
    items = report(repo)["gated"]
    assert isinstance(items, list)
    return {item["policy"]: item for item in items}


def test_a_policy_edited_into_a_failing_one_fails_against_its_own_base_version(repo: Path) -> None:
    apply_change(repo, "assistant-cheaper-math")
    commit(repo, "cheaper math")
    done = check(repo, "--base", "main")
    assert done.returncode == 1, done.stdout + done.stderr
    found = gated(repo)
    assert list(found) == ["policies/assistant.yaml"]  # support.yaml did not change
    item = found["policies/assistant.yaml"]
    assert isinstance(item, dict)
    assert item["why"] == "policy edited"
    assert item["baseline"].startswith("git:")  # its own version at the merge base
    assert not item["passed"]
    assert "quality" in item["failed"]
    verdict = json.loads((repo / "reports" / "check" / "policies__assistant" / "verdict.json").read_text())
    assert verdict["baseline"]["policy"]["version"] == "3.2.0"  # the base branch's file
    assert verdict["candidate"]["policy"]["version"] == "3.3.0"
    summary = (repo / "reports" / "check" / "check.md").read_text()
    assert "FAILED" in summary
    assert "policies/assistant.yaml" in summary
    # Each report is titled by the file and the refs, not by the two policies' names.
    page = (repo / "reports" / "check" / "policies__assistant" / "report.html").read_text()
    assert "<h1>policies/assistant.yaml: main@" in page
    assert "-&gt; working tree (HEAD " in page
    own = (repo / "reports" / "check" / "policies__assistant" / "summary.md").read_text()
    assert "`policies/assistant.yaml: main@" in own
    comment = (repo / "reports" / "check" / "comment.md").read_text()
    assert comment.splitlines()[0] == "<!-- routegate-verdict -->"
    assert "FAILED" in comment
    assert "policies/assistant.yaml" in comment
    assert own.splitlines()[0] in comment  # the policy's own summary, in its <details> block


def test_a_price_change_in_the_catalog_gates_every_policy_using_it(repo: Path) -> None:
    catalog = repo / "policies" / "models.yaml"
    text = catalog.read_text()
    assert "input_per_1m: 10.0" in text
    catalog.write_text(text.replace("input_per_1m: 10.0", "input_per_1m: 30.0", 1))  # GPT-4 Turbo's input price
    commit(repo, "gpt-4 price up")
    done = check(repo, "--base", "main")
    found = gated(repo)
    assert sorted(found) == ["policies/assistant.yaml", "policies/support.yaml"]
    for item in found.values():
        assert isinstance(item, dict)
        assert item["why"] == "catalog edited: policies/models.yaml"
    verdict = json.loads((repo / "reports" / "check" / "policies__assistant" / "verdict.json").read_text())
    cost = verdict["deltas"]["overall"]["cost_per_1k_usd"]
    assert cost["candidate"] > cost["baseline"]  # the same policy, dearer with the new catalog
    assert done.returncode == (0 if report(repo)["passed"] else 1)


def test_a_change_to_docs_only_gates_nothing_and_exits_0_quickly(repo: Path) -> None:
    (repo / "README.md").write_text("better docs\n")
    commit(repo, "docs")
    started = time.perf_counter()
    done = check(repo, "--base", "main")
    assert done.returncode == 0, done.stderr
    assert time.perf_counter() - started < 30  # no replay: seconds (generous for a loaded CI machine)
    assert "nothing routing-relevant changed" in done.stdout
    assert report(repo)["gated"] == []
    assert report(repo)["passed"] is True


def test_editing_a_policy_and_its_usual_baseline_together_gates_each_against_the_base_branch(repo: Path) -> None:
    """A PR that edits both files cannot hide a change: each is gated against its own version on main."""
    shutil.copy(changed_policy("assistant-cheaper-math"), repo / "policies" / "support.yaml")
    apply_change(repo, "assistant-cheaper-math")
    commit(repo, "both")
    done = check(repo, "--base", "main")
    assert done.returncode == 1
    found = gated(repo)
    assert sorted(found) == ["policies/assistant.yaml", "policies/support.yaml"]
    for item in found.values():
        assert isinstance(item, dict)
        assert not item["passed"]


def test_uncommitted_edits_are_gated_too(repo: Path) -> None:
    shutil.copy(changed_policy("assistant-cheaper-math"), repo / "policies" / "support.yaml")
    done = check(repo, "--base", "main")
    assert done.returncode == 1
    assert list(gated(repo)) == ["policies/support.yaml"]


def test_a_new_policy_is_gated_against_its_reference_or_the_absolute_gates_only(repo: Path) -> None:
    (repo / "policies" / "new").mkdir()
    (repo / "policies" / "experiments").mkdir()
    shutil.copy(changed_policy("assistant-skip-cascade"), repo / "policies" / "new" / "batch.yaml")
    shutil.copy(changed_policy("assistant-skip-cascade"), repo / "policies" / "experiments" / "trial.yaml")
    commit(repo, "two new policies")
    done = check(repo, "--base", "main")
    assert done.returncode == 0, done.stdout + done.stderr
    found = gated(repo)
    assert sorted(found) == ["policies/experiments/trial.yaml", "policies/new/batch.yaml"]
    with_reference = found["policies/new/batch.yaml"]
    assert isinstance(with_reference, dict)
    assert with_reference["why"] == "new policy, gated against its reference policies/assistant.yaml"
    assert with_reference["absolute_gates_only"] is False
    alone = found["policies/experiments/trial.yaml"]
    assert isinstance(alone, dict)
    assert alone["absolute_gates_only"] is True
    assert "absolute gates only" in str(alone["why"])


def test_a_deleted_and_a_renamed_policy_are_reported_never_an_error(repo: Path) -> None:
    (repo / "policies" / "experiments").mkdir()
    git(repo, "mv", "policies/support.yaml", "policies/experiments/support.yaml")
    git(repo, "rm", "-q", "policies/assistant.yaml")
    commit(repo, "move and delete")
    done = check(repo, "--base", "main")
    assert done.returncode in (0, 1), done.stderr
    notes = {n["path"]: n["what"] for n in report(repo)["reported"]}  # type: ignore[attr-defined]
    assert notes["policies/assistant.yaml"] == "deleted"
    assert notes["policies/experiments/support.yaml"] == "renamed from policies/support.yaml"
    assert list(gated(repo)) == ["policies/experiments/support.yaml"]  # against the old file's base version


def test_all_gates_every_declared_policy(repo: Path) -> None:
    done = check(repo, "--base", "main", "--all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(gated(repo)) == ["policies/assistant.yaml", "policies/support.yaml"]


def test_bad_input_exits_2_with_a_located_message_and_no_reports(repo: Path) -> None:
    done = check(repo, "--base", "no-such-branch")
    assert done.returncode == 2
    assert "no-such-branch" in done.stderr
    assert "Traceback" not in done.stderr
    (repo / "routegate.yaml").write_text(
        PROJECT.replace("suites: [eval_suites/routellm-gsm8k", "suites: [eval_suites/nope")
    )
    done = check(repo, "--base", "main")
    assert done.returncode == 2
    assert "routegate.yaml:3:" in done.stderr
    assert "eval_suites/nope" in done.stderr
    (repo / "routegate.yaml").write_text(PROJECT)
    (repo / "policies" / "assistant.yaml").write_text("name: [broken\n")
    done = check(repo, "--base", "main")
    assert done.returncode == 2
    assert "policies/assistant.yaml:" in done.stderr
    assert not (repo / "reports").exists()


def test_annotations_point_at_the_policy_files_own_lines(repo: Path) -> None:
    """A shadowed rule gets a warning at its line; a failing policy an error at its ``name:`` line."""
    lines = changed_policy("assistant-cheaper-math").read_text().splitlines()
    after = lines.index("    tier: private", lines.index("rules:")) + 1  # the end of the first rule (PII)
    shadowed = ["  - name: shadowed-copy", "    when: {pii: true}", "    tier: fast"]  # the same condition
    edited = [*lines[:after], *shadowed, *lines[after:]]
    (repo / "policies" / "assistant.yaml").write_text("\n".join(edited) + "\n")
    commit(repo, "shadowed rule")
    done = check(repo, "--base", "main", "--annotations")
    assert done.returncode == 1, done.stderr
    out = done.stdout.splitlines()
    warnings = [line for line in out if line.startswith("::warning ")]
    errors = [line for line in out if line.startswith("::error ")]
    shadow_line = edited.index("  - name: shadowed-copy") + 1
    assert any(f"file=policies/assistant.yaml,line={shadow_line}," in w and "shadowed" in w for w in warnings), warnings
    name_line = next(i for i, x in enumerate(edited) if x.startswith("name:")) + 1
    assert len(errors) == 1
    assert errors[0].startswith(f"::error file=policies/assistant.yaml,line={name_line},col=1::")
    assert "gate(s) failed" in errors[0]
    # Math moved from the reasoning tier to the default (fast) tier: the fast tier's requests lost most.
    fast_line = edited.index("  fast:") + 1
    tier = [w for w in warnings if "start on tier 'fast'" in w]
    assert tier, warnings
    assert tier[0].startswith(f"::warning file=policies/assistant.yaml,line={fast_line},col=3::")
    # ... and by rule: math now matches no rule, so the default tier's requests lost most.
    default_line = next(i for i, x in enumerate(edited) if x.startswith("default_tier:")) + 1
    rule = [w for w in warnings if "routed by the default tier ('fast', no rule matched)" in w]
    assert len(rule) == 1, warnings
    assert rule[0].startswith(f"::warning file=policies/assistant.yaml,line={default_line},col=1::")
    quiet = check(repo, "--base", "main", "--no-annotations")
    assert "::warning" not in quiet.stdout


def test_a_suite_change_gates_every_policy_on_it_and_states_the_change(repo: Path) -> None:
    manifest = repo / "eval_suites" / "routellm-mtbench" / "suite.yaml"
    text = manifest.read_text()
    old = next(line for line in text.splitlines() if line.startswith("version:")).split(":", 1)[1].strip()
    manifest.write_text(text.replace(f"version: {old}", "version: 9.9.9", 1))
    commit(repo, "new suite version")
    done = check(repo, "--base", "main")
    assert done.returncode == 0, done.stdout + done.stderr
    found = gated(repo)
    assert sorted(found) == ["policies/assistant.yaml", "policies/support.yaml"]
    why = found["policies/assistant.yaml"]["why"]  # type: ignore[index]
    assert why.startswith(f"suite edited: eval_suites/routellm-mtbench: {old} (sha256 ")
    assert why.endswith(" -> 9.9.9 (sha256 " + why.rsplit("(sha256 ", 1)[1])
    old_sha, new_sha = (part.split(")")[0] for part in why.split("(sha256 ")[1:])
    assert old_sha != new_sha  # the manifest changed, so the suite's hash did
    from routegate.load.suite import load_suite

    assert load_suite(ROOT / "eval_suites" / "routellm-mtbench").sha256.startswith(old_sha)  # main's suite
    verdict = json.loads((repo / "reports" / "check" / "policies__assistant" / "verdict.json").read_text())
    mtbench = next(s for s in verdict["suites"] if s["name"] == "routellm-mtbench")
    assert mtbench["version"] == "9.9.9"  # both sides replayed on the new suite
    assert mtbench["sha256"].startswith(new_sha)


def test_worst_tier_is_the_starting_tier_whose_requests_lost_most() -> None:
    import pyarrow as pa

    from routegate.project.annotations import worst_tier

    base = pa.table({"quality": [1.0, 1.0, 0.0, 1.0, None], "initial_tier": ["fast"] * 5})
    cand = pa.table(
        {"quality": [0.0, 1.0, 1.0, 0.0, 0.0], "initial_tier": ["fast", "fast", "reasoning", "reasoning", "fast"]}
    )
    # fast: rows 0, 1 (row 4 unscored at the baseline): mean -0.5; reasoning: rows 2, 3: mean 0.0.
    assert worst_tier(base, cand) == ("fast", -0.5, 2)
    assert worst_tier(cand, cand) is None  # nothing lost anywhere


def test_a_condition_value_no_gated_request_carries_is_annotated_at_the_value(repo: Path) -> None:
    """``task_type: [coding]`` (the suites say ``code``): a rule that never fires, a warning at the value."""
    path = repo / "policies" / "assistant.yaml"
    text = path.read_text()
    old = "    when: {task_type: [math, code, reasoning]}\n"
    assert old in text
    path.write_text(text.replace(old, "    when: {task_type: [math, coding, reasoning]}\n"))
    commit(repo, "typo")
    done = check(repo, "--base", "main", "--annotations")
    assert done.returncode in (0, 1), done.stderr
    lines = path.read_text().splitlines()
    line = lines.index("    when: {task_type: [math, coding, reasoning]}") + 1
    col = lines[line - 1].index("coding") + 1
    found = [w for w in done.stdout.splitlines() if w.startswith("::warning ") and "'coding'" in w]
    assert len(found) == 1, done.stdout
    assert found[0].startswith(f"::warning file=policies/assistant.yaml,line={line},col={col}::")
    assert "rule 'hard-tasks-to-reasoning': task_type value 'coding' matches no request" in found[0]
    assert "did you mean 'code'" in found[0]
    assert not [w for w in done.stdout.splitlines() if "'math' matches" in w or "'reasoning' matches" in w]


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """This repository's own routegate.yaml, policies and suites, committed on main; branch ``pr``."""
    r = tmp_path / "bundled"
    r.mkdir()
    shutil.copy(ROOT / "routegate.yaml", r)
    for folder in ("policies", "eval_suites"):
        shutil.copytree(ROOT / folder, r / folder)
    git(r, "init", "-q", "-b", "main")
    commit(r, "main")
    git(r, "checkout", "-q", "-b", "pr")
    return r


def test_the_bundled_project_passes_all_and_fails_a_pr_that_leaks_pii_during_an_outage(bundled: Path) -> None:
    """The nightly's ``--all`` on main passes; the private-data PR fails on the declared outage drill."""
    done = check(bundled, "--base", "main", "--all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(gated(bundled)) == ["policies/assistant.yaml", "policies/private-data.yaml", "policies/support.yaml"]

    apply_change(bundled, "private-data-external-fallback")
    commit(bundled, "answer PII during outages too")
    done = check(bundled, "--base", "main")
    assert done.returncode == 1, done.stdout + done.stderr
    item = gated(bundled)["policies/private-data.yaml"]
    assert isinstance(item, dict)
    assert item["failed"] == ["resilience.privacy[selfhosted-down]"]  # no breach without the outage
    assert list(gated(bundled)) == ["policies/private-data.yaml"]
