"""PII detection, request attributes and redaction (docs/privacy.md).

- ``detect_texts`` / ``detect_examples``: columnar detection, failing closed;
- ``with_detected_pii``: a suite whose ``pii`` (label, else detected) and ``pii_kinds`` columns are set;
- ``redact_text`` / ``redact_column``: typed placeholders for every detected span.
"""

from routegate.pii.attach import detect_examples, detected_kinds, effective_pii, with_detected_pii, with_pii_columns
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
    "detect_examples",
    "detect_texts",
    "detected_kinds",
    "effective_pii",
    "find_spans",
    "normalise_column",
    "normalise_text",
    "redact_column",
    "redact_text",
    "with_detected_pii",
    "with_pii_columns",
]
