"""The requests a gate lists: the largest paired drops and rises, with prompt, reference and answers.

``notable_examples`` picks them (``spread_extremes``: the ends of the paired deltas, ties taken in
turn from each task type) and reads their texts, redacted and cut to ``TEXT_LIMIT`` (head and tail).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.pii import redact_text
from routegate.stats.summary import RunResult

TOP_EXAMPLES = 10
"""Regressions and improvements listed in reports."""
TEXT_LIMIT = 2000
"""Characters of prompt or response kept per listed example."""


class NotableExamples(TypedDict):
    """The requests a gate lists (``notable_examples``), each with its prompt, reference and both answers."""

    regressions: list[dict[str, Any]]
    """The requests whose quality dropped most, largest drop first."""
    improvements: list[dict[str, Any]]
    """The requests whose quality rose most, largest rise first."""


def truncate_text(text: str | None) -> str | None:
    """``text`` within ``TEXT_LIMIT`` characters: its head and its tail, where a long prompt keeps
    its question (the end), with the number of characters left out between them."""
    if text is None or len(text) <= TEXT_LIMIT:
        return text
    keep = TEXT_LIMIT - 60  # room for the marker
    head, tail = text[: keep // 2], text[len(text) - (keep - keep // 2) :]
    return f"{head} … [{len(text) - len(head) - len(tail):,} characters left out] … {tail}"


def spread_extremes(values: np.ndarray, group_of: Callable[[np.ndarray], np.ndarray], limit: int) -> list[int]:
    """The rows of the ``limit`` lowest finite ``values``, ties taken in turn from each group (one row
    of each task type, then a second of each, ...), so that a binary quality's many equal drops do
    not all come from the first subject in table order. Ordered by value, then by that turn.
    ``group_of(rows)``: the group codes of those rows (asked only for the rows at the low end)."""
    rows = np.flatnonzero(np.isfinite(values))
    if limit <= 0 or rows.size == 0:
        return []
    picked = values[rows]
    if rows.size > limit:  # every row at or below the limit-th value: ties are what gets spread
        keep = picked <= np.partition(picked, limit - 1)[limit - 1]
        rows, picked = rows[keep], picked[keep]
    group = np.asarray(group_of(rows), dtype=np.int64)
    order = np.lexsort((rows, group, picked))  # by value, then group, then row
    rows, picked, group = rows[order], picked[order], group[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (picked[1:] != picked[:-1]) | (group[1:] != group[:-1])
    starts = np.flatnonzero(first)
    turn = np.arange(rows.size) - np.repeat(starts, np.diff(np.append(starts, rows.size)))
    order = np.lexsort((group, turn, picked))  # by value, then turn within (value, group), then group
    return [int(r) for r in rows[order][:limit]]


def _group_codes(result: RunResult, rows: np.ndarray) -> np.ndarray:
    """A code per one of ``rows`` for its (suite, task type), to spread the listed examples."""
    picked = pa.array(rows, pa.int64())
    suites = pc.cast(result.traces.column("suite").take(picked), pa.string())
    tasks = pc.fill_null(pc.cast(result.traces.column("task_type").take(picked), pa.string()), "")
    keys = pc.binary_join_element_wise(suites, tasks, "/").combine_chunks()
    return np.asarray(pc.dictionary_encode(keys).indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def notable_examples(base: RunResult, cand: RunResult, *, limit: int = TOP_EXAMPLES) -> NotableExamples:
    """The requests whose quality dropped (rose) the most, spread over the suites' task types where
    drops tie (``spread_extremes``), with the prompt, the reference and both answers, truncated."""
    b, c = base.traces, cand.traces
    qb, qc = base.columns.quality, cand.columns.quality
    d = qc - qb
    group_of = partial(_group_codes, base)
    worst = [i for i in spread_extremes(d, group_of, limit) if d[i] < 0]
    best = [i for i in spread_extremes(-d, group_of, limit) if d[i] > 0]
    offsets = _suite_offsets(base)
    picked = worst + best
    suite_of = {i: int(np.searchsorted(offsets, i, side="right") - 1) for i in picked}

    # The listed answers' texts, fetched in one take per run and suite (not one per example).
    texts: dict[tuple[str, int], dict[int, str | None]] = {}
    for side, result in (("b", base), ("c", cand)):
        for k in sorted(set(suite_of.values())):
            local = np.array([i - int(offsets[k]) for i in picked if suite_of[i] == k], dtype=np.int64)
            run = result.runs[k]
            source = partial(run.suite.take, "recordings", "response")
            found = run.replay.final_responses(source, rows=local).to_pylist()
            texts[(side, k)] = dict(zip(local.tolist(), found, strict=True))

    # The listed prompts, read per suite in one take (a deferred column is read only where they are).
    prompts: dict[int, dict[int, Any]] = {}
    for k in sorted(set(suite_of.values())):
        local = np.array([i - int(offsets[k]) for i in picked if suite_of[i] == k], dtype=np.int64)
        found = base.runs[k].suite.take("examples", "messages", local).to_pylist()
        prompts[k] = dict(zip(local.tolist(), found, strict=True))

    def answer(side: str, suite_i: int, local: int) -> str | None:
        text = texts[(side, suite_i)][local]
        return truncate_text(None if text is None else redact_text(text))  # reports never carry raw PII

    def describe(i: int) -> dict[str, Any]:
        suite_i = suite_of[i]
        run_b = base.runs[suite_i]
        local = i - int(offsets[suite_i])
        prompt = prompts[suite_i][local] or []
        text = "\n\n".join(f"[{m.get('role')}] {m.get('content') or ''}" for m in prompt)
        reference = run_b.suite.examples.column("reference")[local].as_py()
        return {
            "suite": run_b.suite.name,
            "example_id": b.column("example_id")[i].as_py(),
            "prompt": truncate_text(redact_text(text)),
            "reference": truncate_text(None if reference is None else redact_text(str(reference))),
            "baseline": {
                "tier": b.column("final_tier")[i].as_py(),
                "model": b.column("final_model")[i].as_py(),
                "quality": float(qb[i]),
                "response": answer("b", suite_i, local),
            },
            "candidate": {
                "tier": c.column("final_tier")[i].as_py(),
                "model": c.column("final_model")[i].as_py(),
                "quality": float(qc[i]),
                "response": answer("c", suite_i, local),
            },
            "delta": float(d[i]),
        }

    return NotableExamples(regressions=[describe(i) for i in worst], improvements=[describe(i) for i in best])


def _suite_offsets(result: RunResult) -> np.ndarray:
    sizes = [r.traces.num_rows for r in result.runs]
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
