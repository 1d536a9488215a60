"""``take`` from a chunked Arrow column without concatenating it.

pyarrow's ``ChunkedArray.take`` concatenates the chunks of a string column
before taking (about 0.17 s for 4M answer texts, for however few rows). This
takes from each chunk only the rows that live there, which is what a report
listing twenty answers needs.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def take_rows(column: pa.ChunkedArray | pa.Array, rows: np.ndarray) -> pa.Array:
    """``column[rows]`` as one array, in the order of ``rows``."""
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(column, pa.Array):
        return column.take(pa.array(rows))
    if column.num_chunks == 1:
        return column.chunk(0).take(pa.array(rows))
    if rows.size == 0:
        return pa.array([], column.type)
    starts = np.zeros(column.num_chunks + 1, dtype=np.int64)
    np.cumsum([len(c) for c in column.chunks], out=starts[1:])
    chunk_of = np.searchsorted(starts, rows, side="right") - 1
    order = np.argsort(chunk_of, kind="stable")
    pieces = []
    for k in np.unique(chunk_of):
        picked = order[chunk_of[order] == k]
        pieces.append(column.chunk(int(k)).take(pa.array(rows[picked] - starts[k])))
    gathered = pa.concat_arrays(pieces)
    inverse = np.empty(rows.size, dtype=np.int64)
    inverse[order] = np.arange(rows.size)
    return gathered.take(pa.array(inverse))
