"""The recordings' integer join keys: index matrix and duplicate detection, against a dict reference."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from routegate.load.recordings import RecordingKeys


def tables(rec_rows: Sequence[tuple[str | None, str | None]]) -> tuple[pa.Table, pa.Table]:
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
    assert keys.example_rows().tolist() == [0, 1, -1, 2, 2, 0]


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


def _hash_join(recordings: pa.Table, examples: pa.Table) -> RecordingKeys:
    """The general path, whatever the layout: rows shuffled so no model-block layout is recognised."""
    order = np.random.default_rng(0).permutation(recordings.num_rows)
    keys = RecordingKeys.of(recordings.take(pa.array(order)), examples)
    assert not keys.unique_pairs
    assert keys.example is not None  # the hash join spells out every row's example
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return RecordingKeys(example=keys.example[inverse], model=keys.model[inverse], models=keys.models)


def test_model_blocks_give_the_hash_joins_keys() -> None:
    ids = [f"e{i}" for i in range(50)]
    examples = pa.table({"id": pa.array(ids)})
    recordings = pa.table({"example_id": pa.array(ids * 3), "model": pa.array(["m1"] * 50 + ["m2"] * 50 + ["m3"] * 50)})
    keys = RecordingKeys.of(recordings, examples)
    assert keys.unique_pairs
    reference = _hash_join(recordings, examples)
    assert keys.example_rows().tolist() == reference.example_rows().tolist()
    assert [keys.models[m] for m in keys.model] == [reference.models[m] for m in reference.model]
    assert np.array_equal(keys.index(50, ("m2", "m3")), reference.index(50, ("m2", "m3")))
    assert not keys.duplicates().any()


@pytest.mark.parametrize(
    "change",
    ["repeated model block", "mixed models in a block", "other example order", "missing recording", "null model"],
)
def test_layouts_that_are_not_model_blocks_take_the_hash_join(change: str) -> None:
    ids = [f"e{i}" for i in range(6)]
    example_id, model = ids * 2, ["m1"] * 6 + ["m2"] * 6
    if change == "repeated model block":
        model = ["m1"] * 12
    elif change == "mixed models in a block":
        model[3], model[9] = "m2", "m1"
    elif change == "other example order":
        example_id[6:] = ids[::-1]
    elif change == "missing recording":
        example_id, model = example_id[:-1], model[:-1]
    else:
        model[2] = None  # type: ignore[call-overload]
    examples = pa.table({"id": pa.array(ids)})
    recordings = pa.table({"example_id": pa.array(example_id), "model": pa.array(model, pa.string())})
    keys = RecordingKeys.of(recordings, examples)
    assert not keys.unique_pairs
    rows = list(zip(example_id, model, strict=True))
    assert keys.example_rows().tolist() == [ids.index(e) for e in example_id]
    assert keys.duplicates().tolist() == [pair in rows[:i] and pair[1] is not None for i, pair in enumerate(rows)]


def test_in_model_blocks_orders_any_layout_into_blocks() -> None:
    from routegate.load.recordings import in_model_blocks

    ids = [f"e{i}" for i in range(5)]
    examples = pa.table({"id": pa.array(ids)})
    rows = [(e, m) for m in ("m2", "m1") for e in ids]
    shuffled = [rows[i] for i in np.random.default_rng(3).permutation(len(rows))]
    recordings = pa.table(
        {"example_id": [r[0] for r in shuffled], "model": [r[1] for r in shuffled], "n": range(len(shuffled))}
    )
    blocked = in_model_blocks(recordings, examples)
    keys = RecordingKeys.of(blocked, examples)
    assert keys.unique_pairs  # recognised without the hash join
    assert sorted(blocked.to_pylist(), key=lambda r: r["n"]) == recordings.to_pylist()  # same rows
    first = shuffled[0][1]
    assert blocked.column("model").to_pylist()[:5] == [first] * 5


def test_rows_of_reads_model_blocks_as_slices_and_other_layouts_by_index() -> None:
    """The same recording rows either way; only fully recorded models are listed."""
    ids = [f"e{i}" for i in range(40)]
    examples = pa.table({"id": pa.array(ids)})
    model = ["m2"] * 40 + ["m1"] * 40 + ["m3"] * 40
    recordings = pa.table({"example_id": pa.array(ids * 3), "model": pa.array(model)})
    blocks = RecordingKeys.of(recordings, examples)
    hashed = _hash_join(recordings, examples)
    wanted = ("m1", "m2", "m3", "unrecorded")
    by_blocks, by_index = blocks.rows_of(40, wanted), hashed.rows_of(40, wanted)
    assert list(by_blocks) == list(by_index) == ["m1", "m2", "m3"]
    assert by_blocks["m1"] == slice(40, 80)
    for name in ("m1", "m2", "m3"):
        rows = by_index[name]
        assert isinstance(rows, np.ndarray)
        assert np.arange(120)[by_blocks[name]].tolist() == rows.tolist()
        assert np.asarray(model)[rows].tolist() == [name] * 40
    partial = pa.table({"example_id": pa.array(ids + ids[:-1]), "model": pa.array(["m1"] * 40 + ["m2"] * 39)})
    assert list(RecordingKeys.of(partial, examples).rows_of(40, ("m1", "m2"))) == ["m1"]
    assert blocks.rows_of(0, wanted) == {}


def test_block_starts_locate_each_models_block_and_only_in_model_blocks() -> None:
    ids = [f"e{i}" for i in range(5)]
    examples = pa.table({"id": pa.array(ids)})
    recordings = pa.table({"example_id": pa.array(ids * 2), "model": pa.array(["m2"] * 5 + ["m1"] * 5)})
    keys = RecordingKeys.of(recordings, examples)
    starts = keys.block_starts(5, ("m1", "m2", "none"))
    assert starts is not None
    assert starts.tolist() == [5, 0, -1]
    assert _hash_join(recordings, examples).block_starts(5, ("m1",)) is None


def test_the_recorded_provider_answers_the_same_from_block_starts_and_from_the_index(tmp_path: Path) -> None:
    """A suite whose recordings are in model blocks and the same recordings shuffled (so joined by the
    index matrix): every call, recorded or missing, gets the same answer."""
    from routegate.importers.synthetic import write_synthetic_suite
    from routegate.load.suite import load_suite
    from routegate.providers.base import CallBatch
    from routegate.providers.recorded import RecordedProvider

    blocks = write_synthetic_suite(tmp_path / "blocks", 500, seed=3)
    shuffled = tmp_path / "shuffled"
    shutil.copytree(blocks, shuffled)
    table = pq.read_table(shuffled / "recordings.parquet")
    table = table.take(pa.array(np.random.default_rng(1).permutation(table.num_rows)))
    pq.write_table(table, shuffled / "recordings.parquet")
    by_block, by_index = load_suite(blocks), load_suite(shuffled)
    models = (*sorted(set(by_block.recording_keys().models)), "never-recorded")
    a = RecordedProvider.from_suite(by_block, models)
    b = RecordedProvider.from_suite(by_index, models)
    assert a.starts is not None
    assert b.starts is None
    rng = np.random.default_rng(2)
    request = rng.integers(0, 500, 2000)
    model = rng.integers(0, len(models), 2000).astype(np.int16)
    batch = CallBatch(request, model, models, np.zeros(2000), np.zeros(2000, np.int16), want_text=True)
    assert a.missing(request, model).tolist() == b.missing(request, model).tolist()
    assert a.missing(request, model).any()
    ra, rb = a.call(batch), b.call(batch)
    for name in ("error", "input_tokens", "output_tokens", "latency_ms", "confidence", "quality"):
        np.testing.assert_array_equal(getattr(ra, name), getattr(rb, name), err_msg=name)
    assert ra.response.to_pylist() == rb.response.to_pylist()
