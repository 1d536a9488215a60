"""``privacy``: the bundled AlpacaEval suite with synthetic PII planted in a seeded share of requests.

Every model keeps its real recorded answers (the recordings are copied unchanged); only the
requests change. A seeded 20% of requests get one synthetic PII value each, cycling through every
detector kind x its tricky variants (spaces, dots, dashes, full-width / Arabic-Indic / Devanagari
digits, a zero-width space, a no-break space, an obfuscated e-mail) and four placements (end of
the user message, start of it, a system prompt, a tool call's arguments). The ``pii`` column is
left null (unknown), so routing depends on detection; ``pii_truth`` lists the inserted kinds and
``pii_variant`` how they were written, for measuring the detector (docs/privacy.md).

All values are synthetic and reserved where a reserved range exists: e-mail domains example.*,
US phone numbers 555-01xx, UK numbers +44 20 7946 0xxx (Ofcom's drama range), IPs from the
documentation ranges (RFC 5737, RFC 3849), card numbers from test prefixes with a computed Luhn
digit, IBANs with computed mod-97 check digits, SSNs drawn at random from the valid ranges, and
secrets of random characters in the vendors' formats.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from routegate.importers.common import write_suite
from routegate.load.suite import load_suite
from routegate.load.tables import estimate_tokens, message_text

SUITE_VERSION = "1.0.0"
DEFAULT_SHARE = 0.2
DEFAULT_PII_SEED = 8
PLACEMENTS: tuple[str, ...] = ("user_end", "user_start", "system", "tool_argument")

_DOC_NETS = ("192.0.2", "198.51.100", "203.0.113")
_FULLWIDTH = {ord(d): chr(0xFF10 + i) for i, d in enumerate(string.digits)}
_ARABIC = {ord(d): chr(0x0660 + i) for i, d in enumerate(string.digits)}
_DEVANAGARI = {ord(d): chr(0x0966 + i) for i, d in enumerate(string.digits)}


def luhn_digit(body: str) -> str:
    """The check digit that makes ``body`` + digit pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def iban_with_check(country: str, bban: str) -> str:
    """An IBAN whose two check digits satisfy ISO 7064 mod-97."""
    number = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(number) % 97:02d}{bban}"


