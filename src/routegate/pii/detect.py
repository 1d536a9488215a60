"""Columnar PII detection over request texts, failing closed.

Per batch of requests: normalise (``normalise.py``) -> one RE2 pass of the union of every
pattern over the whole batch (``pc.match_substring_regex``) -> for the candidate rows only, one
RE2 pass per kind -> Python re-reads just the (few) rows a kind's pattern hit, to place spans and
run the checks RE2 cannot (Luhn, mod-97, SSN area rules, octet ranges, boundaries).

Fail closed: a batch whose detector raises, or that takes longer than ``batch_budget_s``, marks
every request of the batch as PII of kind ``unknown``; a single request whose Python checks take
longer than ``request_budget_s`` is marked the same way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.pii.normalise import normalise_column
from routegate.pii.patterns import KINDS, PATTERNS, UNKNOWN, find_spans

BATCH_ROWS = 131_072
"""Requests per detection batch (the unit that fails closed on an error or time-out)."""
BATCH_BUDGET_S = 60.0
"""Longest a batch may take before all of its requests count as PII."""
REQUEST_BUDGET_S = 2.0
"""Longest the Python checks of one request may take before it counts as PII."""
ALL_KINDS: tuple[str, ...] = (*KINDS, UNKNOWN)
"""Columns of a detection matrix: the detected kinds, then ``unknown`` (failed closed)."""

BatchDetector = Callable[[pa.Array], np.ndarray]
"""Texts of one batch -> bool matrix [request, kind in ``KINDS``]."""


class DetectionTimeout(Exception):
    """A batch ran past its time budget."""


@dataclass(frozen=True)
class Detection:
    """What was found in each request."""

    matrix: np.ndarray
    """bool [request, kind in ``ALL_KINDS``]."""
    seconds: float
    """Wall time of the whole detection."""

    @property
    def found(self) -> np.ndarray:
        """Per request: any kind was detected, or detection failed (fail closed)."""
        return np.asarray(self.matrix.any(axis=1), dtype=bool)

    @property
    def failed(self) -> np.ndarray:
        """Per request: detection failed or timed out."""
        return np.asarray(self.matrix[:, len(KINDS)], dtype=bool)

    def kinds(self) -> pa.ListArray:
        """``list<string>`` per request: the kinds found, in ``ALL_KINDS`` order."""
        rows, cols = np.nonzero(self.matrix)  # row-major: grouped by request, kinds in order
        offsets = np.zeros(self.matrix.shape[0] + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=self.matrix.shape[0]), out=offsets[1:])
        values = pa.array(list(ALL_KINDS), pa.string()).take(pa.array(cols.astype(np.int32)))
        return pa.ListArray.from_arrays(pa.array(offsets), values)

    def counts(self) -> dict[str, int]:
        """Requests per kind."""
        return {k: int(n) for k, n in zip(ALL_KINDS, self.matrix.sum(axis=0), strict=True)}


UNION = "|".join(f"(?:{p})" for p in PATTERNS.values())


def _mask(values: pa.Array, pattern: str) -> np.ndarray:
    hit = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def detect_batch(
    texts: pa.Array, *, request_budget_s: float = REQUEST_BUDGET_S, deadline: float = float("inf")
) -> np.ndarray:
    """The default detector: bool [request, kind in ``ALL_KINDS``] for one batch of texts."""
    out = np.zeros((len(texts), len(ALL_KINDS)), dtype=bool)
    norm = normalise_column(texts)
    candidates = np.flatnonzero(_mask(norm, UNION))
    if candidates.size == 0:
        return out
    sub = norm.take(pa.array(candidates))
    hits = np.column_stack([_mask(sub, PATTERNS[k]) for k in KINDS])
    for j in np.flatnonzero(hits.any(axis=1)):
        row = int(candidates[j])
        kinds = tuple(k for k, hit in zip(KINDS, hits[j], strict=True) if hit)
        started = time.perf_counter()
        found = {kind for _, _, kind in find_spans(sub[int(j)].as_py(), kinds)}
        now = time.perf_counter()
        if now - started > request_budget_s:
            out[row, len(KINDS)] = True
            continue
        if now > deadline:
            raise DetectionTimeout(f"batch ran past its budget at request {row}")
        for i, kind in enumerate(KINDS):
            out[row, i] = kind in found
    return out


def _batches(texts: pa.Array | pa.ChunkedArray, batch_rows: int) -> list[pa.Array]:
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    return [c.slice(i, batch_rows) for c in chunks for i in range(0, len(c), batch_rows)]


def _run_batch(
    batch: pa.Array, detector: BatchDetector | None, batch_budget_s: float, request_budget_s: float
) -> np.ndarray:
    """One batch's matrix; all ``unknown`` when the detector raises or runs past the budget (fail closed)."""
    t0 = time.perf_counter()
    try:
        if detector is None:
            got = detect_batch(batch, request_budget_s=request_budget_s, deadline=t0 + batch_budget_s)
        else:
            got = np.asarray(detector(batch), dtype=bool)
            if got.ndim == 2 and got.shape[1] == len(KINDS):
                got = np.column_stack([got, np.zeros(len(batch), dtype=bool)])
        if got.shape != (len(batch), len(ALL_KINDS)):
            raise ValueError(f"detector returned shape {got.shape}, expected {(len(batch), len(ALL_KINDS))}")
        if time.perf_counter() - t0 > batch_budget_s:
            raise DetectionTimeout("batch ran past its budget")
    except Exception:  # fail closed on any detector failure, by design
        got = np.zeros((len(batch), len(ALL_KINDS)), dtype=bool)
        got[:, len(KINDS)] = True
    return got


def detect_texts(
    texts: pa.Array | pa.ChunkedArray,
    *,
    detector: BatchDetector | None = None,
    batch_rows: int = BATCH_ROWS,
    batch_budget_s: float = BATCH_BUDGET_S,
    request_budget_s: float = REQUEST_BUDGET_S,
) -> Detection:
    """Detect PII in every text, batch by batch; a failing or slow batch counts as PII (kind ``unknown``).

    Batches run on a thread per core: the RE2 kernels release the GIL.
    """
    began = time.perf_counter()
    batches = _batches(texts, batch_rows)
    workers = min(len(batches), os.cpu_count() or 1)
    if workers <= 1:
        parts = [_run_batch(b, detector, batch_budget_s, request_budget_s) for b in batches]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lambda b: _run_batch(b, detector, batch_budget_s, request_budget_s), batches))
    matrix = np.concatenate(parts) if parts else np.zeros((0, len(ALL_KINDS)), dtype=bool)
    return Detection(matrix=matrix, seconds=time.perf_counter() - began)
