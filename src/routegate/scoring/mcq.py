"""``mcq``: the multiple-choice letter (A-J) the response chose, compared with the reference letter.

The chosen letter is, in this order of preference: the last "answer is C" /
"answer: (C)" / "option C" (any case for "answer", the letter upper case); a
response that opens with the letter (``C``, ``(C)``, ``C.``, ``C)``, ``C:``);
the last parenthesised letter ``(C)``; a response that is only the letter.
Only upper-case letters count outside "answer is" so "a" the article never
counts. The reference is read the same way (``C``, ``(C)``, ``C. Paris``).
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from routegate.scoring.base import Column, NoOptions, OptionsScorer, ScoreInput, binary_scores, null_mask, strings

PATTERNS: tuple[str, ...] = (
    r"(?s).*(?i:answer|option|choice)(?:\s+is|\s*:)?\s*[:*]*\s*(?:\(|\*\*)?(?P<letter>[A-J])(?:$|[^A-Za-z])",
    r"^\s*(?:\*\*)?\(?(?P<letter>[A-J])(?:$|[).:\s*])",
    r"(?s).*\((?P<letter>[A-J])\)",
)
"""Tried in order; the first that matches gives the letter. Only the first runs over the whole text with
``.*``, which is fine: multiple-choice responses are short."""
REFERENCE = r"^\s*\(?(?P<letter>[A-Ja-j])(?:$|[^A-Za-z])"


def chosen_letter(text: Column) -> Column:
    """The letter each response chose (upper case), null where none was found."""
    found = [pc.struct_field(pc.extract_regex(text, p), "letter") for p in PATTERNS]
    return pc.coalesce(*found)


class McqScorer(OptionsScorer[NoOptions]):
    """1 when the chosen letter equals the reference letter, 0 when it differs or none was chosen; NaN when the
    reference has no letter."""

    options_model = NoOptions

    def score(self, inp: ScoreInput, options: NoOptions) -> np.ndarray:
        n = len(inp)
        got = chosen_letter(strings(inp.response, n))
        want = pc.utf8_upper(pc.struct_field(pc.extract_regex(strings(inp.reference, n), REFERENCE), "letter"))
        return binary_scores(pc.equal(got, want), inp, null_mask(want, n))


mcq = McqScorer()