class _Values:
    """Synthetic PII values drawn from one seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def digits(self, k: int) -> str:
        return "".join(str(int(d)) for d in self.rng.integers(0, 10, k))

    def chars(self, alphabet: str, k: int) -> str:
        return "".join(alphabet[int(i)] for i in self.rng.integers(0, len(alphabet), k))

    def card(self) -> str:
        prefix, length = [("411111", 16), ("555555", 16), ("378282", 15), ("601100", 16)][int(self.rng.integers(4))]
        body = prefix + self.digits(length - len(prefix) - 1)
        return body + luhn_digit(body)

    def iban(self) -> str:
        if self.rng.integers(2):
            return iban_with_check("GB", self.chars(string.ascii_uppercase, 4) + self.digits(14))
        return iban_with_check("DE", self.digits(18))

    def ssn(self) -> str:
        area = int(self.rng.integers(1, 900))
        area = 667 if area == 666 else area
        return f"{area:03d}{int(self.rng.integers(1, 100)):02d}{int(self.rng.integers(1, 10000)):04d}"

    def email(self) -> tuple[str, str, str]:
        names = ("alex", "sam", "maria", "wei", "fatima", "jonas", "priya", "kofi")
        user = f"{names[int(self.rng.integers(len(names)))]}.{self.chars(string.ascii_lowercase, 5)}"
        return user, "example", ("com", "org", "net")[int(self.rng.integers(3))]


def _group(text: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, at = [], 0
    for s in sizes:
        parts.append(text[at : at + s])
        at += s
    if at < len(text):
        parts.append(text[at:])
    return sep.join(p for p in parts if p)


def _card_groups(n: int) -> tuple[int, ...]:
    return (4, 6, 5) if n == 15 else (4, 4, 4, 4)


Variant = Callable[[_Values], str]

VARIANTS: dict[str, list[tuple[str, Variant]]] = {
    "email": [
        ("plain", lambda v: "{}@{}.{}".format(*v.email())),
        ("obfuscated", lambda v: "{} [at] {} [dot] {}".format(*v.email())),
        ("fullwidth", lambda v: "{}＠{}．{}".format(*v.email())),
        ("zero_width", lambda v: "{}\u200b@{}.{}".format(*v.email())),
    ],
    "phone": [
        ("us_dashes", lambda v: f"(2{v.digits(2)}) 555-01{v.digits(2)}"),
        ("us_dots", lambda v: f"2{v.digits(2)}.555.01{v.digits(2)}"),
        ("international", lambda v: f"+44 20 7946 0{v.digits(3)}"),
        ("international_dashes", lambda v: f"+1-2{v.digits(2)}-555-01{v.digits(2)}"),
        ("arabic_indic", lambda v: f"+44 20 7946 0{v.digits(3)}".translate(_ARABIC)),
    ],
    "card": [
        ("plain", lambda v: v.card()),
        ("spaces", lambda v: (lambda c: _group(c, _card_groups(len(c)), " "))(v.card())),
        ("dashes", lambda v: (lambda c: _group(c, _card_groups(len(c)), "-"))(v.card())),
        ("fullwidth", lambda v: (lambda c: _group(c, _card_groups(len(c)), " "))(v.card()).translate(_FULLWIDTH)),
        ("zero_width", lambda v: (lambda c: c[:4] + "\u200b" + c[4:])(v.card())),
        ("nbsp", lambda v: (lambda c: _group(c, _card_groups(len(c)), "\u00a0"))(v.card())),
    ],
    "iban": [
        ("compact", lambda v: v.iban()),
        ("spaces", lambda v: _group(v.iban(), (4, 4, 4, 4, 4, 4, 4, 4), " ")),
        ("devanagari", lambda v: _group(v.iban(), (4, 4, 4, 4, 4, 4, 4, 4), " ").translate(_DEVANAGARI)),
    ],
    "ssn": [
        ("dashes", lambda v: _group(v.ssn(), (3, 2, 4), "-")),
        ("spaces", lambda v: _group(v.ssn(), (3, 2, 4), " ")),
        ("dots", lambda v: _group(v.ssn(), (3, 2, 4), ".")),
        ("en_dash", lambda v: _group(v.ssn(), (3, 2, 4), "\u2013")),
        ("arabic_indic", lambda v: _group(v.ssn(), (3, 2, 4), "-").translate(_ARABIC)),
    ],
    "ip": [
        ("ipv4", lambda v: f"{_DOC_NETS[int(v.rng.integers(3))]}.{int(v.rng.integers(1, 255))}"),
        ("ipv6", lambda v: f"2001:db8:{v.chars('0123456789abcdef', 4)}::{v.chars('0123456789abcdef', 3)}"),
        ("ipv6_full", lambda v: "2001:0db8:" + ":".join(v.chars("0123456789abcdef", 4) for _ in range(6))),
    ],
    "secret": [
        ("anthropic", lambda v: "sk-ant-api03-" + v.chars(string.ascii_letters + string.digits + "_-", 40)),
        ("openai", lambda v: "sk-proj-" + v.chars(string.ascii_letters + string.digits, 40)),
        ("aws", lambda v: "AKIA" + v.chars(string.ascii_uppercase + "234567", 16)),
        ("github", lambda v: "ghp_" + v.chars(string.ascii_letters + string.digits, 36)),
        ("slack", lambda v: f"xoxb-{v.digits(11)}-{v.digits(12)}-{v.chars(string.ascii_letters + string.digits, 24)}"),
        ("assignment", lambda v: f'api_key = "{v.chars("0123456789abcdef", 32)}"'),
        ("pem", lambda v: "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + v.chars(string.ascii_letters, 24)),
    ],
}
SENTENCES: dict[str, str] = {
    "email": "You can reach me at {}.",
    "phone": "Call me on {} if anything is unclear.",
    "card": "I paid with card {} last week.",
    "iban": "Please send the refund to IBAN {}.",
    "ssn": "My social security number is {}.",
    "ip": "The affected server is {}.",
    "secret": "Our config has {} in it.",
}
COMBOS: tuple[tuple[str, str], ...] = tuple((k, name) for k, vs in VARIANTS.items() for name, _ in vs)
"""Every (kind, variant); planted rows cycle through these, so every one appears."""


def plant(messages: list[dict[str, Any]], sentence: str, placement: str, value: str) -> list[dict[str, Any]]:
    """The request's messages with ``sentence`` placed as ``placement`` says."""
    out = [dict(m) for m in messages]
    if placement == "system":
        return [{"role": "system", "content": f"You are a support assistant. Customer record: {sentence}"}, *out]
    if placement == "tool_argument":
        call = {"tool_call": {"name": "crm_lookup", "arguments": {"query": value}}}
        return [
            *out,
            {"role": "assistant", "content": json.dumps(call, ensure_ascii=False)},
            {"role": "tool", "content": '{"status": "no match"}'},
        ]
    last = max(i for i, m in enumerate(out) if m["role"] == "user")
    text = out[last]["content"] or ""
    out[last]["content"] = f"{text}\n\n{sentence}" if placement == "user_end" else f"{sentence}\n\n{text}"
    return out


