"""``routegate validate`` on a project file: the file, then everything it declares, every problem in one run."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def test_validate_without_paths_checks_the_bundled_project_and_all_it_declares() -> None:
    done = run_cli("validate", cwd=ROOT)
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok  project routegate.yaml (3 policies, ")
    for policy in ("assistant", "support", "private-data"):
        assert any(line.startswith(f"ok  policy  policies/{policy}.yaml (sha256 ") for line in lines)
    assert "ok  gates   policies/private-data.gates.yaml (1 section(s) set, the rest default)" in lines
    suites = [line.split()[2] for line in lines if line.startswith("ok  suite")]
    assert sorted(suites) == sorted(f"eval_suites/{p.name}" for p in (ROOT / "eval_suites").iterdir() if p.is_dir())


def test_a_broken_project_reports_every_problem_at_its_line_and_exits_2(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "eval_suites" / "routellm-mtbench", tmp_path / "eval_suites" / "routellm-mtbench")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "broken.yaml").write_text("name: broken\ntiers: {fast: {models: [nope]}}\n")
    (tmp_path / "routegate.yaml").write_text(
        "version: 1\n"
        "policies:\n"
        "  - path: policies/broken.yaml\n"
        "    suites: [eval_suites/routellm-mtbench]\n"
        "  - path: policies/gone.yaml\n"
        "    suites: [eval_suites/routellm-mtbench]\n"
    )
    done = run_cli("validate", cwd=tmp_path)
    assert done.code == 2
    assert "Traceback" not in done.stderr
    err = done.stderr.splitlines()
    assert any(line.startswith("policies/broken.yaml:") for line in err), err  # the declared policy is checked
    gone = [line for line in err if "no such policy file: 'policies/gone.yaml'" in line]
    assert len(gone) == 1, err
    assert gone[0].endswith("routegate.yaml:5:11: policies[1].path: warning: no such policy file: 'policies/gone.yaml'")

    project = "version: 1\npolicies:\n  - path: policies/broken.yaml\n    suites: [eval_suites/none]\n"
    (tmp_path / "routegate.yaml").write_text(project)
    done = run_cli("validate", "routegate.yaml", cwd=tmp_path)
    assert done.code == 2
    assert "routegate.yaml:4:14: policies[0].suites[0]: no suite folder 'eval_suites/none'" in done.stderr


def test_a_gates_file_is_validated_by_shape_with_positions(tmp_path: Path) -> None:
    (tmp_path / "gates.yaml").write_text("quality:\n  margin: 2\nresilience:\n  min_availability: -1\n")
    done = run_cli("validate", str(tmp_path / "gates.yaml"))
    assert done.code == 2
    assert "gates.yaml:2:11: quality.margin:" in done.stderr
    assert "gates.yaml:4:21: resilience.min_availability:" in done.stderr  # both problems, one run
