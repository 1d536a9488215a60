"""Loading suites: derived columns, the sha256, jsonl vs parquet, path rules and table problem positions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import (
    MANIFEST,
    default_examples,
    default_recordings,
    dump_yaml,
    example_row,
    recording_row,
    write_suite,
)
from routegate.errors import InputError
from routegate.load.suite import load_suite, suite_sha256
from routegate.load.tables import estimate_tokens, message_text


def _messages(*contents: str) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": c} for i, c in enumerate(contents)]


def test_defaults_are_derived(tmp_path: Path) -> None:
    texts = [("a",), ("abcd", "efgh"), ("x" * 9,), ("",)]
    examples = [example_row(i, messages=_messages(*t)) for i, t in enumerate(texts)]
    for row in examples:
        del row["tags"], row["reference"]
    suite = load_suite(write_suite(tmp_path / "s", examples))
    table = suite.examples
    # all contents joined by newlines, then ceil(chars / 4)
    chars = [len("\n".join(t)) for t in texts]
    assert table.column("input_tokens").to_pylist() == [math.ceil(c / 4) for c in chars]
    assert table.column("input_tokens").type == pa.int64()
    assert table.column("arrival_ms").to_pylist() == [i * 1000.0 for i in range(len(texts))]
    assert table.column("tags").to_pylist() == [[]] * len(texts)
    assert table.column("reference").null_count == len(texts)


def test_given_optional_columns_are_kept(tmp_path: Path) -> None:
    examples = [example_row(i, input_tokens=100 + i, arrival_ms=5.0 * i, tags=["t"], reference="r") for i in range(3)]
    suite = load_suite(write_suite(tmp_path / "s", examples))
    assert suite.examples.column("input_tokens").to_pylist() == [100, 101, 102]
    assert suite.examples.column("arrival_ms").to_pylist() == [0.0, 5.0, 10.0]
    assert suite.examples.column("tags").to_pylist() == [["t"]] * 3
    assert suite.examples.column("reference").to_pylist() == ["r"] * 3


def test_recordings_optional_columns_and_error_filled(tmp_path: Path) -> None:
    examples = default_examples(2)
    recordings = [recording_row("ex0", "gpt-small", error=None), recording_row("ex1", "gpt-small", error="timeout")]
    for row in recordings:
        del row["confidence"], row["quality"]
    suite = load_suite(write_suite(tmp_path / "s", examples, recordings))
    rec = suite.recordings
    assert rec.column("error").to_pylist() == ["", "timeout"]
    for name in ("confidence", "quality", "ttft_ms", "finish_reason"):
        assert rec.column(name).null_count == 2
    assert rec.column("confidence").type == pa.float64()


def test_jsonl_and_parquet_load_to_the_same_tables(tmp_path: Path) -> None:
    examples = [example_row(i, tags=["a", "b"][: i % 3], reference=None if i % 2 else f"ref{i}") for i in range(5)]
    recordings = default_recordings(examples, ["gpt-small", "claude-mid"])
    parquet = load_suite(write_suite(tmp_path / "p", examples, recordings))
    jsonl = load_suite(
        write_suite(tmp_path / "j", examples, recordings, examples="examples.jsonl", recordings="recordings.jsonl")
    )
    for name in ("id", "task_type", "pii", "stakes", "sla", "tags", "reference", "input_tokens", "arrival_ms"):
        assert parquet.examples.column(name).to_pylist() == jsonl.examples.column(name).to_pylist(), name
    for name in ("example_id", "model", "input_tokens", "output_tokens", "latency_ms", "error", "confidence"):
        assert parquet.recordings.column(name).to_pylist() == jsonl.recordings.column(name).to_pylist(), name
    assert parquet.sha256 != jsonl.sha256  # different files, different bytes


def test_loads_from_the_suite_yaml_path_too(suite_dir: Path) -> None:
    assert load_suite(suite_dir / "suite.yaml").sha256 == load_suite(suite_dir).sha256
    assert load_suite(str(suite_dir)).name == "tiny"
    assert load_suite(suite_dir).version == "1.0.0"


# sha256


def test_sha256_is_stable_and_independent_of_location(tmp_path: Path) -> None:
    first = load_suite(write_suite(tmp_path / "a"))
    second = load_suite(write_suite(tmp_path / "elsewhere" / "b"))
    assert first.sha256 == second.sha256
    assert first.sha256 == load_suite(tmp_path / "a").sha256


def test_sha256_ignores_manifest_comments_and_order(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "s")
    before = load_suite(suite).sha256
    reordered = dict(reversed(list(MANIFEST.items())))
    dump_yaml(suite / "suite.yaml", reordered)
    (suite / "suite.yaml").write_text("# a comment\n" + (suite / "suite.yaml").read_text())
    assert load_suite(suite).sha256 == before


def test_sha256_covers_every_data_file_and_the_manifest(tmp_path: Path) -> None:
    examples = default_examples(3)
    base = load_suite(write_suite(tmp_path / "s", examples)).sha256
    changed_rec = default_recordings(examples)
    changed_rec[0]["latency_ms"] = 251.0
    assert load_suite(write_suite(tmp_path / "r", examples, changed_rec)).sha256 != base
    changed_ex = [dict(r) for r in examples]
    changed_ex[2]["stakes"] = "high"
    assert load_suite(write_suite(tmp_path / "e", changed_ex, default_recordings(examples))).sha256 != base
    assert load_suite(write_suite(tmp_path / "m", examples, description="other")).sha256 != base


def test_sha256_definition(suite_dir: Path) -> None:
    import hashlib
    import json

    from routegate.load.policy import canonical_sha256

    suite = load_suite(suite_dir)
    parts = {
        "manifest": canonical_sha256(suite.manifest),
        "examples": hashlib.sha256((suite_dir / "examples.parquet").read_bytes()).hexdigest(),
        "recordings": hashlib.sha256((suite_dir / "recordings.parquet").read_bytes()).hexdigest(),
    }
    assert suite.sha256 == hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    files = {"examples": suite_dir / "examples.parquet", "recordings": suite_dir / "recordings.parquet"}
    assert suite_sha256(suite.manifest, files) == suite.sha256


# Path rules


@pytest.mark.parametrize(
    "name", ["../examples.parquet", "/etc/passwd", "sub/../../examples.parquet", "..\\examples.parquet"]
)
def test_paths_may_not_leave_the_folder(tmp_path: Path, name: str) -> None:
    write_suite(tmp_path / "outside-copy")
    suite = write_suite(tmp_path / "s")
    dump_yaml(suite / "suite.yaml", {**MANIFEST, "examples": name})
    with pytest.raises(InputError) as info:
        load_suite(suite)
    (problem,) = info.value.problems
    assert problem.field == "examples"
    assert problem.message == f"path {name!r} must be relative and stay inside {suite}"
    lines = (suite / "suite.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, start=1) if text.startswith("examples:"))
    assert (problem.line, problem.col) == (line, 11)


def test_symlinked_file_pointing_outside_is_refused(tmp_path: Path) -> None:
    outside = write_suite(tmp_path / "outside")
    suite = write_suite(tmp_path / "s")
    (suite / "recordings.parquet").unlink()
    (suite / "recordings.parquet").symlink_to(outside / "recordings.parquet")
    with pytest.raises(InputError) as info:
        load_suite(suite)
    (problem,) = info.value.problems
    assert problem.message == f"path 'recordings.parquet' leaves the folder {suite} (via a link)"


def test_subfolders_inside_the_suite_are_fine(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "s", examples="data/ex.parquet", recordings="data/rec/r.parquet")
    assert load_suite(suite).examples.num_rows == 4


# Problems and their positions: line = 1-based row, col = 1-based column


def test_table_problem_positions(tmp_path: Path) -> None:
    examples = default_examples(12)
    recordings = default_recordings(examples)
    bad_rows = [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    for r in bad_rows:
        if r <= len(recordings):
            recordings[r - 1]["latency_ms"] = -1.0
    suite = write_suite(tmp_path / "s", examples, recordings)
    with pytest.raises(InputError) as info:
        load_suite(suite)
    (problem,) = info.value.problems
    assert problem.file == str(suite / "recordings.parquet")
    assert problem.line == 2
    assert problem.col == list(recordings[0]).index("latency_ms") + 1
    assert problem.message == (
        "must be a number >= 0 (not NaN, negative or empty); 10 rows: 2, 4, 5, 6, 7, 8, 9, 10, 11, 12 (row 2 has -1.0)"
    )


def test_more_than_ten_offending_rows_are_counted(tmp_path: Path) -> None:
    examples = default_examples(15)
    recordings = default_recordings(examples)
    for row in recordings:
        row["error"] = "boom"
    with pytest.raises(InputError) as info:
        load_suite(write_suite(tmp_path / "s", examples, recordings))
    (problem,) = info.value.problems
    assert "15 rows: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 5 more (row 1 has 'boom')" in problem.message


def test_every_problem_of_a_table_is_reported_at_once(tmp_path: Path) -> None:
    examples = default_examples(3)
    recordings = default_recordings(examples)
    recordings[0]["output_tokens"] = -1
    recordings[1]["example_id"] = "ghost"
    recordings[2]["quality"] = 2.0
    with pytest.raises(InputError) as info:
        load_suite(write_suite(tmp_path / "s", examples, recordings))
    assert sorted(p.field for p in info.value.problems) == ["example_id", "output_tokens", "quality"]


def test_empty_examples_table(tmp_path: Path) -> None:
    suite = tmp_path / "s"
    write_suite(suite, [example_row(0)], [recording_row("ex0", "gpt-small")])
    import pyarrow.parquet as pq

    for name in ("examples.parquet", "recordings.parquet"):
        pq.write_table(pq.read_table(suite / name).slice(0, 0), suite / name)
    with pytest.raises(InputError) as info:
        load_suite(suite)
    assert [p.format() for p in info.value.problems] == [
        f"{suite / 'examples.parquet'}:0:0: -: the examples table is empty"
    ]


def test_suite_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_suite(tmp_path / "missing")
    assert info.value.problems[0].message == "suite folder not found"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as info:
        load_suite(tmp_path / "empty")
    assert info.value.problems[0].message == "a suite folder must hold suite.yaml"


def test_unreadable_table(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "s")
    (suite / "examples.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError) as info:
        load_suite(suite)
    (problem,) = info.value.problems
    assert problem.file == str(suite / "examples.parquet")
    assert problem.message.startswith("cannot read table: ")


# Helpers


def test_estimate_tokens_over_chunked_arrays() -> None:
    texts = pa.chunked_array([["abcd", "abcde"], [None, "é" * 5]])
    assert estimate_tokens(texts).to_pylist() == [1, 2, 0, 2]


def test_message_text_joins_contents() -> None:
    messages = pa.array(
        [_messages("hi", "there"), [], [{"role": "user", "content": None}]],
        pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
    )
    assert message_text(messages).to_pylist() == ["hi\nthere", "", ""]


def test_a_large_table_loads_with_every_row(tmp_path: Path) -> None:
    """50k examples load whole, with input tokens estimated from the messages (load speed is a
    benchmark figure, ``nox -s bench``)."""
    import pyarrow.parquet as pq

    n = 50_000
    ids = [f"ex{i}" for i in range(n)]
    examples = pa.table(
        {
            "id": ids,
            "messages": pa.array([[{"role": "user", "content": "q" * (i % 50)}] for i in range(n)]),
            "task_type": ["chat"] * n,
            "pii": np.zeros(n, dtype=bool),
            "stakes": ["normal"] * n,
            "sla": ["interactive"] * n,
        }
    )
    recordings = pa.table(
        {
            "example_id": ids,
            "model": ["gpt-small"] * n,
            "response": ["ok"] * n,
            "input_tokens": np.full(n, 10),
            "output_tokens": np.full(n, 20),
            "latency_ms": np.full(n, 100.0),
            "error": [""] * n,
        }
    )
    suite = tmp_path / "big"
    suite.mkdir()
    dump_yaml(suite / "suite.yaml", MANIFEST)
    pq.write_table(examples, suite / "examples.parquet")
    pq.write_table(recordings, suite / "recordings.parquet")
    loaded = load_suite(suite)
    assert loaded.examples.num_rows == n
    assert loaded.examples.column("input_tokens").to_pylist()[:5] == [0, 1, 1, 1, 1]
    assert loaded.examples.column("id").to_pylist() == ids


def test_manifest_example_in_docs_is_valid(tmp_path: Path) -> None:
    docs = (Path(__file__).parent.parent / "docs" / "suites.md").read_text(encoding="utf-8")
    manifest = docs.split("```yaml\n")[1].split("```", 1)[0]
    examples = [example_row(i, sla=["interactive", "batch"][i % 2]) for i in range(4)]
    suite = write_suite(tmp_path / "s", examples)
    (suite / "suite.yaml").write_text(manifest, encoding="utf-8")
    loaded = load_suite(suite)
    assert loaded.name == "support-chat"
    assert loaded.manifest.slices == ("task_type", "sla")


def _write_parquet(path: Path, rows: list[dict[str, object]], row_group_size: int) -> None:
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)


@pytest.mark.parametrize("batch_rows", [3, 4096])  # decoding stops inside a row group / reads it whole
def test_text_columns_are_read_on_demand_from_the_same_file(
    tmp_path: Path, batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """messages and response stay on disk until asked; whole, by rows, or per row group they match an eager load."""
    import routegate.load.tables

    monkeypatch.setattr(routegate.load.tables, "TAKE_BATCH_ROWS", batch_rows)
    examples = [example_row(i, input_tokens=10 + i, messages=_messages(f"prompt {i}", f"turn {i}")) for i in range(40)]
    recordings = default_recordings(examples, ["gpt-small", "claude-mid"])
    for i, row in enumerate(recordings):
        row["response"] = None if i % 7 == 3 else f"answer {i}"
    folder = write_suite(tmp_path / "s", examples, recordings)
    _write_parquet(folder / "examples.parquet", examples, 16)  # several row groups
    _write_parquet(folder / "recordings.parquet", recordings, 16)
    lazy, eager = load_suite(folder), load_suite(folder, defer=False)
    assert set(lazy.deferred) == {"messages", "response"}
    assert "messages" not in lazy.examples.column_names
    assert "response" not in lazy.recordings.column_names
    assert lazy.sha256 == eager.sha256
    rows = np.array([33, 2, 17, 2, 39])  # out of order, repeated, across row groups
    for table, name in (("examples", "messages"), ("recordings", "response")):
        expected = eager.examples if table == "examples" else eager.recordings
        got = lazy.take(table, name, rows).to_pylist()  # type: ignore[arg-type]
        assert got == [expected.column(name)[int(r)].as_py() for r in rows]
        assert lazy.column(table, name).to_pylist() == expected.column(name).to_pylist()  # type: ignore[arg-type]
        assert lazy.whole(table).select(expected.column_names).equals(expected)  # type: ignore[arg-type]
    for name in eager.examples.column_names:
        if name != "messages":
            assert lazy.examples.column(name).equals(eager.examples.column(name)), name


def test_messages_load_eagerly_unless_statistics_prove_them_present(tmp_path: Path) -> None:
    """An empty message list, a file without statistics, or no input_tokens: messages are read and checked."""
    import pyarrow.parquet as pq

    examples = [example_row(i, input_tokens=5) for i in range(4)]
    folder = write_suite(tmp_path / "s", examples)
    pq.write_table(pa.Table.from_pylist(examples), folder / "examples.parquet", write_statistics=False)
    assert "messages" in load_suite(folder).examples.column_names
    examples[2]["messages"] = None
    _write_parquet(folder / "examples.parquet", examples, 2)
    with pytest.raises(InputError) as info:
        load_suite(folder)
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (3, "messages")
    assert problem.col == list(examples[0]).index("messages") + 1
    examples[2]["messages"] = []
    _write_parquet(folder / "examples.parquet", examples, 2)
    assert "messages" in load_suite(folder).examples.column_names  # allowed, but not provably non-empty


@pytest.mark.parametrize("kind", ["float64", "int64", "float32"])
def test_value_bounds_agree_with_arrows_min_max(kind: str) -> None:
    """The numpy reduction behind the range checks: nulls and NaN skipped, NaN when every value is NaN."""
    from routegate.load.checks import _bounds

    rng = np.random.default_rng(7)
    cases: list[list[object]] = [[None, None], [float("nan"), None], [1, None, 3], [-2, 5], []]
    cases += [rng.normal(size=50).round(2).tolist() for _ in range(5)]
    for values in cases:
        if kind.startswith("int"):
            values = [None if v is None or v != v else int(v * 10) for v in values]  # type: ignore[operator]
        for chunks in ([values], [values[:1], values[1:]], [values, [None]]):
            column = pa.chunked_array([pa.array(c, getattr(pa, kind)()) for c in chunks], getattr(pa, kind)())
            expected = pc.min_max(column)
            low, high = _bounds(column)
            for got, want in ((low, expected["min"].as_py()), (high, expected["max"].as_py())):
                assert (got is None) == (want is None), (values, chunks)
                if want is not None:
                    assert got == want or (math.isnan(got) and math.isnan(want)), (values, chunks)
