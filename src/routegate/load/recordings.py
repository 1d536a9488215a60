"""The recordings' join index: which recording answers (example, model), found by one sort of 64-bit keys.

Recordings written in model blocks (every model's recordings in the examples' order, as
``routegate import``, ``routegate record`` and the synthetic suites write them) need no index
at all: a call's row is its block's start plus the example's row.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.labels import label_codes


@dataclass(frozen=True)
class RecordingKeys:
    """Each recording's example row and model, as integers: the join key of every replay.

    Computed once per suite (one hash pass over the example ids), then shared by
    validation, coverage and the recorded provider, which only index numpy arrays.
    """

    example: np.ndarray | None
    """int64 per recording: row of its example in the examples table, -1 when unknown; ``None`` for
    recordings in model blocks (``_model_blocks``), where row i of every block is example i
    (:meth:`example_rows` spells it out)."""
    model: np.ndarray
    """int32 per recording: index into ``models``, -1 when empty."""
    models: tuple[str, ...]
    """Distinct model ids of the recordings, in order of first appearance (``labels.label_codes``)."""
    cache: dict[tuple[int, tuple[str, ...]], np.ndarray] = field(default_factory=dict, compare=False, repr=False)
    """Index matrices already built (read-only), by (examples, models)."""

    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)
    unique_pairs: bool = False
    """Known, from the layout, that no (example, model) pair repeats (``duplicates`` then has nothing to find)."""
    block_rows: int = 0
    """Rows of each model block (the examples table's), when :attr:`example` is ``None``."""

    @classmethod
    def of(cls, recordings: pa.Table, examples: pa.Table) -> RecordingKeys:
        ids = examples.column("id").combine_chunks()
        model, names = label_codes(recordings.column("model"))
        models = tuple(str(m) for m in names)
        if _model_blocks(recordings.column("example_id"), ids, model):
            return cls(example=None, model=model, models=models, unique_pairs=True, block_rows=len(ids))
        example = pc.index_in(recordings.column("example_id"), value_set=ids)
        return cls(
            example=np.asarray(pc.fill_null(example, -1).to_numpy(zero_copy_only=False), dtype=np.int64),
            model=model,
            models=models,
        )

    def example_rows(self) -> np.ndarray:
        """:attr:`example`, spelt out for model blocks (32 MB at 4M recordings: only writers need it)."""
        if self.example is not None:
            return self.example
        return np.tile(np.arange(self.block_rows, dtype=np.int64), self.model.size // self.block_rows)

    def in_blocks(self, n_examples: int) -> bool:
        """Whether the recordings are in model blocks of ``n_examples`` rows each."""
        return self.example is None and n_examples > 0 and n_examples == self.block_rows

    def index(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray:
        """int64 matrix [example row, position in ``models``] -> recording row, or -1 where none (read-only)."""
        with self.lock:  # two runs in parallel threads build it once
            cached = self.cache.get((n_examples, models))
            if cached is None:
                cached = self._index(n_examples, models)
                cached.flags.writeable = False
                self.cache[(n_examples, models)] = cached
            return cached

    def block_starts(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray | None:
        """When the recordings are in model blocks (``_model_blocks``): int64 per position in ``models``,
        the first row of that model's block (-1: no recordings of it), so that the recording of
        (example i, model j) is row ``starts[j] + i``. ``None`` for any other layout."""
        if not self.in_blocks(n_examples):
            return None
        position = {m: j for j, m in enumerate(models)}
        starts = np.full(len(models), -1, dtype=np.int64)
        for start in range(0, self.model.size, n_examples):
            code = self.model[start]
            j = position.get(self.models[code], -1) if code >= 0 else -1
            if j >= 0:
                starts[j] = start
        return starts

    def rows_of(self, n_examples: int, models: tuple[str, ...]) -> dict[str, slice | np.ndarray]:
        """The recording row of each example, for each of ``models`` recorded for every example: a
        slice when the recordings are in model blocks (``block_starts``: one contiguous run of rows
        per model, read as views), else an index array. Models missing some example are left out (all
        of them, for an empty examples table)."""
        if not n_examples:
            return {}
        starts = self.block_starts(n_examples, models)
        if starts is not None:
            return {
                m: slice(int(s), int(s) + n_examples) for m, s in zip(models, starts.tolist(), strict=True) if s >= 0
            }
        matrix = self.index(n_examples, models)
        complete = np.asarray((matrix >= 0).all(axis=0), dtype=bool)
        return {m: np.ascontiguousarray(matrix[:, j]) for j, m in enumerate(models) if complete[j]}

    def _index(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray:
        matrix = np.full((n_examples, len(models)), -1, dtype=np.int64)
        starts = self.block_starts(n_examples, models)
        if starts is not None:  # model j's recording of example i is row starts[j] + i
            for j, start in enumerate(starts.tolist()):
                if start >= 0:
                    matrix[:, j] = np.arange(start, start + n_examples)
            return matrix
        position = np.full(len(self.models) + 1, -1, dtype=np.int64)
        wanted = {m: j for j, m in enumerate(models)}
        for code, model in enumerate(self.models):
            position[code] = wanted.get(model, -1)
        column = position[self.model]  # code -1 (empty model) picks the trailing -1
        example = self.example_rows()
        keep = (example >= 0) & (column >= 0)
        matrix[example[keep], column[keep]] = np.flatnonzero(keep)
        return matrix

    def duplicates(self) -> np.ndarray:
        """Mask of recordings that repeat an earlier (example, model) pair."""
        n = self.model.size
        mask = np.zeros(n, dtype=bool)
        if self.unique_pairs:
            return mask
        example = self.example_rows()
        valid = (example >= 0) & (self.model >= 0)
        key = example * (len(self.models) + 1) + self.model
        if not valid.any():
            return mask
        span = int(key[valid].max()) + 1
        if span <= 64_000_000:  # a counting pass: O(n), no sort
            counts = np.bincount(key[valid], minlength=span)
            if not (counts > 1).any():
                return mask
            repeated = valid & (counts[np.where(valid, key, 0)] > 1)
        else:
            uniq = np.unique_counts(key[valid])
            if not (uniq.counts > 1).any():
                return mask
            repeated = valid & np.isin(key, uniq.values[uniq.counts > 1])
        rows = np.flatnonzero(repeated)
        _, first = np.unique(key[rows], return_index=True)
        mask[rows] = True
        mask[rows[first]] = False
        return mask


def _model_blocks(example_id: pa.ChunkedArray, ids: pa.Array, model: np.ndarray) -> bool:
    """Whether the recordings are laid out in model blocks.

    The layout ``routegate import``, ``routegate record`` and ``routegate.importers.synthetic`` write: one block
    per model, each holding that model's recording of every example in the examples table's order.
    Recognising it costs one string comparison per recording instead of a hash join (~20x
    faster at 4M recordings), and proves that no (example, model) pair repeats. Any other layout
    (or a null anywhere) takes the hash join.
    """
    n = len(ids)
    if n == 0 or len(example_id) % n or ids.null_count or example_id.null_count:
        return False
    k = len(example_id) // n
    codes = model.reshape(k, n)
    first = codes[:, 0]
    if (first < 0).any() or np.unique(first).size != k or not bool((codes == first[:, None]).all()):
        return False
    return all(pc.all(pc.equal(example_id.slice(block * n, n), ids)).as_py() for block in range(k))


def in_model_blocks(recordings: pa.Table, examples: pa.Table) -> pa.Table:
    """``recordings`` reordered into the layout ``_model_blocks`` recognises: by model (in first-seen
    order), then by the example's row (recordings of unknown examples last, in their own order)."""
    keys = RecordingKeys.of(recordings, examples)
    rows = keys.example_rows()
    example = np.where(rows < 0, examples.num_rows, rows)
    order = np.lexsort((np.arange(recordings.num_rows), example, keys.model))
    return recordings.take(pa.array(order))
