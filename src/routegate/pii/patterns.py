"""The detectors: one regular expression per kind, plus the checks RE2 cannot express.

Each pattern is written in the subset shared by RE2 (pyarrow's regex kernels, which find the
candidate requests over a whole column) and Python's ``re`` (which re-reads only the candidate
texts to place spans and run the checksums). Patterns never use look-arounds or back-references;
the boundary rules live in :func:`accept` instead. Text is normalised first (``normalise.py``), so
every pattern sees ASCII digits, ASCII dashes and plain spaces.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

KINDS: tuple[str, ...] = ("email", "phone", "card", "iban", "ssn", "ip", "secret")
"""Every detected kind, in the order ``pii_kinds`` lists them."""
UNKNOWN = "unknown"
"""Kind given to a request whose detection failed or ran out of time (fail closed: it counts as PII)."""
PLACEHOLDERS: dict[str, str] = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "card": "<CARD>",
    "iban": "<IBAN>",
    "ssn": "<SSN>",
    "ip": "<IP>",
    "secret": "<SECRET>",
}
PRIORITY: tuple[str, ...] = ("secret", "email", "iban", "card", "ssn", "ip", "phone")
"""When spans of two kinds overlap, the earlier kind here wins (checksummed kinds before phone numbers)."""

_AT = r"(?:@|\s?\[at\]\s?|\s?\(at\)\s?)"
_DOT = r"(?:\.|\s?\[dot\]\s?|\s?\(dot\)\s?)"
PATTERNS: dict[str, str] = {
    "email": rf"[A-Za-z0-9._%+-]+{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*{_DOT}[A-Za-z]{{2,24}}",
    "phone": (
        r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{2,5}){1,4}"
        r"|(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    ),
    "card": r"\d(?:[ -]?\d){12,18}",
    "iban": r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}",
    "ssn": r"\d{3}[ .-]\d{2}[ .-]\d{4}",
    "ip": r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
    "secret": (
        r"sk-ant-[A-Za-z0-9_-]{20,}"
        r"|sk-(?:proj-)?[A-Za-z0-9_-]{20,}"
        r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
        r"|gh[pousr]_[A-Za-z0-9]{30,}"
        r"|github_pat_[A-Za-z0-9_]{22,}"
        r"|xox[abprs]-[A-Za-z0-9-]{10,}"
        r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
        r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
        r"|(?i:api[_-]?key|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|password|passwd)"
        r"\\?[\"']?\s*[:=]\s*\\?[\"']?(?P<v>[A-Za-z0-9_/+.=-]{8,})"
    ),
}
COMPILED: dict[str, re.Pattern[str]] = {k: re.compile(p, re.ASCII) for k, p in PATTERNS.items()}

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25,
    "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
}  # fmt: skip
"""Lengths of the IBANs of SEPA countries (ISO 13616 registry); other countries: any length 15-34."""


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of payment card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """ISO 7064 mod-97: move the first four characters to the end, letters to 10..35, remainder 1."""
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def ssn_ok(digits: str) -> bool:
    """US SSN rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def _isolated(text: str, start: int, end: int, glue: str = "") -> bool:
    """No letter, digit or ``glue`` character touches the span on either side."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    beyond = text[end + 1] if end + 1 < len(text) else " "
    glued_after = after in glue and beyond.isalnum()  # "123-45-6789." ends a sentence; "1.2.3.4.5" does not
    return not (before.isalnum() or before in glue) and not (after.isalnum() or glued_after)


def _phone(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    s, e = m.span()
    if not _isolated(text, s, e, glue="-+"):
        return None
    n = len(_digits(m.group()))
    return (s, e) if 7 <= n <= 15 else None


def _card(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    s, e = m.span()
    if not _isolated(text, s, e, glue="-"):
        return None
    digits = _digits(m.group())
    return (s, e) if digits[0] in "23456" and luhn_ok(digits) else None


def _iban(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    s = m.start()
    if s > 0 and text[s - 1].isalnum():
        return None
    raw = m.group()
    compact = raw.replace(" ", "")
    known = IBAN_LENGTHS.get(compact[:2])
    lengths = [known] if known else list(range(min(len(compact), 34), 14, -1))
    for length in lengths:
        if length > len(compact) or not iban_ok(compact[:length]):
            continue
        taken, end = 0, s  # map the compact length back onto the spaced text
        while taken < length:
            if raw[end - s] != " ":
                taken += 1
            end += 1
        if end < len(text) and text[end].isalnum():
            continue
        return (s, end)
    return None


def _ssn(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    s, e = m.span()
    raw = m.group()
    if raw[3] != raw[6] or not _isolated(text, s, e, glue="-."):
        return None
    return (s, e) if ssn_ok(_digits(raw)) else None


def _ip(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    s, e = m.span()
    raw = m.group()
    if not _isolated(text, s, e, glue=".:"):
        return None
    if ":" not in raw:
        octets = raw.split(".")
        return (s, e) if all(len(o) == 1 or o[0] != "0" for o in octets) and max(map(int, octets)) <= 255 else None
    try:
        ipaddress.IPv6Address(raw)
    except ValueError:
        return None
    groups = [g for g in raw.split(":") if g]
    return (s, e) if len(groups) >= 3 or any(len(g) == 4 for g in groups) else None


def _email(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    s, e = m.span()
    local = m.group().split("@")[0]
    if local.startswith(".") or (s > 0 and text[s - 1] in "@/"):
        return None
    return (s, e)


def _secret(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    if m.group("v") is not None:
        value = m.group("v")
        if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
            return None
        return m.span("v")
    return m.span()


ACCEPT: dict[str, Callable[[str, re.Match[str]], tuple[int, int] | None]] = {
    "email": _email,
    "phone": _phone,
    "card": _card,
    "iban": _iban,
    "ssn": _ssn,
    "ip": _ip,
    "secret": _secret,
}
"""Per kind: the span to report for a regex match in the normalised text, or ``None`` to reject it."""


def find_spans(text: str, kinds: tuple[str, ...] = KINDS) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans of PII in normalised ``text``, in text order."""
    taken: list[tuple[int, int, str]] = []
    for kind in PRIORITY:
        if kind not in kinds:
            continue
        for m in COMPILED[kind].finditer(text):
            span = ACCEPT[kind](text, m)
            if span is None:
                continue
            s, e = span
            if all(e <= ts or s >= te for ts, te, _ in taken):
                taken.append((s, e, kind))
    return sorted(taken)
