"""Detection results as request attributes: the effective ``pii`` flag and the ``pii_kinds`` list.

A suite's own ``pii`` label wins where it is set; where it is null (unknown), detection decides.
``pii_kinds`` always holds what detection found (``unknown`` when it failed closed), so policy
rules can match on it (``pii_kinds_any``). Done once per suite object (``suite.memo``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.memo import MemoKind
from routegate.load.policy import Policy
from routegate.load.suite import RECORDING_KEYS, Suite
from routegate.pii.detect import BatchDetector, Detection, detect_texts

DETECTED_SUITE: MemoKind[Suite] = MemoKind("detection.detected_suite")
"""``with_detected_pii``: the suite with its effective ``pii`` and ``pii_kinds`` columns (no parts)."""
DETECTION: MemoKind[Detection] = MemoKind("detection.detection")
"""The detection a derived suite's columns came from, in that suite's memo: it marks the suite as done (no parts)."""


def detect_examples(
    examples: pa.Table, detector: BatchDetector | None = None, messages: pa.ChunkedArray | None = None
) -> Detection:
    """Detection over every message of every request (system, user, assistant and tool turns).

    Runs over the flat column of message contents (no joining), then ORs each message's kinds
    into its request. ``messages``: the column, when ``examples`` was loaded without it.
    """
    messages = messages if messages is not None else examples.column("messages")
    chunks = messages.chunks if isinstance(messages, pa.ChunkedArray) else [messages]
    contents = pa.chunked_array([pc.struct_field(c.flatten(), "content") for c in chunks], pa.string())
    parents = np.asarray(pc.list_parent_indices(messages).to_numpy(zero_copy_only=False), dtype=np.int64)
    flat = detect_texts(contents, detector=detector)
    matrix = np.zeros((len(messages), flat.matrix.shape[1]), dtype=bool)
    for j in range(flat.matrix.shape[1]):
        matrix[parents[flat.matrix[:, j]], j] = True
    return Detection(matrix=matrix, seconds=flat.seconds)


def with_pii_columns(examples: pa.Table, detection: Detection) -> pa.Table:
    """``pii`` = the label where set, else detected; ``pii_kinds`` = the detected kinds."""
    label = examples.column("pii").combine_chunks()
    detected = pa.array(detection.found)
    pii = pc.if_else(pc.is_null(label), detected, label) if label.null_count else label
    examples = examples.set_column(examples.column_names.index("pii"), "pii", pii)
    kinds = detection.kinds()
    if "pii_kinds" in examples.column_names:
        return examples.set_column(examples.column_names.index("pii_kinds"), "pii_kinds", kinds)
    return examples.append_column("pii_kinds", kinds)


def with_detected_pii(suite: Suite, detector: BatchDetector | None = None) -> Suite:
    """The suite with effective ``pii`` and ``pii_kinds`` columns (the same object on every call)."""
    if DETECTION.key() in suite.memo:
        return suite

    def derive() -> Suite:
        detection = detect_examples(suite.examples, detector, suite.column("examples", "messages"))
        derived = dataclasses.replace(suite, examples=with_pii_columns(suite.examples, detection))
        derived.memo[RECORDING_KEYS.key()] = suite.recording_keys()  # same ids and recordings: same join keys
        derived.memo[DETECTION.key()] = detection
        return derived

    return suite.memoised(DETECTED_SUITE.key(), derive)


def effective_pii(examples: pa.Table) -> np.ndarray:
    """The ``pii`` flag per request: the label where set, else detected (now, if not done yet)."""
    label = examples.column("pii")
    if label.null_count:
        label = with_pii_columns(examples, detect_examples(examples)).column("pii")
    return np.asarray(label.to_numpy(zero_copy_only=False), dtype=bool)


def detected_kinds(examples: pa.Table) -> pa.ListArray:
    """The ``pii_kinds`` lists per request (detected now, if the table has not been through detection)."""
    if "pii_kinds" in examples.column_names:
        return examples.column("pii_kinds").combine_chunks()
    return detect_examples(examples).kinds()


def needs_detection(suite: Suite, policy: Policy) -> bool:
    """PII detection decides unlabelled requests and feeds ``pii_kinds_any`` rules; when every request
    is labelled and no rule reads ``pii_kinds``, its result cannot change a replay, so it is skipped.
    When it runs, it runs once per suite object (memoised), whichever policies are replayed."""
    if suite.examples.column("pii").null_count:
        return True
    return any(rule.when.pii_kinds_any is not None for rule in policy.spec.rules)


def seen_by(policy: Policy, suites: Sequence[Suite]) -> list[Suite]:
    """The suites as a run of ``policy`` replays them (detected PII filled in when needed)."""
    return [with_detected_pii(suite) if needs_detection(suite, policy) else suite for suite in suites]
