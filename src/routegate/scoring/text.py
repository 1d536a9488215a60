"""Text scorers: ``exact_match``, ``contains`` and ``regex``, all Arrow compute kernels (RE2 regexes)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import field_validator

from routegate.scoring.base import Column, Options, OptionsScorer, ScoreInput, binary_scores, null_mask, strings


def normalize_text(column: Column) -> Column:
    """Collapse every run of (Unicode) whitespace to one space, strip the ends and lower-case (Unicode).

    Split-and-join is ~3x faster than a whitespace regex replace on 1M strings.
    """
    collapsed = pc.binary_join(pc.utf8_split_whitespace(column), " ")
    return pc.utf8_lower(pc.utf8_trim_whitespace(collapsed))


class ExactMatchOptions(Options):
    normalize: bool = True
    """Strip, lower-case and collapse whitespace on both sides before comparing."""


class ExactMatchScorer(OptionsScorer[ExactMatchOptions]):
    """1 when the response equals the reference (after normalisation), else 0."""

    options_model = ExactMatchOptions

    def score(self, inp: ScoreInput, options: ExactMatchOptions) -> np.ndarray:
        response, reference = strings(inp.response, len(inp)), strings(inp.reference, len(inp))
        if options.normalize:
            response, reference = normalize_text(response), normalize_text(reference)
        return binary_scores(pc.equal(response, reference), inp, null_mask(inp.reference, len(inp)))


class ContainsOptions(Options):
    text: str | None = None
    """The text to look for; when absent, each row's reference is looked for."""
    case_sensitive: bool = False


class ContainsScorer(OptionsScorer[ContainsOptions]):
    """1 when the response contains ``text`` (or the row's reference), else 0."""

    options_model = ContainsOptions

    def score(self, inp: ScoreInput, options: ContainsOptions) -> np.ndarray:
        response = strings(inp.response, len(inp))
        if options.text is not None:
            hit = pc.match_substring(response, options.text, ignore_case=not options.case_sensitive)
            return binary_scores(hit, inp)
        reference = strings(inp.reference, len(inp))
        if not options.case_sensitive:
            response, reference = pc.utf8_lower(response), pc.utf8_lower(reference)
        return binary_scores(_contains_elementwise(response, reference), inp, null_mask(inp.reference, len(inp)))


def _contains_elementwise(haystack: Column, needle: Column) -> pa.Array:
    """Row-wise ``needle in haystack``: Arrow has no kernel with a per-row pattern, numpy 2's
    ``np.strings.find`` on variable-width ``StringDType`` does it in C (nulls become "")."""
    dtype = np.dtypes.StringDType()
    hay = np.asarray(pc.fill_null(haystack, "").to_numpy(zero_copy_only=False), dtype=dtype)
    pin = np.asarray(pc.fill_null(needle, "").to_numpy(zero_copy_only=False), dtype=dtype)
    return pa.array(np.strings.find(hay, pin) >= 0)


class RegexOptions(Options):
    pattern: str
    """An RE2 regular expression (the syntax Arrow uses); it is searched for, not anchored."""
    case_sensitive: bool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            pc.match_substring_regex(pa.array([""]), pattern)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValueError(f"not a valid RE2 regular expression: {exc}") from None
        return pattern


class RegexScorer(OptionsScorer[RegexOptions]):
    """1 when ``pattern`` matches somewhere in the response, else 0."""

    options_model = RegexOptions

    def score(self, inp: ScoreInput, options: RegexOptions) -> np.ndarray:
        response = strings(inp.response, len(inp))
        hit = pc.match_substring_regex(response, options.pattern, ignore_case=not options.case_sensitive)
        return binary_scores(hit, inp)


exact_match = ExactMatchScorer()
contains = ContainsScorer()
regex = RegexScorer()
