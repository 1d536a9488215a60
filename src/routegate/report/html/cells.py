"""The numbers report.html prints: verdict values as verdict.json stores them, formatted by routegate.units.

Every number the page prints or sorts by first passes :func:`stored_number` (12 significant
digits, as verdict.json holds it), so a verdict read back from verdict.json renders to the same
bytes as the one the run built. Anything that is not a finite number then prints as
:data:`~routegate.units.MISSING`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from routegate.units import (
    MISSING,
    format_ms,
    format_percent,
    format_points,
    format_share,
    format_usd,
)


def stored_number(x: Any) -> float:
    """A float as verdict.json holds it (12 significant digits), NaN for None or anything that is not a number.

    Every number the page prints or sorts by passes here, so a verdict read back from verdict.json renders
    to the same bytes as the one the run built (and the page matches the file to the last digit).
    """
    if isinstance(x, bool) or not isinstance(x, int | float):
        return math.nan
    return float(f"{x:.12g}") if math.isfinite(x) else math.nan


def is_known(x: Any) -> bool:
    """True when ``x`` is a finite number (after :func:`stored_number`)."""
    return math.isfinite(stored_number(x))


def show_share(x: Any, digits: int = 1) -> str:
    """A share in percent, ``"12.3%"``."""
    return format_share(stored_number(x), digits) if is_known(x) else MISSING


def show_points(x: Any, digits: int = 2) -> str:
    """A difference of shares in signed percentage points, ``"+1.23 pt"``."""
    return format_points(stored_number(x), digits) if is_known(x) else MISSING


def show_percent(x: Any) -> str:
    """A relative change already in percent, signed with one decimal, ``"+10.1%"``."""
    return format_percent(stored_number(x)) if is_known(x) else MISSING


def show_usd(x: Any) -> str:
    """Dollars, ``"$0.0123"`` (a negative amount ``"$-0.0123"``)."""
    return format_usd(stored_number(x)) if is_known(x) else MISSING


def show_signed_usd(x: Any) -> str:
    """A change in dollars, ``"+$0.0123"`` or ``"−$0.0123"``."""
    return format_usd(stored_number(x), signed=True) if is_known(x) else MISSING


def show_ms(x: Any) -> str:
    """Milliseconds, ``"1,234 ms"``."""
    return format_ms(stored_number(x)) if is_known(x) else MISSING


def show_signed_ms(x: Any) -> str:
    """A change in milliseconds, ``"+1,234 ms"``."""
    return format_ms(stored_number(x), signed=True) if is_known(x) else MISSING


def show_ci(ci: Any, show: Callable[[Any], str]) -> str:
    """A 95% interval ``[low, high]``, each bound by ``show``; empty unless both bounds are known."""
    if not isinstance(ci, Sequence) or len(ci) != 2 or not (is_known(ci[0]) and is_known(ci[1])):
        return ""
    return f"[{show(ci[0])}, {show(ci[1])}]"


def judge_change(delta: Any, ci: Any, *, higher_is_better: bool) -> tuple[str, str]:
    """(word, css class) for a delta with its 95% CI: better/worse only when the CI excludes zero."""
    d = stored_number(delta)
    lo, hi = (
        (stored_number(ci[0]), stored_number(ci[1]))
        if isinstance(ci, Sequence) and len(ci) == 2
        else (math.nan, math.nan)
    )
    if d == 0 and lo == 0 and hi == 0:
        return "no change", "same"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no CI", "same"
    if lo > 0 or hi < 0:
        up = lo > 0
        better = up == higher_is_better
        return ("better" if better else "worse"), ("good" if better else "bad")
    return "no clear change", "same"
