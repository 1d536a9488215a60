"""String keys and the duplicate-id check built on them: equal strings, equal keys; the check finds
exactly the repeats an exact comparison finds, whatever the keys say."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import routegate.arrow.strbytes as strbytes
from routegate.arrow.strbytes import bytes_at, string_keys, string_words
from routegate.load.checks import _duplicate_strings


def _reference_duplicates(values: list[str | None]) -> list[bool]:
    seen: set[str] = set()
    out = []
    for v in values:
        key = "" if v is None else v
        out.append(key in seen)
        seen.add(key)
    return out


texts = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["", "a", "r1", "r10", "é", "x" * 17]))


@settings(max_examples=300, deadline=None)
@given(values=st.lists(texts, max_size=60), split=st.integers(0, 60), chunk=st.sampled_from([1, 3, 1 << 15]))
def test_duplicate_strings_are_the_exact_repeats(values: list[str | None], split: int, chunk: int) -> None:
    strbytes_chunk = strbytes.KEY_CHUNK
    strbytes.KEY_CHUNK = chunk  # small chunks: the chunk boundaries are exercised too
    try:
        split = min(split, len(values))
        column = pa.chunked_array([pa.array(values[:split], pa.string()), pa.array(values[split:], pa.string())])
        assert _duplicate_strings(column).tolist() == _reference_duplicates(values)
    finally:
        strbytes.KEY_CHUNK = strbytes_chunk


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(max_size=30), min_size=1, max_size=40), offset=st.integers(0, 10))
def test_equal_strings_have_equal_keys_wherever_they_sit(values: list[str], offset: int) -> None:
    """A key depends on the string's bytes alone: not on its neighbours, its alignment in the data
    buffer or an array offset (a slice)."""
    padded = pa.array(["y" * k for k in range(offset)] + values, pa.string()).slice(offset)
    keys = string_keys(padded)
    alone = np.array([string_keys(pa.array([v], pa.string()))[0] for v in values], dtype=np.uint64)
    assert keys.tolist() == alone.tolist()


def test_keys_tell_distinct_ids_apart() -> None:
    """A million distinct ids of the benchmark's shape get a million distinct keys (so the check
    proves them distinct without the exact path), and so do their large-string forms."""
    ids = pa.array([f"r{i}" for i in range(1_000_000)], pa.string())
    keys = string_keys(ids)
    assert np.unique(keys).size == len(ids)
    assert np.array_equal(string_keys(ids.cast(pa.large_string())), keys)
    assert not _duplicate_strings(pa.chunked_array([ids])).any()


@pytest.mark.parametrize("pos", range(17))
def test_bytes_at_reads_any_alignment(pos: int) -> None:
    text = "".join(chr(c) for c in range(1, 33))  # 32 ASCII bytes, each its own value
    words, start, length = string_words(pa.array([text], pa.string()))
    expected = int.from_bytes(text.encode()[pos : pos + 8].ljust(8, b"\0"), "little")
    assert int(bytes_at(words, np.array([pos]))[0]) == expected
    assert start.tolist() == [0]
    assert length.tolist() == [32]


def test_a_null_is_an_empty_id_whatever_its_slot_holds() -> None:
    """Arrow lets a null's slot hold bytes: the check still counts every null as "" (a repeat of
    another null or of an empty id), as the exact comparison does."""
    offsets = pa.array([0, 2, 4, 6], pa.int32())
    data = pa.py_buffer(b"r1r2r3")
    validity = pa.array([True, False, False]).buffers()[1]
    ids = pa.StringArray.from_buffers(3, offsets.buffers()[1], data, validity, null_count=2)
    assert ids.to_pylist() == ["r1", None, None]
    assert _duplicate_strings(pa.chunked_array([ids])).tolist() == [False, False, True]
    one = pa.StringArray.from_buffers(
        2,
        pa.array([0, 0, 2], pa.int32()).buffers()[1],
        pa.py_buffer(b"zz"),
        pa.array([True, False]).buffers()[1],
        null_count=1,
    )
    assert one.to_pylist() == ["", None]
    assert _duplicate_strings(pa.chunked_array([one])).tolist() == [False, True]
