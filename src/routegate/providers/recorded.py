"""The recorded provider: answers calls by a join on (example, model) against a suite's recordings.

The join is done once, up front, into a dense ``examples x models`` matrix of
recording row numbers, so answering a batch is numpy fancy indexing: no
per-call Python, no per-batch hash join.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.floats import float_view
from routegate.arrow.labels import label_map
from routegate.arrow.memo import MemoKind
from routegate.arrow.take import take_rows
from routegate.load.policy import ERROR_KINDS
from routegate.load.recordings import RecordingKeys
from routegate.load.suite import Suite
from routegate.providers.base import MISSING, CallBatch, CallResult


def recording_index(examples: pa.Table, recordings: pa.Table, models: tuple[str, ...]) -> np.ndarray:
    """int64 matrix [example row, model index] -> recording row, or -1 where nothing was recorded."""
    return RecordingKeys.of(recordings, examples).index(examples.num_rows, models)


def _masked(values: np.ndarray, nulls: np.ndarray | None, rows: np.ndarray | slice) -> np.ndarray:
    """``values[rows]`` as a new array, NaN where ``nulls`` says the slot holds no value."""
    picked = values[rows]  # a gather makes a new array; a slice is a view of read-only data
    if isinstance(rows, slice):
        picked = picked.copy()
    if nulls is not None:
        picked[nulls[rows]] = np.nan
    return picked


def _take_texts(recordings: pa.Table, rows: np.ndarray) -> pa.Array:
    return take_rows(recordings.column("response"), rows)


def _error_codes(errors: pa.ChunkedArray) -> np.ndarray:
    """int8 code per recording of its error kind (``OK`` for an empty one, ``MISSING`` for an unknown
    one): each distinct text is looked up once (``labels.label_map``), not every recording's."""
    if errors.null_count:
        errors = pc.fill_null(errors, "")
    codes = {kind: code for code, kind in enumerate(["", *ERROR_KINDS])}  # "" -> 0, which is OK
    return label_map(errors, codes, MISSING, dtype=np.int8)


RECORDED_COLUMNS: MemoKind[RecordedProvider] = MemoKind("recorded.columns")
"""``RecordedProvider.from_suite``: a suite's recorded columns, as a provider with no join (no parts)."""


