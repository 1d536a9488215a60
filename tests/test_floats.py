"""``routegate.arrow.floats``: numeric Arrow columns as float64 numpy arrays, null as NaN (or a mask)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from routegate.arrow.floats import float_values, float_view

RNG = np.random.default_rng(0)
CASES = {
    "nulls": pa.array([1.0, None, 3.0]),
    "all null": pa.array([None, None], pa.float64()),
    "pa.nulls": pa.nulls(3, pa.float64()),
    "ints with nulls": pa.array([1, None, 5], pa.int64()),
    "int32": pa.array([1, 2], pa.int32()),
    "empty": pa.array([], pa.float64()),
    "NaN and null, sliced": pa.array([1.5, float("nan"), None]).slice(1),
    "chunks, one sliced": pa.chunked_array([pa.array([1.0, None]), pa.array([None, 2.0, 3.0]).slice(1)]),
    "masked, odd offsets": pa.array(RNG.normal(size=1000), mask=RNG.random(1000) < 0.3).slice(5, 990),
    "no nulls, sliced": pa.array(RNG.normal(size=1003)).slice(3, 900),
    "no chunks": pa.chunked_array([], pa.float64()),
}


@pytest.mark.parametrize("name", list(CASES))
def test_float_values_equal_arrows_own_conversion(name: str) -> None:
    column = CASES[name]
    expected = np.asarray(pc.fill_null(column.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False), np.float64)
    got = float_values(column)
    assert got.dtype == np.float64
    assert got.flags.writeable  # a copy the caller owns
    np.testing.assert_array_equal(got, expected)


def test_the_recorded_provider_reads_one_chunk_through_its_buffer_and_masks_the_nulls() -> None:
    """One float64 chunk: the values plus a null mask; several chunks: floats' copy with NaN. Both read
    the same values, NaN where nothing was recorded, and what is picked is the caller's to change."""
    from routegate.providers.recorded import _masked

    values = [0.5, None, 1.0, None, 0.0, 0.25]
    one = pa.table({"quality": pa.array(values, pa.float64()).slice(1)})  # an offset too
    two = pa.table({"quality": pa.chunked_array([pa.array(values[1:3]), pa.array(values[3:])], pa.float64())})
    view, nulls = float_view(one.column("quality"))
    copy, none = float_view(two.column("quality"))
    assert nulls is not None
    assert none is None
    expected = [np.nan, 1.0, np.nan, 0.0, 0.25]
    for rows in (np.array([4, 3, 0, 2, 1]), slice(0, 5), slice(1, 3)):
        want = np.array(expected)[rows]
        np.testing.assert_array_equal(_masked(view, nulls, rows), want)
        np.testing.assert_array_equal(_masked(copy, none, rows), want)
    picked = _masked(view, nulls, slice(0, 5))
    picked[:] = 7.0  # a new array: the recordings are untouched
    np.testing.assert_array_equal(_masked(view, nulls, slice(0, 5)), np.array(expected))
