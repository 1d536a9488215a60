"""The request attributes an importer derives from a source: SLA class, tags, keyword task type and stakes.

Everything here works on whole columns (Arrow arrays / numpy); the only Python
loops are over rules. docs/bundled-suites.md documents every rule and constant
defined here; change them together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

LONG_INPUT_TOKENS = 512
"""Requests with at least this many estimated input tokens get the ``long_input`` tag and the ``batch`` SLA."""

BATCH_TASK_TYPES: tuple[str, ...] = ("summarize", "extract", "classify")
"""Task types that are typically back-office document processing: SLA class ``batch``."""


def sla_of(task_types: pa.Array, input_tokens: np.ndarray) -> pa.Array:
    """``batch`` for back-office task types (summarize/extract/classify) and long inputs, else ``interactive``."""
    batch = np.asarray(pc.is_in(task_types, pa.array(BATCH_TASK_TYPES)).to_numpy(zero_copy_only=False), dtype=bool)
    batch |= input_tokens >= LONG_INPUT_TOKENS
    return pa.array(np.where(batch, "batch", "interactive").astype(object), pa.string())


def tags_of(columns: Sequence[tuple[str, np.ndarray]], fixed: Sequence[pa.Array] = ()) -> pa.Array:
    """A tag list per row: ``fixed`` string columns (one tag each, null for none) then ``(tag, mask)`` flags."""
    n = len(columns[0][1]) if columns else len(fixed[0])
    parts: list[np.ndarray] = [np.asarray(col.to_numpy(zero_copy_only=False), dtype=object) for col in fixed]
    for tag, mask in columns:
        flags = np.full(len(mask), None, dtype=object)
        flags[np.asarray(mask, dtype=bool)] = tag
        parts.append(flags)
    if not parts:
        return pa.array([[]] * n, pa.list_(pa.string()))
    grid = np.stack(parts, axis=1)  # rows x candidate tags
    present = np.asarray(pd.notna(grid), dtype=bool)
    counts = present.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    flat = grid[present]  # row-major: keeps each row's tags in candidate order
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.string()), type=pa.list_(pa.string()))


TASK_TYPE_RULES: tuple[tuple[str, str], ...] = (
    (
        "code",
        r"\b(code|coding|programming|python|javascript|typescript|java|c\+\+|rust|golang|sql|regex|html|css|"
        r"bash|function|algorithm|compile|debug)\b",
    ),
    (
        "math",
        r"\b(calculate|compute|solve|equation|arithmetic|integral|derivative|probability|percentage|"
        r"how much (money|will|does|did)|what is \d+\s*[-+*/x]\s*\d+)\b",
    ),
    ("summarize", r"\b(summari[sz]e|summary|tl;?dr|key points|main points|in a nutshell)\b"),
    ("extract", r"\b(extract|pull out|find all|list all the|identify (the|all) \w+ (in|from))\b"),
    (
        "classify",
        r"\b(classify|categori[sz]e|which category|sentiment|is (this|it) (a|an)? ?\w* ?(positive|negative)|"
        r"label (each|the))\b",
    ),
    (
        "rewrite",
        r"\b(rewrite|rephrase|paraphrase|reword|translate|proofread|correct (the|this|my) (grammar|spelling)|"
        r"make (it|this) (more|less|sound)|edit (the|this|my))\b",
    ),
    (
        "creative_writing",
        r"\b(poem|poetry|story|stories|song|lyrics|haiku|limerick|rap|screenplay|script for|"
        r"write (a|an) (essay|letter|speech|tweet|blog|post|joke))\b",
    ),
    (
        "brainstorm",
        r"\b(ideas?|brainstorm|suggest(ions)?|recommend(ations)?|come up with|give me (some|a list|\d+)|"
        r"list (some|of|\d+)|names for|tips)\b",
    ),
    ("open_qa", r"(\?\s*$|^\s*(what|why|how|who|when|where|which|is|are|can|do|does|explain|describe|tell me)\b)"),
)
"""Keyword rules over an instruction (lower-cased), first match wins; no match -> ``chat``."""

HIGH_STAKES_PATTERN = (
    r"\b(doctor|medical|medicine|medication|symptoms?|diagnos\w*|disease|dose|dosage|prescription|pregnan\w*|"
    r"surgery|cancer|mental health|suicid\w*|lawyer|legal|lawsuit|sue|contract|court|visa|immigration|"
    r"tax(es)?|invest\w*|stocks?|mortgage|loan|insurance|retirement|401k|bankrupt\w*)\b"
)
"""Medical, legal and financial-advice keywords: ``high`` stakes wherever a suite uses keyword stakes."""

LOW_STAKES_TASK_TYPES: tuple[str, ...] = ("chat", "brainstorm", "creative_writing", "roleplay")
"""Chit-chat and creative requests: ``low`` stakes unless a high-stakes keyword appears."""


def first_match(texts: pa.Array, rules: Sequence[tuple[str, str]], default: str) -> pa.Array:
    """The label of the first rule whose regex matches (case-insensitive), else ``default``; vectorised."""
    out = np.full(len(texts), default, dtype=object)
    done = np.zeros(len(texts), dtype=bool)
    filled = pc.fill_null(texts, "")
    for label, regex in rules:
        hit = np.asarray(
            pc.match_substring_regex(filled, regex, ignore_case=True).to_numpy(zero_copy_only=False), dtype=bool
        )
        take = hit & ~done
        out[take] = label
        done |= hit
    return pa.array(out, pa.string())


def keyword_task_type(texts: pa.Array) -> pa.Array:
    """Task type of free-form instructions by :data:`TASK_TYPE_RULES`."""
    return first_match(texts, TASK_TYPE_RULES, "chat")


def keyword_stakes(texts: pa.Array, task_types: pa.Array) -> pa.Array:
    """``high`` on a high-stakes keyword; else ``low`` for chit-chat/creative task types; else ``normal``."""
    high = np.asarray(
        pc.match_substring_regex(pc.fill_null(texts, ""), HIGH_STAKES_PATTERN, ignore_case=True).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    low = np.asarray(pc.is_in(task_types, pa.array(LOW_STAKES_TASK_TYPES)).to_numpy(zero_copy_only=False), dtype=bool)
    return pa.array(np.where(high, "high", np.where(low, "low", "normal")).astype(object), pa.string())
