"""The one I/O seam: a provider answers a whole batch of calls at once.

The replay engine never knows where answers come from. ``RecordedProvider``
answers by a join on (example, model) against a suite's recordings; a live
provider answers with bounded-concurrency HTTP calls; a fault injector wraps
either and turns calls into errors by provider and virtual time. Each gets a
``CallBatch`` (columns, one row per call) and returns a ``CallResult`` with
the same number of rows, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa

from routegate.load.policy import ERROR_KINDS

OK = 0
"""Error code of a successful call."""
ERROR_CODES: dict[str, int] = {kind: i + 1 for i, kind in enumerate(ERROR_KINDS)}
"""Error kind -> int8 code; 0 means success."""
MISSING = len(ERROR_KINDS) + 1
"""Code of a call with no recording (``--on-missing skip``)."""
ERROR_NAMES: tuple[str, ...] = ("", *ERROR_KINDS, "missing_recording")
"""Code -> error kind name; ``""`` for success."""


@dataclass(frozen=True)
class CallBatch:
    """One call per row; all arrays have the same length."""

    request: np.ndarray
    """int64: row of the request in the suite's examples table."""
    model: np.ndarray
    """int16: index into ``models``."""
    models: tuple[str, ...]
    """Model ids of the run (shared by every batch)."""
    start_ms: np.ndarray
    """float64: virtual time at which the call starts (arrival + time spent so far)."""
    attempt: np.ndarray
    """int16: 0 for a request's first call, then 1, 2, ..."""
    want_text: bool = True
    """Whether the engine will read the answer texts. A recorded provider may then skip gathering
    them (``response`` all null) and report ``source_row`` instead; a live provider ignores it."""

    def __len__(self) -> int:
        return int(self.request.size)


@dataclass(frozen=True)
class CallResult:
    """What came back for each call of a batch, row-aligned with it."""

    error: np.ndarray
    """int8: ``OK`` or an ``ERROR_CODES`` value (or ``MISSING``)."""
    input_tokens: np.ndarray
    """int64: tokens billed for the prompt (failed calls may bill some)."""
    output_tokens: np.ndarray
    """int64: tokens billed for the answer."""
    latency_ms: np.ndarray
    """float64: wall time of the call."""
    confidence: np.ndarray
    """float64: the answer's confidence in [0, 1]; NaN when unknown."""
    quality: np.ndarray
    """float64: a pre-judged quality of the answer; NaN when none was recorded."""
    response: pa.Array
    """string: the answer text; null where the call failed or no text exists."""
    price_factor: np.ndarray | None = None
    """float64 multiplier on the catalog price of each call (a price shock); ``None`` means 1."""
    source_row: np.ndarray | None = None
    """int64: the recording each answer came from (-1 for none), so texts can be fetched later."""

    def __len__(self) -> int:
        return int(self.error.size)


class Provider(Protocol):
    """Anything that answers a ``CallBatch``."""

    independent_calls: bool
    """Whether the provider answers each call from the call alone, whatever else it is asked and in
    whatever order (the recorded provider: ``True``). The replay may then take the requests in
    chunks (``replay.CHUNK_ROWS``); a live provider (its batches are its concurrency) and a fault
    injector (its breaker replays the calls in time order) say ``False``."""

    def call(self, batch: CallBatch) -> CallResult:
        """Answer every call of the batch; never raise for a failed call (report its error code)."""
        ...


def calls_are_independent(provider: Provider) -> bool:
    """Whether the replay may take ``provider``'s requests in chunks (``Provider.independent_calls``)."""
    return provider.independent_calls
