"""Numbers as routegate prints them: shares, points, percent, dollars, milliseconds and counts.

The one place that turns a number into text for a person: the reports (report.html,
summary.md, explain) and the reasons the gates and drills write. It sits at the base of
the layers, so the gates may use it as well as the reports.

Rounding, for every function here: Python's ``format()`` rounds the exact binary value of
the number (after any scaling, e.g. ``100 * x`` for a share, computed in floating point first)
to the nearest printed digit, ties to even: ``0.125`` is ``"0.12"`` with two decimals,
``2.675`` (just below in binary) is ``"2.67"``. The one exception is
:func:`format_share_floor`, which rounds down. A negative number that rounds to zero keeps its
minus sign (``-0.001`` with one decimal is ``"-0.0"``), and so does negative zero. The
functions format what they are given: NaN prints as ``nan`` and an infinity as ``inf``; a
report that prints :data:`MISSING` for an absent value decides so before calling them (the
summaries for None and NaN, report.html for anything that is not a finite number).
"""

from __future__ import annotations

import enum
import math

MISSING = "–"
"""What a report prints for a value it does not have (an en dash)."""


class Unit(enum.Enum):
    """The unit of a gate's observed value and threshold (``GateResult.unit``), so a report prints them as such."""

    POINTS = "pt"
    """A difference of two shares, printed in percentage points: 0.0123 is "+1.23 pt" (:func:`format_points`)."""
    SHARE = "share"
    """A share from 0 to 1, printed in percent: 0.0123 is "1.23%" (:func:`format_share`)."""
    PERCENT = "pct"
    """A number already in percent (a relative change): 10.06 is "+10.1%" (:func:`format_percent`)."""
    MS = "ms"
    """Milliseconds: 1234.5 is "1,234 ms" (:func:`format_ms`)."""
    COUNT = "count"
    """A whole number of things: 1234 is "1,234" (:func:`format_count`)."""
    NUMBER = "number"
    """A number shown without a unit (:func:`format_significant`, 4 digits, for a float)."""


def format_number(x: float, digits: int = 0, *, signed: bool = False, grouped: bool = False) -> str:
    """``x`` with ``digits`` decimals: ``signed`` adds "+" to a positive number, ``grouped`` thousands separators.

    ``format_number(1234.5678, 2, grouped=True)`` is ``"1,234.57"``.
    """
    return format(x, f"{'+' if signed else ''}{',' if grouped else ''}.{digits}f")


def format_significant(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits, trailing zeros dropped (``format(x, ".4g")``).

    ``format_significant(0.012345, 3)`` is ``"0.0123"``; large or small numbers switch to
    exponent notation (``1.235e+04`` with 4 digits).
    """
    return format(x, f".{digits}g")


def format_count(n: int, *, signed: bool = False) -> str:
    """A count with thousands separators, ``"12,345"``; ``signed``: ``"+12,345"``, ``"-3"``, ``"+0"``."""
    return format(n, "+," if signed else ",")


def format_share(x: float, digits: int = 1, *, symbol: bool = True) -> str:
    """A share (0 to 1) in percent with ``digits`` decimals: 0.1234 is ``"12.3%"``.

    ``100 * x`` is rounded (ties to even after the multiplication); ``symbol=False`` leaves out the "%"
    (for a column whose header says "%").
    """
    return format_number(100 * x, digits) + ("%" if symbol else "")


def format_share_floor(x: float) -> str:
    """A share in percent with two decimals, rounded down, so only a whole 1 is "100%": 0.99996 is ``"99.99%"``.

    ``x * 10_000`` (in floating point) is rounded down to a whole number and divided by 100;
    ``x`` must be finite.
    """
    v = math.floor(x * 10_000) / 100
    return "100%" if v >= 100 else f"{v:.2f}%"


def format_points(x: float, digits: int = 2, *, signed: bool = True, symbol: bool = True) -> str:
    """A difference of shares in percentage points: 0.0123 is ``"+1.23 pt"``.

    ``100 * x`` is rounded to ``digits`` decimals; ``signed=False`` drops the "+" (for a margin or a
    drop, ``"1.23 pt"``), ``symbol=False`` the " pt" (for the bounds of an interval).
    """
    return format_number(100 * x, digits, signed=signed) + (" pt" if symbol else "")


def format_percent(x: float, digits: int = 1, *, signed: bool = True) -> str:
    """A number already in percent (a relative change): 10.06 is ``"+10.1%"``, ``signed=False`` ``"10.1%"``."""
    return format_number(x, digits, signed=signed) + "%"


def format_usd(x: float, *, digits: int | None = None, signed: bool = False) -> str:
    """Dollars with thousands separators: 4 decimals below $10, else 2 (``"$0.0123"``, ``"$1,234.57"``).

    The decimals follow ``abs(x)`` before rounding, so $9.99996 prints as ``"$10.0000"``; ``digits``
    fixes them instead. Unsigned, a negative amount prints as ``format()`` writes it, ``"$-0.0123"``.
    ``signed`` puts the sign before the "$": ``"+$0.0123"``, ``"−$0.0123"`` (U+2212 minus); zero, negative
    zero too, is ``"+$0.0000"``.
    """
    if signed:
        return ("+" if x >= 0 else "−") + format_usd(abs(x), digits=digits)
    decimals = digits if digits is not None else (4 if abs(x) < 10 else 2)
    return f"${format_number(x, decimals, grouped=True)}"


def format_ms(x: float, *, signed: bool = False) -> str:
    """Whole milliseconds with thousands separators: 1234.5 is ``"1,234 ms"`` (ties to even), signed ``"+1,234 ms"``."""
    return format_number(x, 0, signed=signed, grouped=True) + " ms"
