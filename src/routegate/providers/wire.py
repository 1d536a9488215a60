"""What both API adapters share: the parsed answer and the HTTP status -> error kind map."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """A provider's answer, as the adapters parse it."""

    text: str | None
    input_tokens: int
    output_tokens: int
    finish_reason: str | None
    error: str = ""
    """``""``, or ``refusal`` when the model declined (a successful HTTP call that is no answer)."""


RETRY_STATUSES = frozenset({408, 429})


def error_kind_for_status(status: int) -> str:
    """408 -> timeout, 429 -> rate_limit, 413 -> context_length, 5xx -> server_error, other 4xx -> client_error."""
    if status == 408:
        return "timeout"
    if status == 429:
        return "rate_limit"
    if status == 413:
        return "context_length"
    if status >= 500:
        return "server_error"
    return "client_error"


def is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500
