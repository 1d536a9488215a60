"""What a replay returns: every request's outcome and every call, as arrays row-aligned with the examples.

``Replay`` is built by :func:`routegate.engine.replay.replay`; the traces
(``routegate.engine.traces``) and every summary are derived from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.take import take_rows
from routegate.engine.plan import Plan

ResponseSource = Callable[[np.ndarray], pa.Array]
"""The response texts of the given recording rows (e.g. ``partial(suite.take, "recordings", "response")``)."""


@dataclass(frozen=True)
class Replay:
    """What happened to every request (row-aligned with the examples) and every call."""

    plan: Plan
    """The tiers every request started on (``plan_tiers``)."""
    models: tuple[str, ...]
    """The run's model index: ``final_model`` and the attempts' ``model`` point into it."""
    final_tier: np.ndarray
    """int16 tier index of the final answer (the last tier tried when the request failed)."""
    final_model: np.ndarray
    """int16 model index of the final answer; -1 when the request failed."""
    final_attempt: np.ndarray
    """int64 row in ``attempts`` of the final answer; -1 when the request failed."""
    n_attempts: np.ndarray
    """int16 calls made for each request."""
    fell_back: np.ndarray
    """bool: the request moved along its chain after a failed call at least once."""
    escalated: np.ndarray
    """bool: the request escalated to another tier at least once."""
    failed: np.ndarray
    """bool: the request ended without an answer."""
    last_error: np.ndarray
    """int8 error code of the last failed call (0 when none failed)."""
    input_tokens: np.ndarray
    """int64 input tokens over every call of the request."""
    output_tokens: np.ndarray
    """int64 output tokens over every call of the request."""
    cost_usd: np.ndarray
    """float64 $ over every call of the request."""
    latency_ms: np.ndarray
    """float64 ms of the request's calls added up (they run one after another)."""
    privacy_breach: np.ndarray
    """bool: some call sent the request, PII (or not known to be free of it), to an external model."""
    breach_attempt: np.ndarray
    """int16 attempt number (0-based) of the first call that leaked PII; -1 when none did."""
    confidence_missing: np.ndarray
    """An escalation decision had to be made without any confidence value."""
    attempts: pa.Table
    """One row per call: request, attempt, model, tier, kind, error, tokens, cost, latency, start."""
    responses: pa.ChunkedArray
    """Response text per attempt row (null for failed calls; all null when texts were not gathered)."""
    recorded_quality: np.ndarray
    """float64 per attempt row: the recording's pre-judged quality (NaN when none)."""

    source_rows: np.ndarray
    """int64 per attempt row: the recording the answer came from, -1 when unknown (live calls)."""
    text_gathered: bool
    """Whether ``responses`` holds the texts (else fetch them from the recordings by ``source_rows``)."""

    def final_responses(self, source: ResponseSource | None = None, rows: np.ndarray | None = None) -> pa.Array:
        """The final answer's text per request (null when it failed); only ``rows`` when given.

        When the replay did not gather texts, they are read from ``source`` (the recordings
        the recorded provider answered from), by recording row.
        """
        final = self.final_attempt if rows is None else self.final_attempt[np.asarray(rows, dtype=np.int64)]
        ok = final >= 0
        if not self.text_gathered:
            if source is None:
                raise RuntimeError("texts were not gathered during the replay; pass the recordings' responses")
            row = self.source_rows[np.where(ok, final, 0)] if self.source_rows.size else np.full(ok.size, -1)
            have = ok & (row >= 0)
            texts = source(row[have]).cast(pa.string())
            # Request i takes text k when it is the k-th request with an answer; a null index gives a null.
            position = np.cumsum(have) - 1
            return texts.take(pa.array(position, pa.int64(), mask=~have))
        taken = take_rows(self.responses, np.where(ok, final, 0))
        return pc.if_else(pa.array(ok), taken, pa.nulls(len(ok), pa.string()))

    def final_recorded_quality(self) -> np.ndarray:
        """float64 per request: the final answer's pre-judged recorded quality (NaN when it failed or has none)."""
        ok = self.final_attempt >= 0
        return np.where(ok, self.recorded_quality[np.where(ok, self.final_attempt, 0)], np.nan)
