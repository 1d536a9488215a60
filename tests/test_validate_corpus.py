"""The corpus of broken files: each one, fed to the real ``routegate validate``, exits 2 with exact messages.

Every case under tests/corpus/ states what it expects in ``# expect:`` comment
lines at its end (a suite states it in its suite.yaml; a file too empty to
hold a comment has a ``.expect`` sidecar). A case marked ``# strict-only:``
holds only warnings: exit 0 without ``--strict``, 2 with it. The CLI runs in
tests/corpus so the file names in the messages are the relative ones below.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import (
    MANIFEST,
    default_examples,
    default_recordings,
    dump_yaml,
    recording_row,
    run_cli,
    write_catalog,
    write_project,
    write_suite,
)

CORPUS = Path(__file__).parent / "corpus"
EXPECT = "# expect: "
STRICT_ONLY = "# strict-only:"


def _cases() -> list[Path]:
    files = [p for p in sorted((CORPUS / "policy").glob("*.yaml")) if p.name != "models.yaml"]
    files += sorted((CORPUS / "catalog").glob("*.yaml"))
    files += sorted(p for p in (CORPUS / "suite").iterdir() if p.is_dir())
    return files


def _expectations(case: Path) -> tuple[list[str], bool]:
    """(expected problem lines, strict_only) of one case."""
    holder = case / "suite.yaml" if case.is_dir() else case
    sidecar = case.with_suffix(".expect")
    if sidecar.is_file():
        return sidecar.read_text(encoding="utf-8").splitlines(), False
    lines = holder.read_text(encoding="utf-8").splitlines()
    expected = [line[len(EXPECT) :] for line in lines if line.startswith(EXPECT)]
    return expected, any(line.startswith(STRICT_ONLY) for line in lines)


CASES = _cases()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25
    for case in CASES:
        expected, _ = _expectations(case)
        assert expected, f"{case} states no expectation"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_broken_file_is_refused_with_exact_message(case: Path) -> None:
    expected, strict_only = _expectations(case)
    target = str(case.relative_to(CORPUS))
    run = run_cli("validate", target, cwd=CORPUS)
    assert "Traceback" not in run.stderr
    if strict_only:
        assert run.code == 0, run.stderr
        assert run.problem_lines == expected
        run = run_cli("validate", "--strict", target, cwd=CORPUS)
        assert "Traceback" not in run.stderr
    assert run.code == 2, run.stdout + run.stderr
    assert run.problem_lines == expected
    assert run.stderr.splitlines()[-1].startswith(f"{len(expected)} problem(s) found")


def test_whole_corpus_in_one_run_lists_every_problem() -> None:
    """Folders are expanded and one run reports every problem of every file, not just the first."""
    run = run_cli("validate", "policy", "catalog", "suite", cwd=CORPUS)
    assert run.code == 2
    assert "Traceback" not in run.stderr
    wanted = sorted(line for case in CASES for line in _expectations(case)[0])
    assert sorted(run.problem_lines) == wanted


def test_the_corpus_catalog_itself_is_valid() -> None:
    """Control: the policies above fail for their own reason, not because their catalog is broken."""
    run = run_cli("validate", "policy/models.yaml", cwd=CORPUS)
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("ok  catalog policy/models.yaml")


def test_valid_project_passes(tmp_path: Path) -> None:
    write_project(tmp_path)
    write_suite(tmp_path / "suite")
    run = run_cli("validate", ".", cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    kinds = sorted(line.split()[1] for line in run.stdout.splitlines())
    assert kinds == ["catalog", "policy", "suite"]


# Cases whose data cannot be written as JSON Lines (NaN) or as a checked-in file (links): built per test.


@pytest.mark.parametrize(
    ("column", "value", "col"),
    [("latency_ms", math.nan, 6), ("output_tokens", None, 5), ("input_tokens", -3, 4)],
)
def test_nan_or_negative_recording_values_in_parquet(tmp_path: Path, column: str, value: object, col: int) -> None:
    examples = default_examples(3)
    recordings = default_recordings(examples)
    recordings[1][column] = value
    write_suite(tmp_path / "s", examples, recordings)
    run = run_cli("validate", "s", cwd=tmp_path)
    assert run.code == 2
    assert "Traceback" not in run.stderr
    shown = "is empty" if value is None else f"has {value!r}"
    assert run.problem_lines == [
        f"s/recordings.parquet:2:{col}: {column}: must be a number >= 0 (not NaN, negative or empty); row 2 {shown}"
    ]


def test_nan_confidence_is_refused_but_empty_confidence_is_fine(tmp_path: Path) -> None:
    examples = default_examples(3)
    recordings = [
        recording_row("ex0", "gpt-small", confidence=None),
        recording_row("ex1", "gpt-small", confidence=math.nan),
        recording_row("ex2", "gpt-small"),
    ]
    write_suite(tmp_path / "s", examples, recordings)
    run = run_cli("validate", "s", cwd=tmp_path)
    assert run.code == 2
    assert run.problem_lines == [
        "s/recordings.parquet:2:8: confidence: must be empty or a number in [0, 1]; row 2 has nan"
    ]


def test_suite_path_escaping_through_a_symlink_is_refused(tmp_path: Path) -> None:
    outside = write_suite(tmp_path / "outside")
    suite = write_suite(tmp_path / "s", examples="data/examples.parquet")
    (suite / "data" / "examples.parquet").unlink()
    (suite / "data").rmdir()
    (suite / "data").symlink_to(outside, target_is_directory=True)
    run = run_cli("validate", "s", cwd=tmp_path)
    assert run.code == 2
    assert "Traceback" not in run.stderr
    line = (suite / "suite.yaml").read_text().splitlines().index("examples: data/examples.parquet") + 1
    assert run.problem_lines == [
        f"s/suite.yaml:{line}:11: examples: path 'data/examples.parquet' leaves the folder s (via a link)"
    ]


def test_symlink_inside_the_suite_folder_is_allowed(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "s", examples="data/examples.parquet")
    (suite / "current.parquet").symlink_to(suite / "data" / "examples.parquet")
    dump_yaml(suite / "suite.yaml", {**MANIFEST, "examples": "current.parquet"})
    run = run_cli("validate", "s", cwd=tmp_path)
    assert run.code == 0, run.stderr


def test_recordings_of_models_missing_from_the_catalog(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    examples = default_examples(2)
    write_suite(tmp_path / "s", examples, default_recordings(examples, ["gpt-small", "mystery-model"]))
    run = run_cli("validate", ".", cwd=tmp_path)
    assert run.code == 2
    assert run.problem_lines == [
        "s/recordings.parquet:0:0: model: model 'mystery-model' is not in the catalog models.yaml"
    ]


def test_wrong_column_type_in_parquet(tmp_path: Path) -> None:
    examples = default_examples(2)
    for row in examples:
        row["pii"] = "sometimes"
    write_suite(tmp_path / "s", examples, default_recordings(examples))
    run = run_cli("validate", "s", cwd=tmp_path)
    assert run.code == 2
    assert run.problem_lines == ["s/examples.parquet:0:4: pii: column 'pii' has type string; expected bool"]


def test_table_with_an_unknown_suffix(tmp_path: Path) -> None:
    write_suite(tmp_path / "s", examples="examples.csv")
    run = run_cli("validate", "s", cwd=tmp_path)
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert run.problem_lines == ["s/examples.csv:0:0: -: tables must end in .parquet or .jsonl"]


def test_missing_path_and_unknown_yaml(tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("title: not a policy\n")
    run = run_cli("validate", "nowhere", "notes.yaml", cwd=tmp_path)
    assert run.code == 2
    assert run.problem_lines == [
        "nowhere:0:0: -: no such file or folder",
        "notes.yaml:1:1: -: not a policy (has 'tiers'), a catalog (has 'models' and 'providers'), "
        "a gates file (keys among cost, errors, fast_tier, latency, on_inconclusive, quality, resilience) "
        "or a suite folder",
    ]


def test_error_examples_in_the_docs_are_real() -> None:
    """docs/policy.md quotes corpus messages; they must match what the CLI prints today."""
    docs = (Path(__file__).parent.parent / "docs" / "policy.md").read_text(encoding="utf-8")
    block = docs.split("Examples, from the test corpus")[1].split("```\n")[1]
    quoted = block.strip().splitlines()
    assert len(quoted) >= 5
    known = {line for case in CASES for line in _expectations(case)[0]}
    assert set(quoted) <= known


def test_table_error_examples_in_the_suite_docs_are_real() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "suites.md").read_text(encoding="utf-8")
    block = docs.split("## Problems and their positions")[1].split("```\n")[1]
    quoted = block.strip().splitlines()
    assert len(quoted) >= 3
    known = {line for case in CASES for line in _expectations(case)[0]}
    assert set(quoted) <= known
