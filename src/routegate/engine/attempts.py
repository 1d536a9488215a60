"""The attempts table of a replay: one row per call, its columns and the buffers a replay writes them into.

The attempt loop (``routegate.engine.replay``) reserves rows for each batch
step's calls and writes their columns in place; once every request has ended,
the buffers become ``Replay.attempts``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

FIRST, FALLBACK, ESCALATION = 0, 1, 2
"""Attempt kinds: a request's first call, a call after a failed one along the chain, a call in an escalated tier."""
ATTEMPT_KINDS: tuple[str, ...] = ("first", "fallback", "escalation")
"""The names of the attempt kinds, by kind code (the ``kind`` column's dictionary)."""

ATTEMPT_COLUMNS: dict[str, type] = {
    "request": np.int64,
    "attempt": np.int16,
    "model": np.int32,  # int32: the index type of the dictionary arrays of the attempts table
    "tier": np.int32,
    "kind": np.int32,
    "error": np.int8,
    "input_tokens": np.int64,
    "output_tokens": np.int64,
    "cost_usd": np.float64,
    "latency_ms": np.float64,
    "start_ms": np.float64,
    "source_row": np.int64,
    "quality": np.float64,
}
"""The buffered column of each call and its dtype."""


class AttemptBuffers:
    """The columns of every call, written step by step into buffers (no per-step chunks to concatenate).

    A buffer's pages are only touched where calls are written, so a generous capacity costs
    address space, not memory; when a run needs more, the buffers grow (a copy) by doubling.
    """

    def __init__(self, capacity: int) -> None:
        self.buffers: dict[str, np.ndarray] = {
            name: np.empty(capacity, dtype) for name, dtype in ATTEMPT_COLUMNS.items()
        }
        self.responses: list[pa.Array] = []
        self.size = 0

    def reserve(self, count: int) -> slice:
        """The attempt rows of the next ``count`` calls."""
        capacity = len(self.buffers["request"])
        if self.size + count > capacity:
            grown = max(2 * capacity, self.size + count)
            for name, old in self.buffers.items():
                self.buffers[name] = np.empty(grown, old.dtype)
                self.buffers[name][: self.size] = old[: self.size]
        rows = slice(self.size, self.size + count)
        self.size += count
        return rows

    def out(self, name: str, rows: slice) -> np.ndarray:
        """The buffer rows of column ``name`` (a view, to write into)."""
        return self.buffers[name][rows]

    def column(self, name: str) -> np.ndarray:
        """Column ``name`` of every call written so far (a view)."""
        return self.buffers[name][: self.size]

    def table(self, models: tuple[str, ...], tiers: tuple[str, ...]) -> pa.Table:
        """``Replay.attempts``: the calls' columns, with model, tier and kind as dictionary arrays."""
        return pa.table(
            {
                "request": self.column("request"),
                "attempt": self.column("attempt"),
                "model": pa.DictionaryArray.from_arrays(
                    pa.array(self.column("model")), pa.array(list(models), pa.string())
                ),
                "tier": pa.DictionaryArray.from_arrays(
                    pa.array(self.column("tier")), pa.array(list(tiers), pa.string())
                ),
                "kind": pa.DictionaryArray.from_arrays(pa.array(self.column("kind")), pa.array(list(ATTEMPT_KINDS))),
                "error": self.column("error"),
                "input_tokens": self.column("input_tokens"),
                "output_tokens": self.column("output_tokens"),
                "cost_usd": self.column("cost_usd"),
                "latency_ms": self.column("latency_ms"),
                "start_ms": self.column("start_ms"),
            }
        )
