"""Normalisation before detection: the same rules for a whole column (Arrow) and for one string.

1. NFKC (full-width digits and letters, ligatures, non-breaking spaces become their plain forms);
2. format characters (Unicode category Cf: zero-width spaces and joiners, soft hyphens) are removed;
3. every Unicode decimal digit (category Nd: Arabic-Indic, Devanagari, Thai, ...) becomes its ASCII digit;
4. dash-like characters (hyphen, non-breaking hyphen, figure dash, en and em dash, minus sign) become ``-``
   and every space separator (category Zs) becomes a plain space.

Pure-ASCII texts are already normal: only the non-ASCII rows of a column are touched, so a
column of English prompts costs one ``string_is_ascii`` pass.
"""

from __future__ import annotations

import sys
import unicodedata
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"


@cache
def _digit_blocks() -> tuple[int, ...]:
    """Code points of the zero of every block of Unicode decimal digits beyond ASCII."""
    zeros = []
    for cp in range(0x80, sys.maxunicode + 1):
        if unicodedata.decimal(chr(cp), -1) == 0:
            zeros.append(cp)
    return tuple(zeros)


@cache
def _translation() -> dict[int, str]:
    table: dict[int, str] = {}
    for zero in _digit_blocks():
        for d in range(10):
            if unicodedata.decimal(chr(zero + d), -1) == d:
                table[zero + d] = str(d)
    for ch in DASHES:
        table[ord(ch)] = "-"
    return table


def _is_format_or_space(ch: str) -> str | None:
    cat = unicodedata.category(ch)
    if cat == "Cf":
        return ""
    if cat == "Zs":
        return " "
    return None


def normalise_text(text: str) -> str:
    """One string, normalised exactly as :func:`normalise_column` does."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text.translate(_translation()):
        if ch.isascii():
            out.append(ch)
            continue
        swap = _is_format_or_space(ch)
        out.append(ch if swap is None else swap)
    return "".join(out)


def _class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in codepoints) + "]"


def normalise_column(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A string column, normalised; nulls stay null. Only non-ASCII rows are rewritten."""
    arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    arr = arr.cast(pa.string())
    ascii_ok = np.asarray(pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False), dtype=bool)
    if ascii_ok.all():
        return arr
    rows = np.flatnonzero(~ascii_ok)
    part = pc.utf8_normalize(arr.take(pa.array(rows)), form="NFKC")
    part = pc.replace_substring_regex(part, r"\p{Cf}", "")
    part = pc.replace_substring_regex(part, r"\p{Zs}", " ")
    part = pc.replace_substring_regex(part, _class([ord(c) for c in DASHES]), "-")
    zeros = _digit_blocks()
    for d in range(10):
        points = [z + d for z in zeros if unicodedata.decimal(chr(z + d), -1) == d]
        part = pc.replace_substring_regex(part, _class(points), str(d))
    index = np.arange(len(arr), dtype=np.int64)
    index[rows] = len(arr) + np.arange(rows.size, dtype=np.int64)
    return pa.concat_arrays([arr, part.cast(pa.string())]).take(pa.array(index))