def import_privacy(
    source: Path, out: Path, seed: int = DEFAULT_PII_SEED, share: float = DEFAULT_SHARE, name: str = "privacy"
) -> Path:
    """Write ``out/privacy`` from the bundled suite at ``source``; same inputs, same bytes."""
    base = load_suite(source, defer=False)  # every prompt is rewritten
    examples = base.examples
    n = examples.num_rows
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=round(share * n), replace=False))
    values = _Values(rng)
    messages = examples.column("messages").to_pylist()  # an importer over ~1k rows, not the hot path
    truth: list[list[str]] = [[] for _ in range(n)]
    variant = ["none"] * n
    placement = ["none"] * n
    for j, row in enumerate(rows.tolist()):
        kind, vname = COMBOS[j % len(COMBOS)]
        place = PLACEMENTS[(j // len(COMBOS) + j) % len(PLACEMENTS)]
        value = dict(VARIANTS[kind])[vname](values)
        messages[row] = plant(messages[row], SENTENCES[kind].format(value), place, value)
        truth[row], variant[row], placement[row] = [kind], f"{kind}/{vname}", place
    msgs = pa.array(messages, examples.schema.field("messages").type)
    keep = [c for c in examples.column_names if c not in ("messages", "pii", "input_tokens")]
    table = pa.table(
        {
            "id": examples.column("id"),
            "messages": msgs,
            **{c: examples.column(c) for c in keep if c != "id"},
            "pii": pa.nulls(n, pa.bool_()),
            "input_tokens": estimate_tokens(message_text(msgs)),
            "pii_truth": pa.array(truth, pa.list_(pa.string())),
            "pii_variant": pa.array(variant, pa.string()),
            "pii_placement": pa.array(placement, pa.string()),
        }
    )
    src = base.manifest
    manifest = {
        "name": name,
        "version": SUITE_VERSION,
        "description": (
            f"The {src.name} suite ({n} requests, the same recorded answers) with synthetic PII planted in "
            f"{rows.size} requests ({share:.0%}, seed {seed}): every detector kind and its tricky variants, in the "
            "user message, a system prompt or a tool call's arguments. pii is null (detection decides); pii_truth "
            "lists the planted kinds (docs/privacy.md)."
        ),
        "source": {
            **src.source.model_dump(),
            "notes": f"Derived by `routegate import privacy` from eval_suites/{src.name} {src.version}; "
            + src.source.notes,
        },
        "examples": "examples.parquet",
        "recordings": "recordings.parquet",
        "slices": ["task_type", "pii_placement"],
        "scoring": src.scoring.model_dump(exclude_defaults=True) or {"scorer": "judge"},
        "columns": {
            "measured": list(src.columns.measured),
            "modelled": {
                **src.columns.modelled,
                "input_tokens": "Estimated as ceil(characters / 4) of all message contents joined by newlines "
                "(after planting); the recordings keep the source's token counts.",
                "pii": "null for every row: unknown, so routegate's detector decides (docs/privacy.md).",
                "pii_truth": f"The kinds planted by `routegate import privacy` (seed {seed}); empty: untouched text.",
            },
        },
    }
    recordings = pq.read_table(base.folder / src.recordings)  # the recorded answers, as stored
    return write_suite(out, manifest, table, recordings, base.folder / "LICENSE")
