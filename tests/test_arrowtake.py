"""take_rows equals pyarrow's take, chunk boundaries, order and repeats included."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from routegate.arrow.take import take_rows


@pytest.mark.parametrize("seed", range(4))
def test_take_rows_equals_take(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 6, size=5)
    chunks = [
        pa.array([f"c{k}r{i}" if rng.random() > 0.2 else None for i in range(n)], pa.string())
        for k, n in enumerate(sizes)
    ]
    column = pa.chunked_array(chunks, pa.string())
    if len(column) == 0:
        return
    rows = rng.integers(0, len(column), size=12)
    assert take_rows(column, rows).to_pylist() == column.take(pa.array(rows)).to_pylist()
    assert take_rows(column.combine_chunks(), rows).to_pylist() == column.take(pa.array(rows)).to_pylist()
    assert take_rows(column, np.array([], dtype=np.int64)).to_pylist() == []
