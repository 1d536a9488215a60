"""Numeric Arrow columns as float64 numpy arrays, null as NaN, in memory numpy allocates.

``pc.fill_null(column, nan).to_numpy()`` or ``to_numpy(zero_copy_only=False)`` build the result in
Arrow's memory pool; here the values are copied straight from each chunk's buffer into one numpy
array, and only a chunk with nulls has its validity bitmap unpacked.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

FLOAT = pa.float64()


def float_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """float64 copy of a numeric column (cast when needed), null -> NaN."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = np.empty(len(column), dtype=np.float64)
    start = 0
    for chunk in chunks:
        if chunk.type != FLOAT:
            chunk = chunk.cast(FLOAT)
        part = out[start : start + len(chunk)]
        values = _values(chunk)
        if values is None:
            part[:] = np.nan
        else:
            part[:] = values
            if chunk.null_count:
                np.copyto(part, np.nan, where=_nulls(chunk))
        start += len(chunk)
    return out


def float_view(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, mask of the nulls or ``None``) of a numeric column: for one float64 chunk a read-only view
    of its buffer and its unpacked validity (a null's slot holds no meaningful value: mask it), else
    :func:`float_values`' copy and no mask. At 4M rows the view saves 32 MB of fresh memory."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if len(chunks) == 1 and chunks[0].type == FLOAT:
        values = _values(chunks[0])
        if values is not None:
            return values, _nulls(chunks[0]) if chunks[0].null_count else None
    return float_values(column), None


def _values(chunk: pa.Array) -> np.ndarray | None:
    """The float64 values of a chunk, a view of its buffer (a null's slot means nothing); ``None`` when
    every value is null."""
    data = chunk.buffers()[1]
    if len(chunk) == chunk.null_count or data is None:
        return None
    return np.frombuffer(data, dtype=np.float64, count=chunk.offset + len(chunk))[chunk.offset :]


def _nulls(chunk: pa.Array) -> np.ndarray:
    """Mask of the null rows of a chunk that has some, from its validity bitmap."""
    size = chunk.offset + len(chunk)
    valid = np.unpackbits(np.frombuffer(chunk.buffers()[0], dtype=np.uint8), count=size, bitorder="little")
    return np.asarray(valid[chunk.offset :] == 0)
