"""Label columns (``routegate.arrow.labels``): dictionary-encoded from the parquet file onwards, the same
values, rules, join keys and results as plain strings, whatever the order of a file's dictionaries."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import default_examples, default_recordings, example_row, write_suite
from routegate.arrow.labels import LABEL, as_labels, decoded, label_codes, label_in, label_map
from routegate.errors import InputError
from routegate.importers.synthetic import write_synthetic_suite
from routegate.load.suite import load_suite
from routegate.load.tables import LABEL_COLUMNS

ROUTEGATE = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")


def _columns() -> dict[str, pa.ChunkedArray]:
    """The same values as plain strings, as one dictionary, as dictionaries that differ per chunk,
    with another index type, and with a dictionary in reverse (not first-seen) order."""
    values = ["b", "a", None, "b", "c", "a", "", None, "c"]
    plain = pa.array(values, pa.string())
    reverse = pa.DictionaryArray.from_arrays(
        pa.array([{"": 3, "a": 2, "b": 1, "c": 0}[v] if v is not None else None for v in values], pa.int32()),
        pa.array(["c", "b", "a", ""]),
    )
    return {
        "plain": pa.chunked_array([plain.slice(0, 4), plain.slice(4)]),
        "dictionary": pa.chunked_array([plain.dictionary_encode()]),
        "per chunk": pa.chunked_array([plain.slice(0, 4).dictionary_encode(), plain.slice(4).dictionary_encode()]),
        "int8": pa.chunked_array([plain.dictionary_encode().cast(pa.dictionary(pa.int8(), pa.string()))]),
        "reverse": pa.chunked_array([reverse]),
    }


@pytest.mark.parametrize("kind", list(_columns()))
def test_labels_keep_every_value(kind: str) -> None:
    column = _columns()[kind]
    labels = as_labels(column)
    assert labels.type == LABEL
    assert labels.to_pylist() == column.to_pylist()
    codes, names = label_codes(column)
    assert codes.dtype == np.int32
    assert len(set(names)) == len(names)
    assert [names[c] if c >= 0 else None for c in codes.tolist()] == column.to_pylist()


@pytest.mark.parametrize("kind", list(_columns()))
def test_membership_and_lookup_agree_with_arrow(kind: str) -> None:
    column = _columns()[kind]
    plain = column.cast(pa.string())
    for wanted in [("a",), ("a", "c"), ("",), ("zzz",), ()]:
        expected = pc.fill_null(pc.is_in(plain, value_set=pa.array(list(wanted), pa.string())), False)
        assert label_in(column, wanted).tolist() == expected.to_pylist(), wanted
    mapped = label_map(column, {"a": 1, "b": 2, "": 7}, -1, dtype=np.int8)
    assert mapped.tolist() == [{"a": 1, "b": 2, "": 7}.get(v, -1) if v is not None else -1 for v in plain.to_pylist()]


def test_plain_strings_get_codes_in_first_seen_order() -> None:
    codes, names = label_codes(pa.chunked_array([pa.array(["y", "x"]), pa.array(["z", "y", None])]))
    assert names == ["y", "x", "z"]
    assert codes.tolist() == [0, 1, 2, 0, -1]


def test_decoded_gives_the_plain_types() -> None:
    table = pa.table(
        {
            "name": as_labels(pa.array(["a", None])),
            "names": pa.array([["x"], []], pa.list_(LABEL)),
            "n": pa.array([1, 2]),
        }
    )
    plain = decoded(table)
    assert plain.schema == pa.schema([("name", pa.string()), ("names", pa.list_(pa.string())), ("n", pa.int64())])
    assert plain.to_pylist() == table.to_pylist()


def test_a_loaded_suite_holds_label_columns(tmp_path: Path) -> None:
    examples = [example_row(i, stakes=["normal", "high"][i % 2], sla=["batch", "interactive"][i % 2]) for i in range(6)]
    recordings = default_recordings(examples, ["gpt-small", "claude-mid"])
    recordings[1]["error"] = "timeout"
    for table in ("p", "j"):
        names = {} if table == "p" else {"examples": "examples.jsonl", "recordings": "recordings.jsonl"}
        suite = load_suite(write_suite(tmp_path / table, examples, recordings, **names))
        for name in LABEL_COLUMNS["examples"]:
            assert suite.examples.column(name).type == LABEL, (table, name)
        for name in LABEL_COLUMNS["recordings"]:
            assert suite.recordings.column(name).type == LABEL, (table, name)
        assert suite.examples.column("stakes").to_pylist() == [e["stakes"] for e in examples]
        assert suite.recordings.column("error").to_pylist() == [r["error"] or "" for r in recordings]
        keys = suite.recording_keys()
        assert [keys.models[m] for m in keys.model.tolist()] == [r["model"] for r in recordings]


def test_bad_values_in_label_columns_are_still_reported(tmp_path: Path) -> None:
    examples = default_examples(3)
    examples[1]["stakes"] = "extreme"
    with pytest.raises(InputError) as raised:
        load_suite(write_suite(tmp_path / "e", examples))
    assert [p.format() for p in raised.value.problems] == [
        f"{tmp_path / 'e' / 'examples.parquet'}:2:5: stakes: unknown stakes; allowed: low, normal, high; "
        "row 2 has 'extreme'"
    ]
    recordings = default_recordings(default_examples(3))
    recordings[2]["error"] = "melted"
    with pytest.raises(InputError) as raised:
        load_suite(write_suite(tmp_path / "r", default_examples(3), recordings))
    (problem,) = raised.value.problems
    assert (problem.line, problem.field) == (3, "error")
    assert "unknown error kind" in problem.message
    assert "'melted'" in problem.message


def _rewrite_with_reversed_dictionaries(folder: Path) -> None:
    """The suite's label columns stored as dictionaries in reverse order (as another writer might)."""
    for file, names in (
        ("examples.parquet", LABEL_COLUMNS["examples"]),
        ("recordings.parquet", LABEL_COLUMNS["recordings"]),
    ):
        table = pq.read_table(folder / file)
        for name in names:
            if name not in table.column_names:
                continue
            plain = table.column(name).combine_chunks()
            values = sorted({v for v in plain.to_pylist() if v is not None}, reverse=True)
            index = pc.index_in(plain, value_set=pa.array(values, pa.string()))
            column = pa.DictionaryArray.from_arrays(index.cast(pa.int32()), pa.array(values, pa.string()))
            table = table.set_column(table.column_names.index(name), name, column)
        pq.write_table(table, folder / file, row_group_size=1000)


