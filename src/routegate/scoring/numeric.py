"""``numeric``: GSM8K-style final-number scorer, all RE2 kernels over Arrow strings.

The final number of a text is, in this order of preference: the number after the
last ``####``; inside the last ``\\boxed{}``; after the last "answer is" /
"answer:"; else the last number in the text. Numbers may carry ``$``, thousands
commas, a decimal part and a minus sign (``-18``, ``-$18``, ``$-18``); a hyphen
right after a word or digit (``2023-2024``, ``16-3``) is not a minus sign.
References go through the same extraction, so ``#### 72`` and ``72`` both work.

Speed: RE2 pays for capture groups over the whole match, so no pattern starts
with a greedy ``.*``. "Last ``####``" and "last number" are matches anchored at
the end of the text (nothing of the kind follows); "last answer is" is the first
match in the reversed text. Each step only runs on the rows still without a number.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from routegate.scoring.base import Column, Options, OptionsScorer, ScoreInput, binary_scores, null_mask, strings

_Step = Callable[[pa.Array], np.ndarray]

_NUMBER = r"\$?(?P<sign>-?)\$?(?P<int>\d[\d,]*\d|\d)(?P<frac>\.\d+)?"
"""Sign, integer part (with thousands commas) and decimals; the ``$`` may sit either side of the sign."""
_NUMBER_REVERSED = r"(?P<frac>\d+\.)?(?P<int>\d[\d,]*\d|\d)\$?(?P<sign>-?)\$?"
"""``_NUMBER`` read backwards, for the reversed text."""

HASH = r"####[\s*:]*" + _NUMBER + r"(?:[^#]|#{1,3}[^#])*#{0,3}$"
"""The number after the last ``####`` (no ``####`` follows it)."""
BOXED = r"\\boxed\{\s*" + _NUMBER + r"\s*\}(?:[^\\]|\\[^b])*\\?$"
"""The number in the last ``\\boxed{...}`` (no ``\\b`` follows it)."""
ANSWER_REVERSED = r"(?i)" + _NUMBER_REVERSED + r"\s*[:*]*\s*(?:si\s+|:)rewsna"
"""``answer is N`` / ``answer: N`` backwards: the first match in the reversed text is the last one."""
LAST = r"(?:^|[^\d,.\-$]|\w-)" + _NUMBER + r"\D*$"
"""The last number: no digit follows; it does not start inside a number; ``word-N`` is not negative."""


def final_number(text: Column) -> np.ndarray:
    """The final number of every text (float64), NaN where there is none (or the text is null)."""
    text = pa.concat_arrays(text.chunks) if isinstance(text, pa.ChunkedArray) else text
    values = np.full(len(text), np.nan)
    pending = np.flatnonzero(~null_mask(text, len(text)))
    for step in (_forward(HASH), _forward(BOXED), _reversed(ANSWER_REVERSED), _forward(LAST)):
        if pending.size == 0:
            break
        subset = text if pending.size == len(text) else text.take(pa.array(pending))
        found = step(subset)
        hit = ~np.isnan(found)
        values[pending[hit]] = found[hit]
        pending = pending[~hit]
    return values


def _forward(pattern: str) -> _Step:
    return lambda text: _to_float(pc.extract_regex(text, pattern), reverse=False)


def _reversed(pattern: str) -> _Step:
    return lambda text: _to_float(pc.extract_regex(pc.utf8_reverse(text), pattern), reverse=True)


def _to_float(parts: Column, *, reverse: bool) -> np.ndarray:
    integer, frac = pc.struct_field(parts, "int"), pc.fill_null(pc.struct_field(parts, "frac"), "")
    if reverse:
        integer, frac = pc.utf8_reverse(integer), pc.utf8_reverse(frac)
    digits = pc.binary_join_element_wise(pc.replace_substring(integer, ",", ""), frac, "")
    value = pc.cast(digits, pa.float64())
    value = pc.if_else(pc.equal(pc.struct_field(parts, "sign"), "-"), pc.negate(value), value)
    return np.asarray(pc.fill_null(value, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


class NumericOptions(Options):
    rel_tol: float = Field(default=1e-6, ge=0)
    """Relative tolerance, as in ``math.isclose``."""
    abs_tol: float = Field(default=0.0, ge=0)
    """Absolute tolerance (useful when the reference is 0)."""


class NumericScorer(OptionsScorer[NumericOptions]):
    """1 when the response's final number equals the reference's within tolerance; 0 when it differs or the
    response has no number; NaN when the reference has no number."""

    options_model = NumericOptions

    def score(self, inp: ScoreInput, options: NumericOptions) -> np.ndarray:
        n = len(inp)
        got = final_number(strings(inp.response, n))
        want = final_number(strings(inp.reference, n))
        tolerance = np.maximum(options.rel_tol * np.maximum(np.abs(got), np.abs(want)), options.abs_tol)
        with np.errstate(invalid="ignore"):
            return binary_scores(np.abs(got - want) <= tolerance, inp, np.isnan(want))


numeric = NumericScorer()
