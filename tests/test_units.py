"""routegate.units: the exact text of representative values, rounding at the boundaries, signs, NaN."""

from __future__ import annotations

import pytest

from routegate.units import (
    MISSING,
    Unit,
    format_count,
    format_ms,
    format_number,
    format_percent,
    format_points,
    format_share,
    format_share_floor,
    format_significant,
    format_usd,
)

NAN = float("nan")
INF = float("inf")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (format_share(0.1234), "12.3%"),
        (format_share(0.1234, 2), "12.34%"),
        (format_share(1.0, 0), "100%"),
        (format_share(0.1234, symbol=False), "12.3"),
        (format_points(0.0123), "+1.23 pt"),
        (format_points(-0.0123, 1), "-1.2 pt"),
        (format_points(0.0123, signed=False), "1.23 pt"),
        (format_points(0.0123, symbol=False), "+1.23"),
        (format_percent(10.06), "+10.1%"),
        (format_percent(-3.0, 0), "-3%"),
        (format_percent(25.0, signed=False), "25.0%"),
        (format_ms(1234.4), "1,234 ms"),
        (format_ms(1234567.0), "1,234,567 ms"),
        (format_ms(-12.6, signed=True), "-13 ms"),
        (format_ms(12.6, signed=True), "+13 ms"),
        (format_count(1234567), "1,234,567"),
        (format_count(0), "0"),
        (format_count(1234, signed=True), "+1,234"),
        (format_count(-3, signed=True), "-3"),
        (format_count(0, signed=True), "+0"),
        (format_number(1234.5678, 2, grouped=True), "1,234.57"),
        (format_number(1234.5678, 4), "1234.5678"),
        (format_number(0.5, 3), "0.500"),
        (format_number(7, 1, signed=True), "+7.0"),
        (format_significant(0.012345, 3), "0.0123"),
        (format_significant(0.99871234, 4), "0.9987"),
        (format_significant(0.5, 4), "0.5"),
        (format_significant(12345.0, 4), "1.234e+04"),
        (format_significant(0.15, 6), "0.15"),
    ],
)
def test_representative_values(text: str, expected: str) -> None:
    assert text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The exact binary value is rounded, ties to even: 0.125 and 2.5 are exact ties.
        (format_number(0.125, 2), "0.12"),
        (format_number(0.375, 2), "0.38"),
        (format_number(2.5, 0), "2"),
        (format_number(3.5, 0), "4"),
        # 2.675 is 2.67499999... in binary: down; 0.05 is 0.05000000000000000277: up.
        (format_number(2.675, 2), "2.67"),
        (format_percent(0.05), "+0.1%"),
        (format_percent(0.15), "+0.1%"),
        (format_percent(0.25), "+0.2%"),
        (format_percent(12.5, 0), "+12%"),
        (format_percent(13.5, 0), "+14%"),
        (format_ms(1234.5), "1,234 ms"),
        (format_ms(1235.5), "1,236 ms"),
        # 100 * x is computed first: 100 * 0.00125 is exactly 0.125 (a tie), 100 * 0.145 is 14.499999999999998.
        (format_share(0.00125, 2), "0.12%"),
        (format_points(0.00125), "+0.12 pt"),
        (format_share(0.145), "14.5%"),
        (format_share(0.99996, 2), "100.00%"),
        (format_share(0.99994, 2), "99.99%"),
    ],
)
def test_rounding_at_the_boundaries(text: str, expected: str) -> None:
    assert text == expected


def test_a_floored_share_reaches_100_only_when_whole() -> None:
    assert format_share_floor(1.0) == "100%"
    assert format_share_floor(0.99996) == "99.99%"
    assert format_share_floor(0.999999999) == "99.99%"
    assert format_share_floor(0.9999) == "99.99%"
    assert format_share_floor(0.12345) == "12.34%"
    assert format_share_floor(0.0) == "0.00%"
    # x * 10_000 is rounded down in floating point: 0.57 * 10_000 is 5699.999999999999.
    assert format_share_floor(0.57) == "56.99%"
    with pytest.raises(ValueError, match="NaN"):
        format_share_floor(NAN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (format_usd(0.0123), "$0.0123"),
        (format_usd(9.99), "$9.9900"),
        # The decimals follow the unrounded amount: just below $10 keeps four.
        (format_usd(9.99996), "$10.0000"),
        (format_usd(10.0), "$10.00"),
        (format_usd(1234.567), "$1,234.57"),
        (format_usd(-0.0123), "$-0.0123"),
        (format_usd(-12.5), "$-12.50"),
        (format_usd(0.5, digits=2), "$0.50"),
        (format_usd(1234.5, digits=4), "$1,234.5000"),
        (format_usd(0.0123, signed=True), "+$0.0123"),
        (format_usd(-0.0123, signed=True), "−$0.0123"),
        (format_usd(-12.5, signed=True), "−$12.50"),
        (format_usd(0.0, signed=True), "+$0.0000"),
        (format_usd(-0.0, signed=True), "+$0.0000"),
    ],
)
def test_dollars(text: str, expected: str) -> None:
    assert text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (format_number(-0.0, 1), "-0.0"),
        (format_number(-0.001, 1), "-0.0"),
        (format_points(-0.0), "-0.00 pt"),
        (format_points(-0.00001), "-0.00 pt"),
        (format_points(0.0), "+0.00 pt"),
        (format_share(-0.0), "-0.0%"),
        (format_percent(-0.04), "-0.0%"),
        (format_ms(-0.4, signed=True), "-0 ms"),
        (format_ms(-0.0), "-0 ms"),
        (format_usd(-0.0), "$-0.0000"),
    ],
)
def test_negative_zero_keeps_its_sign(text: str, expected: str) -> None:
    assert text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (format_percent(NAN), "+nan%"),
        (format_points(NAN), "+nan pt"),
        (format_share(NAN), "nan%"),
        (format_ms(NAN), "nan ms"),
        (format_usd(NAN), "$nan"),
        (format_share(INF), "inf%"),
        (format_percent(-INF), "-inf%"),
        (format_significant(NAN, 4), "nan"),
    ],
)
def test_nan_and_infinity_are_formatted_not_hidden(text: str, expected: str) -> None:
    assert text == expected


def test_missing_is_an_en_dash() -> None:
    assert MISSING == "\u2013"


def test_every_unit_has_a_distinct_name() -> None:
    assert len({u.value for u in Unit}) == len(Unit)
    assert Unit("pt") is Unit.POINTS
    assert Unit("ms") is Unit.MS


def test_formats_agree_with_format_spec_on_many_values() -> None:
    """The unit functions print what the format() specs they replaced printed (explain used ``.1%`` and ``g``)."""
    values = [k / 7919 * 10**e for k in range(-50, 51) for e in range(-4, 7)]
    for x in values:
        assert format_share(x, 2) == f"{100 * x:.2f}%"
        assert format_points(x, 1) == f"{100 * x:+.1f} pt"
        assert format_percent(x) == f"{x:+.1f}%"
        assert format_ms(x) == f"{x:,.0f} ms"
        assert format_usd(x) == (f"${x:,.4f}" if abs(x) < 10 else f"${x:,.2f}")
        assert format_significant(x, 6) == f"{x:g}"
        assert format_share(x) == f"{x:.1%}"