@dataclass(frozen=True)
class RecordedProvider:
    """Answers from recordings; a call with no recording fails with code ``MISSING``."""

    independent_calls = True
    """Each answer is the recording of (request, model): nothing else about a batch matters."""
    rows: np.ndarray
    """The ``recording_index`` matrix (empty when ``starts`` is given)."""
    error: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    latency_ms: np.ndarray
    confidence: np.ndarray
    quality: np.ndarray
    """Recorded confidence and quality per recording; where ``confidence_null`` / ``quality_null`` is
    true the slot means nothing (a null: read as NaN). Use :meth:`quality_at`."""
    texts: Callable[[np.ndarray], pa.Array]
    """The response texts of the given recording rows (read only when a batch wants texts)."""
    confidence_null: np.ndarray | None = None
    quality_null: np.ndarray | None = None
    starts: np.ndarray | None = None
    """With the recordings in model blocks (``RecordingKeys.block_starts``): per model, the first row of
    its block (-1: none). A call's row is then ``starts[model] + request``: no [request, model] matrix
    to build, and no random reads from one."""

    @classmethod
    def from_suite(cls, suite: Suite, models: tuple[str, ...]) -> RecordedProvider:
        """The provider for ``suite``, reusing the join keys computed when it was loaded."""
        n = suite.examples.num_rows
        keys = suite.recording_keys()
        starts = keys.block_starts(n, models)
        rows = keys.index(n, models) if starts is None else np.empty((n, 0), dtype=np.int64)

        def columns() -> RecordedProvider:
            table = cls.from_tables(suite.examples, suite.recordings, (), rows=np.empty((n, 0), dtype=np.int64))
            return dataclasses.replace(table, texts=partial(suite.take, "recordings", "response"))

        return dataclasses.replace(suite.memoised(RECORDED_COLUMNS.key(), columns), rows=rows, starts=starts)

    @classmethod
    def from_tables(
        cls, examples: pa.Table, recordings: pa.Table, models: tuple[str, ...], *, rows: np.ndarray | None = None
    ) -> RecordedProvider:
        # Views of the Arrow buffers with a null mask (floats.float_view): no 32 MB copy per column.
        confidence, confidence_null = float_view(recordings.column("confidence"))
        quality, quality_null = float_view(recordings.column("quality"))
        return cls(
            rows=rows if rows is not None else recording_index(examples, recordings, models),
            error=_error_codes(recordings.column("error")),
            # Read-only views of the Arrow buffers where the types already match: only gathered from.
            input_tokens=np.asarray(recordings.column("input_tokens").to_numpy(), dtype=np.int64),
            output_tokens=np.asarray(recordings.column("output_tokens").to_numpy(), dtype=np.int64),
            latency_ms=np.asarray(recordings.column("latency_ms").to_numpy(), dtype=np.float64),
            confidence=confidence,
            quality=quality,
            texts=partial(_take_texts, recordings),
            confidence_null=confidence_null,
            quality_null=quality_null,
        )

    def missing(self, request: np.ndarray, model: np.ndarray) -> np.ndarray:
        if self.starts is not None:
            return np.asarray(self.starts[model] < 0, dtype=bool)
        return np.asarray(self.rows[request, model] < 0, dtype=bool)

    def call(self, batch: CallBatch) -> CallResult:
        row = self._rows_of(batch)
        # Gather every column by ``row`` once; only the (few) calls without a recording or with
        # a failed answer are then overwritten in place: no full-size np.where per column.
        missing = np.flatnonzero(row < 0)
        safe = row
        if missing.size:
            safe = row.copy()
            safe[missing] = 0
        error = self.error[safe].astype(np.int8, copy=False)
        error[missing] = MISSING
        input_tokens = self.input_tokens[safe]
        input_tokens[missing] = 0
        output_tokens = self.output_tokens[safe]
        output_tokens[missing] = 0
        latency_ms = self.latency_ms[safe]
        latency_ms[missing] = 0.0
        no_answer = np.flatnonzero(error != 0)  # failed calls, the missing ones included
        confidence = _masked(self.confidence, self.confidence_null, safe)
        confidence[no_answer] = np.nan
        quality = _masked(self.quality, self.quality_null, safe)
        quality[no_answer] = np.nan
        if batch.want_text:
            taken = self.texts(safe)
            response = taken if taken.type == pa.string() else taken.cast(pa.string())
            if no_answer.size:
                response = pc.if_else(pa.array(error == 0), response, pa.nulls(len(row), pa.string()))
        else:
            response = pa.nulls(len(row), pa.string())
        source_row = row  # ours to change: every use of ``safe`` (which may be ``row``) is above
        source_row[no_answer] = -1
        return CallResult(
            error=error,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            confidence=confidence,
            quality=quality,
            response=response,
            source_row=source_row,
        )

    def quality_at(self, rows: np.ndarray | slice) -> np.ndarray:
        """The recorded quality of the given recording rows, NaN where none was recorded (a new array)."""
        return _masked(self.quality, self.quality_null, rows)

    def _rows_of(self, batch: CallBatch) -> np.ndarray:
        """The recording row of each call (-1: none), a new array.

        From the block starts when there are some; else one flat gather over the C-ordered index
        matrix: faster than numpy's two-array fancy indexing.
        """
        if self.starts is not None:
            start = self.starts[batch.model]
            found: np.ndarray = np.where(start >= 0, start + batch.request, -1)
            return found
        width = self.rows.shape[1]
        row: np.ndarray = np.ravel(self.rows)[batch.request * width + batch.model]
        return row
