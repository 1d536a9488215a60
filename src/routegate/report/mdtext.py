"""Markdown that cannot be hijacked by the text it carries.

Model text, prompts and even policy descriptions are untrusted: every piece of
text that goes into Markdown passes through :func:`md_cell`, which escapes
the characters that would open HTML, code spans, links, emphasis or table
cells, and folds newlines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")
"""Characters that open code, emphasis, links or cells anywhere in a line (``<``/``>``/``&`` become entities)."""
_LEADING_MARK = re.compile(r"^([#+=-])")
_LEADING_NUMBER = re.compile(r"^(\d+)([.)])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def md_cell(text: str, limit: int | None = None) -> str:
    """Escape ``text`` for use inside Markdown prose or a table cell."""
    text = _CONTROL.sub("", text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _SPECIAL.sub(r"\\\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split("\n")).replace("\r", "")


def md_line(text: str) -> str:
    """Like :func:`md_cell`, for text that starts a line: a leading ``#``, ``+``, ``-``, ``=`` or ``1.``
    would otherwise open a heading or a list."""
    return _LEADING_NUMBER.sub(r"\1\\\2", _LEADING_MARK.sub(r"\\\1", md_cell(text)))


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table; cells must already be escaped."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def md_code(text: str) -> str:
    """``text`` as an inline code span (backticks and control characters removed)."""
    clean = _CONTROL.sub("", text).replace("`", "'").replace("\n", " ").replace("\r", "")
    return f"`{clean}`"
