"""``floats.float_values``: numeric Arrow columns as float64 numpy arrays, null as NaN."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from routegate.floats import float_values

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
