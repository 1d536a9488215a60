"""PII detection and redaction of text (docs/privacy.md); ``engine.detection`` makes request attributes of it.

- ``detect_texts``: columnar detection, failing closed;
- ``redact_text`` / ``redact_column``: typed placeholders for every detected span.
"""

from routegate.pii.detect import ALL_KINDS, BatchDetector, Detection, detect_batch, detect_texts
from routegate.pii.normalise import normalise_column, normalise_text
from routegate.pii.patterns import KINDS, PLACEHOLDERS, UNKNOWN, find_spans
from routegate.pii.redact import redact_column, redact_text

__all__ = [
    "ALL_KINDS",
    "KINDS",
    "PLACEHOLDERS",
    "UNKNOWN",
    "BatchDetector",
    "Detection",
    "detect_batch",
    "detect_texts",
    "find_spans",
    "normalise_column",
    "normalise_text",
    "redact_column",
    "redact_text",
]
