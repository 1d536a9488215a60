"""``valid_json``: 1 when the response (optionally inside a ```json fence) parses as JSON.

Why there is a Python loop here: Arrow has no kernel that parses one JSON value
per string (``pyarrow.json`` reads whole newline-delimited files with one
schema), so parsing is ``json.loads`` per string. It is kept tight: fences and
whitespace are stripped with Arrow kernels, strings whose first character cannot
start JSON (or, with ``require_object``, that are not ``{...}``) are rejected by
a vectorised test without parsing, and each distinct candidate is parsed once.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.scoring.base import Options, OptionsScorer, ScoreInput, binary_scores, strings

FENCE = r"(?s)^\s*```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)\r?\n?```\s*$"
"""A response that is only a fenced code block (```json ... ```): its body."""
CAN_START = r"^[\[{\"\-0-9tfn]"
"""First characters a JSON text can start with (after stripping whitespace)."""
OBJECT = r"(?s)^\{.*\}$"


class ValidJsonOptions(Options):
    require_object: bool = False
    """Only a JSON object (``{...}``) counts, not an array, string or number."""
    strip_fence: bool = True
    """Accept a response that is a single ```json fenced block."""


class ValidJsonScorer(OptionsScorer[ValidJsonOptions]):
    """1 when the response parses as strict JSON (no NaN/Infinity), else 0."""

    options_model = ValidJsonOptions

    def score(self, inp: ScoreInput, options: ValidJsonOptions) -> np.ndarray:
        text = strings(inp.response, len(inp))
        if options.strip_fence:
            text = pc.replace_substring_regex(text, FENCE, r"\1")
        text = pc.utf8_trim_whitespace(text)
        shape = OBJECT if options.require_object else CAN_START
        candidate = np.asarray(
            pc.fill_null(pc.match_substring_regex(text, shape), False).to_numpy(zero_copy_only=False), dtype=bool
        )
        hit = np.zeros(len(inp), dtype=bool)
        rows = np.flatnonzero(candidate)
        if rows.size:
            subset = text.take(pa.array(rows))
            distinct = pc.unique(subset)
            parsed = np.fromiter(
                (_parses(s, options.require_object) for s in distinct.to_pylist()), dtype=bool, count=len(distinct)
            )
            hit[rows] = parsed[np.asarray(pc.index_in(subset, distinct).to_numpy(zero_copy_only=False), dtype=np.int64)]
        return binary_scores(hit, inp)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parses(text: str, require_object: bool) -> bool:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:  # json.JSONDecodeError is a ValueError
        return False
    return isinstance(value, dict) or not require_object


valid_json = ValidJsonScorer()
