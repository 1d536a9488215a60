"""PII detection: every kind and its tricky variants, checksums, normalisation, fail-closed, routing attributes."""

from __future__ import annotations

import time
import typing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import example_row, recording_row, write_project, write_suite
from routegate.engine.detection import detect_examples, with_detected_pii
from routegate.engine.plan import plan_tiers
from routegate.load.policy import Condition, PiiKind, load_policy
from routegate.load.suite import load_suite
from routegate.pii import ALL_KINDS, KINDS, detect_texts, normalise_column, normalise_text
from routegate.pii.patterns import iban_ok, luhn_ok, ssn_ok
from routegate.pipeline import run_policy
from routegate.report.explain import describe_condition

POSITIVE: list[tuple[str, str]] = [
    ("email", "write to jane.doe+work@example.co.uk please"),
    ("email", "jane [at] example [dot] org"),
    ("email", "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
    ("email", "jane\u200b@example.com"),
    ("phone", "call +44 20 7946 0958 today"),
    ("phone", "call (212) 555-0123."),
    ("phone", "call 212.555.0123"),
    ("phone", "call +1-212-555-0123"),
    ("phone", "call +٤٤ ٢٠ ٧٩٤٦ ٠٩٥٨"),
    ("card", "card 4111111111111111"),
    ("card", "card 4111 1111 1111 1111."),
    ("card", "card 4111-1111-1111-1111"),
    ("card", "amex 3782 822463 10005"),
    ("card", "card ４１１１ １１１１ １１１１ １１１１"),
    ("card", "card 4111\u200b1111\u00a01111 1111"),
    ("iban", "IBAN GB82 WEST 1234 5698 7654 32."),
    ("iban", "IBAN DE89370400440532013000"),
    ("iban", "IBAN DE89 ३७०४ ००४४ ०५३२ ०१३० ००"),
    ("ssn", "SSN 078-05-1120."),
    ("ssn", "SSN 078 05 1120"),
    ("ssn", "SSN 078.05.1120"),
    ("ssn", "SSN 078\u201305\u20131120"),
    ("ip", "host 192.168.10.1."),
    ("ip", "host 2001:db8::8a2e:370:7334"),
    ("ip", "host 2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("secret", "key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("secret", "key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
    ("secret", "AWS AKIAIOSFODNN7EXAMPLE"),
    ("secret", "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
    ("secret", "xoxb-12345678901-123456789012-AbCdEfGhIjKl"),
    ("secret", 'config: api_key = "a1b2c3d4e5f6a7b8"'),
    ("secret", '{"password": "hunter2hunter2"}'),
    ("secret", "-----BEGIN OPENSSH PRIVATE KEY-----"),
]
NEGATIVE: list[str] = [
    "card 4111 1111 1111 1112",  # fails Luhn
    "IBAN GB82 WEST 1234 5698 7654 33",  # fails mod-97
    "SSN 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000",  # invalid areas, group, serial
    "SSN 123-45.6789",  # mixed separators
    "host 256.1.1.1 or 01.2.3.4",
    "C++ std::vector and slicing a[::2] at 12:30:45",
    "the year 2023 had 365 days; version 1.2.3; 1,234,567 people",
    "password = get_password()",  # code, not a value
    "x = 1234567890123",
    "mail me @ 5pm",
]


@pytest.mark.parametrize(("kind", "text"), POSITIVE)
def test_each_kind_and_variant_is_detected(kind: str, text: str) -> None:
    kinds = detect_texts(pa.array([text])).kinds().to_pylist()[0]
    assert kind in kinds


@pytest.mark.parametrize("text", NEGATIVE)
def test_lookalikes_are_not_detected(text: str) -> None:
    assert detect_texts(pa.array([text])).kinds().to_pylist() == [[]]


def test_checksums() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert luhn_ok("378282246310005")
    assert iban_ok("GB82WEST12345698765432")
    assert not iban_ok("GB82WEST12345698765433")
    assert ssn_ok("078051120")
    assert not any(ssn_ok(s) for s in ("000051120", "666051120", "900051120", "078001120", "078050000"))


def test_column_and_string_normalisation_agree() -> None:
    texts = ["plain", "４２", "a\u200bb\u00a0c\u2013d", "\u0661\u0662\u0663", "\u0967\u0968", "ﬁ", None, ""]
    column = normalise_column(pa.array(texts)).to_pylist()
    assert column == [None if t is None else normalise_text(t) for t in texts]
    assert column[:5] == ["plain", "42", "ab c-d", "123", "12"]


def test_batches_split_anywhere_give_the_same_result() -> None:
    texts = pa.array([t for _, t in POSITIVE] + NEGATIVE)
    whole = detect_texts(texts).matrix
    for rows in (1, 3, 7):
        assert np.array_equal(detect_texts(texts, batch_rows=rows).matrix, whole)


def _failing(batch: pa.Array) -> np.ndarray:
    raise RuntimeError("detector crashed")


def test_a_failing_detector_fails_closed() -> None:
    det = detect_texts(pa.array(["hello", "world", "again"]), detector=_failing, batch_rows=2)
    assert det.found.tolist() == [True, True, True]
    assert det.failed.tolist() == [True, True, True]
    assert det.kinds().to_pylist() == [["unknown"]] * 3


def test_only_the_failing_batch_fails_closed() -> None:
    def flaky(batch: pa.Array) -> np.ndarray:
        if "boom" in batch.to_pylist():
            raise ValueError("bad batch")
        return np.zeros((len(batch), len(KINDS)), dtype=bool)

    det = detect_texts(pa.array(["a", "b", "boom", "c"]), detector=flaky, batch_rows=2)
    assert det.found.tolist() == [False, False, True, True]


def test_a_slow_batch_fails_closed() -> None:
    def slow(batch: pa.Array) -> np.ndarray:
        time.sleep(0.05)
        return np.zeros((len(batch), len(KINDS)), dtype=bool)

    det = detect_texts(pa.array(["a", "b"]), detector=slow, batch_budget_s=0.01)
    assert det.failed.tolist() == [True, True]
    assert not detect_texts(pa.array(["a"]), detector=slow, batch_budget_s=10).found.any()


def test_a_slow_request_fails_closed_alone() -> None:
    det = detect_texts(pa.array(["mail a@example.com", "no pii here"]), request_budget_s=-1.0)
    assert det.kinds().to_pylist() == [["unknown"], []]


def test_every_message_is_scanned_including_system_and_tool_turns() -> None:
    table = pa.table(
        {
            "messages": [
                [{"role": "system", "content": "Customer: 078-05-1120"}, {"role": "user", "content": "hi"}],
                [{"role": "user", "content": "hi"}, {"role": "assistant", "content": '{"args": {"ip": "10.0.0.7"}}'}],
                [{"role": "user", "content": "a@example.com"}, {"role": "user", "content": "AKIAIOSFODNN7EXAMPLE"}],
                [{"role": "user", "content": None}],
            ]
        }
    )
    assert detect_examples(table).kinds().to_pylist() == [["ssn"], ["ip"], ["email", "secret"], []]


def test_policy_kinds_match_the_detector() -> None:
    assert typing.get_args(PiiKind) == ALL_KINDS


def _suite(tmp_path: Path) -> Path:
    rows = [
        example_row(0, pii=None, messages=[{"role": "user", "content": "my card is 4111 1111 1111 1111"}]),
        example_row(1, pii=None, messages=[{"role": "user", "content": "what is 2 + 2?"}]),
        example_row(2, pii=False, messages=[{"role": "user", "content": "mail a@example.com"}]),  # label wins
        example_row(3, pii=True, messages=[{"role": "user", "content": "nothing detectable"}]),  # label wins
        example_row(4, pii=None, messages=[{"role": "user", "content": "ssh key AKIAIOSFODNN7EXAMPLE"}]),
    ]
    recs = [
        recording_row(r["id"], m)
        for r in rows
        for m in ("gpt-small", "gpt-big", "claude-mid", "llama-local", "qwen-local")
    ]
    return write_suite(tmp_path / "suite", rows, recs)


def test_null_labels_are_decided_by_detection_and_labels_take_precedence(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path))
    assert suite.examples.column("pii").to_pylist() == [None, None, False, True, None]
    done = with_detected_pii(suite)
    assert done.examples.column("pii").to_pylist() == [True, False, False, True, True]
    assert done.examples.column("pii_kinds").to_pylist() == [["card"], [], ["email"], [], ["secret"]]
    assert with_detected_pii(suite).examples.equals(done.examples)  # the same answer when asked again
    assert with_detected_pii(done).examples.equals(done.examples)  # detecting a detected suite changes nothing
    assert suite.examples.column("pii").to_pylist() == [None, None, False, True, None]  # the loaded suite kept


def test_pii_kinds_any_routes_and_is_described(tmp_path: Path) -> None:
    policy_path = write_project(
        tmp_path,
        rules=[
            {"name": "secrets-home", "when": {"pii_kinds_any": ["secret", "unknown"]}, "tier": "private"},
            {"name": "pii-home", "when": {"pii": True}, "tier": "reasoning"},
        ],
    )
    policy = load_policy(str(policy_path))
    suite = load_suite(_suite(tmp_path))
    plan = plan_tiers(suite.examples, policy.spec)  # outside the pipeline: detected on the fly
    tiers = [plan.tiers[t] for t in plan.tier]
    assert tiers == ["reasoning", "balanced", "balanced", "reasoning", "private"]
    result = run_policy(policy, [suite])
    assert result.traces.column("initial_tier").to_pylist() == tiers
    assert result.traces.column("pii").to_pylist() == [True, False, False, True, True]
    assert "PII of kind `secret` or `unknown` was detected" in describe_condition(
        Condition(pii_kinds_any=("secret", "unknown"))
    )


def test_runs_over_one_suite_detect_as_a_run_over_a_fresh_suite(tmp_path: Path) -> None:
    """Detection's result, shared by every run over a loaded suite, is the same for the second run as
    for a run over a freshly loaded suite, and leaves the loaded suite's labels as they were."""
    policy = load_policy(str(write_project(tmp_path)))
    suite = load_suite(_suite(tmp_path))
    first, second = run_policy(policy, [suite]), run_policy(policy, [suite])
    fresh = run_policy(policy, [load_suite(_suite(tmp_path))])
    assert first.traces.column("pii").to_pylist() == [True, False, False, True, True]
    assert second.traces.equals(first.traces)
    assert fresh.traces.equals(first.traces)
    assert suite.examples.column("pii").to_pylist() == [None, None, False, True, None]


def test_a_failing_detector_routes_requests_as_pii(tmp_path: Path) -> None:
    policy = load_policy(str(write_project(tmp_path)))
    suite = load_suite(_suite(tmp_path))
    failed = with_detected_pii(suite, detector=_failing)
    result = run_policy(policy, [failed])
    # labels still win (rows 2 and 3); every unlabelled request counts as PII and goes private
    assert result.traces.column("pii").to_pylist() == [True, True, False, True, True]
    assert result.traces.column("initial_tier").to_pylist()[:2] == ["private", "private"]
