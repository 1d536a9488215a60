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

from routegate.arrowtake import take_rows
from routegate.policy import ERROR_KINDS
from routegate.providers.base import MISSING, CallBatch, CallResult
from routegate.suite import RecordingKeys, Suite


def recording_index(examples: pa.Table, recordings: pa.Table, models: tuple[str, ...]) -> np.ndarray:
    """int64 matrix [example row, model index] -> recording row, or -1 where nothing was recorded."""
    return RecordingKeys.of(recordings, examples).index(examples.num_rows, models)


def _take_texts(recordings: pa.Table, rows: np.ndarray) -> pa.Array:
    return take_rows(recordings.column("response"), rows)


def _float_column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(pc.fill_null(table.column(name).cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False))


@dataclass(frozen=True)
class RecordedProvider:
    """Answers from recordings; a call with no recording fails with code ``MISSING``."""

    rows: np.ndarray
    """The ``recording_index`` matrix."""
    error: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    latency_ms: np.ndarray
    confidence: np.ndarray
    quality: np.ndarray
    texts: Callable[[np.ndarray], pa.Array]
    """The response texts of the given recording rows (read only when a batch wants texts)."""

    @classmethod
    def from_suite(cls, suite: Suite, models: tuple[str, ...]) -> RecordedProvider:
        """The provider for ``suite``, reusing the join keys computed when it was loaded."""
        rows = suite.recording_keys().index(suite.examples.num_rows, models)

        def columns() -> RecordedProvider:
            table = cls.from_tables(suite.examples, suite.recordings, (), rows=rows[:, :0])
            return dataclasses.replace(table, texts=partial(suite.take, "recordings", "response"))

        return dataclasses.replace(suite.memoised("recorded", columns), rows=rows)

    @classmethod
    def from_tables(
        cls, examples: pa.Table, recordings: pa.Table, models: tuple[str, ...], *, rows: np.ndarray | None = None
    ) -> RecordedProvider:
        errors = pc.fill_null(recordings.column("error"), "")
        codes = pc.index_in(errors, value_set=pa.array(["", *ERROR_KINDS]))
        return cls(
            rows=rows if rows is not None else recording_index(examples, recordings, models),
            error=pc.fill_null(codes, MISSING).to_numpy(zero_copy_only=False).astype(np.int8),
            input_tokens=recordings.column("input_tokens").to_numpy().astype(np.int64),
            output_tokens=recordings.column("output_tokens").to_numpy().astype(np.int64),
            latency_ms=recordings.column("latency_ms").to_numpy().astype(np.float64),
            confidence=_float_column(recordings, "confidence"),
            quality=_float_column(recordings, "quality"),
            texts=partial(_take_texts, recordings),
        )

    def missing(self, request: np.ndarray, model: np.ndarray) -> np.ndarray:
        return np.asarray(self.rows[request, model] < 0, dtype=bool)

    def call(self, batch: CallBatch) -> CallResult:
        row = self.rows[batch.request, batch.model]
        have = row >= 0
        safe = np.where(have, row, 0)
        error = np.where(have, self.error[safe], MISSING).astype(np.int8)
        failed = error != 0
        if batch.want_text:
            taken = self.texts(safe)
            response = taken if taken.type == pa.string() else taken.cast(pa.string())
            if (~have | failed).any():
                response = pc.if_else(pa.array(have & ~failed), response, pa.nulls(len(row), pa.string()))
        else:
            response = pa.nulls(len(row), pa.string())
        return CallResult(
            error=error,
            input_tokens=np.where(have, self.input_tokens[safe], 0),
            output_tokens=np.where(have, self.output_tokens[safe], 0),
            latency_ms=np.where(have, self.latency_ms[safe], 0.0),
            confidence=np.where(have & ~failed, self.confidence[safe], np.nan),
            quality=np.where(have & ~failed, self.quality[safe], np.nan),
            response=response,
            source_row=np.where(have & ~failed, row, -1),
        )
