"""Numeric Arrow columns as float64 numpy arrays, null as NaN, in memory numpy allocates.

``pc.fill_null(column, nan).to_numpy()`` or ``to_numpy(zero_copy_only=False)`` build the result in
Arrow's memory pool, whose fresh 2 MiB pages are slow to fault in on the benchmark machine when
the host has reclaimed them (docs/performance.md); a copy into a numpy array lands in the heap
the CLI pre-touched (``routegate.memory``) and is as fast. The values are copied straight from
each chunk's buffer, and only a chunk with nulls has its validity bitmap unpacked.
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
        n, offset = len(chunk), chunk.offset
        part = out[start : start + n]
        validity, data = chunk.buffers()[:2]
        if n == chunk.null_count or data is None:
            part[:] = np.nan
        else:
            part[:] = np.frombuffer(data, dtype=np.float64, count=offset + n)[offset:]
            if chunk.null_count:
                valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + n, bitorder="little")
                np.copyto(part, np.nan, where=valid[offset:] == 0)
        start += n
    return out
