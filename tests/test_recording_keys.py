"""The recordings' integer join keys: index matrix and duplicate detection, against a dict reference."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from routegate.suite import RecordingKeys


def tables(rec_rows: list[tuple[str | None, str | None]]) -> tuple[pa.Table, pa.Table]:
    examples = pa.table({"id": pa.array(["a", "b", "c"], pa.string())})
    recordings = pa.table(
        {
            "example_id": pa.array([r[0] for r in rec_rows], pa.string()),
            "model": pa.array([r[1] for r in rec_rows], pa.string()),
        }
    )
    return examples, recordings


def test_index_matches_a_dict_reference() -> None:
    rows = [("a", "m1"), ("b", "m2"), ("zz", "m1"), ("c", None), ("c", "m1"), ("a", "m3")]
    examples, recordings = tables(rows)
    keys = RecordingKeys.of(recordings, examples)
    matrix = keys.index(3, ("m1", "m2", "unrecorded"))
    expected = np.full((3, 3), -1)
    ids = {"a": 0, "b": 1, "c": 2}
    models = {"m1": 0, "m2": 1, "unrecorded": 2}
    for row, (example, model) in enumerate(rows):
        if example in ids and model in models:
            expected[ids[example], models[model]] = row
    assert matrix.tolist() == expected.tolist()
    assert keys.example.tolist() == [0, 1, -1, 2, 2, 0]


@pytest.mark.parametrize("seed", range(5))
def test_duplicates_mark_every_repeat_after_the_first(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [(str(rng.choice(["a", "b", "c", "x"])), str(rng.choice(["m1", "m2"]))) for _ in range(40)]
    examples, recordings = tables(rows)
    got = RecordingKeys.of(recordings, examples).duplicates()
    seen: set[tuple[str, str]] = set()
    expected = []
    for pair in rows:
        known = pair[0] != "x"  # unknown examples are reported as unknown, not as duplicates
        expected.append(known and pair in seen)
        seen.add(pair)
    assert got.tolist() == expected
