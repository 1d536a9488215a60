"""No artifact, log or error message of routegate carries raw PII: canaries planted in prompts and responses."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import example_row, recording_row, run_cli, write_project, write_suite
from routegate.pii import PLACEHOLDERS, normalise_text, redact_column, redact_text

CANARIES: dict[str, str] = {
    "email": "canary.bob@example.com",
    "email_obfuscated": "canary.alice [at] example [dot] org",
    "phone": "+44 20 7946 0958",
    "phone_us": "(212) 555-0147",
    "card": "4111 1111 1111 1111",
    "card_fullwidth": "５５５５ ５５５５ ５５５５ ４４４４",
    "card_zero_width": "3782\u200b822463\u200b10005",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "ssn": "078-05-1120",
    "ssn_arabic": "٢١٩-٠٩-٩٩٩٩",
    "ipv4": "203.0.113.77",
    "ipv6": "2001:db8:cafe::17",
    "secret": "sk-ant-api03-CanaryCanaryCanary0123456789",
    "aws": "AKIAZZZZCANARY234567",
    "assignment": "api_key=c4n4ryc4n4ryc4n4ry",
}


def _needles() -> set[str]:
    """Each canary as written, normalised, and as bare digits (a leak in any form counts)."""
    out: set[str] = set()
    for value in CANARIES.values():
        norm = normalise_text(value)
        out |= {value, norm}
        digits = "".join(ch for ch in norm if ch.isdigit())
        if len(digits) >= 9:
            out.add(digits)
    out.add("c4n4ryc4n4ryc4n4ry")
    return out


def _leaks(text: str) -> list[str]:
    return sorted(n for n in _needles() if n in text)


def test_redact_text_replaces_every_canary_with_its_placeholder() -> None:
    for name, value in CANARIES.items():
        redacted = redact_text(f"before {value} after.")
        assert _leaks(redacted) == [], name
        assert any(p in redacted for p in PLACEHOLDERS.values()), name
    assert redact_text("nothing to hide") == "nothing to hide"


def test_redact_column_equals_redact_text() -> None:
    texts = [f"x {v} y" for v in CANARIES.values()] + ["clean", None]
    assert redact_column(pa.array(texts)).to_pylist() == [None if t is None else redact_text(t) for t in texts]


def _artifact_texts(folder: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            texts[str(path)] = json.dumps(pq.read_table(path).to_pylist(), default=str, ensure_ascii=False)
            continue
        raw = path.read_bytes().decode("utf-8", errors="replace")
        texts[str(path)] = raw
        if path.suffix == ".json":
            texts[f"{path} (decoded)"] = json.dumps(json.loads(raw), ensure_ascii=False)
        if path.suffix in (".html", ".xml"):
            texts[f"{path} (unescaped)"] = html.unescape(raw)
    return texts


@pytest.fixture
def canary_project(tmp_path: Path) -> tuple[Path, Path, Path]:
    values = list(CANARIES.values())
    ex = [
        example_row(
            i,
            pii=None,
            messages=[
                {"role": "system", "content": f"Customer record: {values[i]}"},
                {"role": "user", "content": f"Please help. My details: {values[(i + 1) % len(values)]}."},
                {"role": "assistant", "content": json.dumps({"tool": {"arguments": {"q": values[(i + 2) % 15]}}})},
            ],
        )
        for i in range(len(values))
    ]
    rec = []
    for i, row in enumerate(ex):
        for model, quality in (("gpt-small", 0.5), ("claude-mid", 0.1 if i % 2 else 0.9)):
            answer = f"Sure, I noted {values[(i + 3) % len(values)]} and {values[i]}."
            rec.append(recording_row(str(row["id"]), model, response=answer, quality=quality))
    suite = write_suite(tmp_path / "suite", ex, rec)
    tiers = {"fast": {"models": ["gpt-small"]}, "balanced": {"models": ["claude-mid"]}}
    common: dict[str, Any] = {"tiers": tiers, "rules": [], "escalation": None, "sla": None}
    base = write_project(tmp_path, name="base.yaml", default_tier="fast", **common)
    cand = write_project(tmp_path, name="cand.yaml", default_tier="balanced", **common)
    return suite, base, cand


@pytest.mark.slow
def test_no_canary_in_any_artifact_of_run_and_gate(tmp_path: Path, canary_project: tuple[Path, Path, Path]) -> None:
    suite, base, cand = canary_project
    run = run_cli("run", "--policy", str(base), "--suite", str(suite), "--out", str(tmp_path / "run"), "--no-progress")
    assert run.code == 0, run.stderr
    gate = run_cli(
        "gate",
        "--baseline",
        str(base),
        "--candidate",
        str(cand),
        "--suite",
        str(suite),
        "--out",
        str(tmp_path / "gate"),
        "--no-progress",
    )
    assert gate.code == 1, gate.stdout + gate.stderr  # quality regressions and privacy breaches: fails
    texts = {**_artifact_texts(tmp_path / "run"), **_artifact_texts(tmp_path / "gate")}
    texts |= {
        "run stdout": run.stdout,
        "run stderr": run.stderr,
        "gate stdout": gate.stdout,
        "gate stderr": gate.stderr,
    }
    assert any(name.endswith("verdict.json") for name in texts)
    assert any(name.endswith("report.html") for name in texts)
    leaks = {name: _leaks(text) for name, text in texts.items() if _leaks(text)}
    assert leaks == {}
    verdict = json.loads((tmp_path / "gate" / "verdict.json").read_text(encoding="utf-8"))
    dumped = json.dumps(verdict, ensure_ascii=False)
    for placeholder in ("<SSN>", "<CARD>", "<SECRET>"):  # the texts are there, redacted
        assert placeholder in dumped


def test_no_canary_in_errors_about_a_broken_suite(tmp_path: Path) -> None:
    bad_stakes = [example_row(0, stakes="078-05-1120"), example_row(1, stakes="mail canary.bob@example.com")]
    folder = write_suite(tmp_path / "bad", bad_stakes)
    run = run_cli("validate", str(folder))
    assert run.code == 2
    assert "stakes" in run.stderr
    assert "<SSN>" in run.stderr
    assert _leaks(run.stdout + run.stderr) == []
    rows = [example_row(0)]
    recs = [recording_row("ex0", "gpt-small", error="sk-ant-api03-CanaryCanaryCanary0123456789")]
    folder = write_suite(tmp_path / "bad2", rows, recs)
    run = run_cli("validate", str(folder))
    assert run.code == 2
    assert "<SECRET>" in run.stderr
    assert _leaks(run.stdout + run.stderr) == []
