"""Redaction: detected spans become typed placeholders (``<EMAIL>``, ``<CARD>``, ...).

Every text that leaves routegate (reports, error messages) goes through :func:`redact_text`
or :func:`redact_column`. A text with PII comes back normalised (``normalise.py``) with each
span replaced; a text without PII comes back unchanged.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.pii.detect import UNION
from routegate.pii.normalise import normalise_column, normalise_text
from routegate.pii.patterns import PLACEHOLDERS, find_spans


def redact_text(text: str) -> str:
    """``text`` with every detected PII span replaced by its placeholder."""
    norm = normalise_text(text)
    spans = find_spans(norm)
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end, kind in spans:
        parts += [norm[at:start], PLACEHOLDERS[kind]]
        at = end
    parts.append(norm[at:])
    return "".join(parts)


def redact_column(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A string column with every detected span replaced; only candidate rows leave Arrow."""
    arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    arr = arr.cast(pa.string())
    norm = normalise_column(arr)
    hit = np.asarray(pc.fill_null(pc.match_substring_regex(norm, UNION), False).to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(hit)
    if rows.size == 0:
        return arr
    redacted = pa.array([redact_text(arr[int(r)].as_py()) for r in rows], pa.string())
    index = np.arange(len(arr), dtype=np.int64)
    index[rows] = len(arr) + np.arange(rows.size, dtype=np.int64)
    return pa.concat_arrays([arr, redacted]).take(pa.array(index))