def test_outputs_do_not_depend_on_the_files_dictionary_order(tmp_path: Path) -> None:
    """Codes are only ever compared, never ordered by: a gate over the same values stored with other
    dictionaries writes the same verdict.json and summary.md."""
    plain = write_synthetic_suite(tmp_path / "plain", 3000, seed=5)
    other = tmp_path / "other"
    shutil.copytree(plain, other)
    _rewrite_with_reversed_dictionaries(other)
    assert load_suite(other).recording_keys().models != load_suite(plain).recording_keys().models
    outputs = {}
    for folder in (plain, other):
        out = tmp_path / f"out-{folder.name}"
        args = ["gate", "--baseline", str(folder / "policy.yaml"), "--candidate", str(folder / "candidate.yaml")]
        done = subprocess.run(
            [ROUTEGATE, *args, "--suite", str(folder), "--out", str(out), "--no-progress"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr

        texts = [(out / f).read_text() for f in ("verdict.json", "summary.md", "junit.xml")]
        # The files' bytes (so their sha256) and folders differ; every value must not.
        outputs[folder.name] = [
            re.sub(r"[0-9a-f]{64}", "SHA", t.replace(str(folder), "SUITE").replace(str(out), "OUT")) for t in texts
        ]
    assert outputs["plain"] == outputs["other"]
    assert json.loads(outputs["plain"][0])["deltas"]["overall"]  # a real comparison, not two empty ones
