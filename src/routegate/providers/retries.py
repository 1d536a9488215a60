"""Retries of one live call (``policy.fallback.retry``), and the ``Outcome`` they add up to.

``tenacity`` retries a call whose error kind is in ``retry.on`` up to ``retry.max_attempts``
attempts in all, never a call that failed without a request (``Outcome.skipped``). Before retry
*k* it waits the failed response's Retry-After (seconds or an HTTP date), capped at
``retry.max_backoff_s``, else a full-jitter draw in ``[0, min(max_backoff_s, backoff_s x 2^(k-1))]``;
no wait goes past the run's deadline. docs/providers.md, "Semantics".
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState

from routegate.load.policy import Retry
from routegate.providers.clock import Clock


@dataclass
class Outcome:
    """One logical call (all its retries): what the engine and a recording keep."""

    error: str = ""
    """Error kind of the final attempt (``""``: answered)."""
    input_tokens: int = 0
    """Prompt tokens the provider reported."""
    output_tokens: int = 0
    """Answer tokens the provider reported."""
    latency_ms: float = 0.0
    """Every HTTP attempt and the waits between them."""
    ttft_ms: float = math.nan
    """Time to first token of a streamed answer; NaN when not streamed."""
    finish_reason: str | None = None
    """Why the answer ended, as the provider says (``stop``, ``length``, ...)."""
    text: str | None = None
    """The answer text; ``None`` for a failed call."""
    http_calls: int = 0
    """HTTP attempts made, counted when the policy retries (0 with ``retry.max_attempts`` 1)."""
    retry_after_s: float | None = None
    """The last failed response's Retry-After (seconds), for the backoff."""
    skipped: bool = False
    """Failed without a request: open breaker or past the deadline (never retried)."""


def parse_retry_after(value: str | None, now_wall: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now_wall)


async def send_with_retries(
    attempt: Callable[[], Awaitable[Outcome]],
    retry: Retry,
    clock: Clock,
    rng: random.Random,
    remaining: Callable[[], float],
) -> Outcome:
    """The outcome of ``attempt`` (one HTTP attempt) under ``retry``; ``remaining``: seconds left
    before the run's deadline. With retries, its latency is every attempt and wait, and
    ``http_calls`` counts the attempts; with ``max_attempts`` 1 it is the one attempt's outcome."""
    if retry.max_attempts <= 1:
        return await attempt()
    waited = [0.0]
    calls = [0]
    retry_on = frozenset(retry.on)

    def should_retry(state: RetryCallState) -> bool:
        out: Outcome = state.outcome.result()  # type: ignore[union-attr]
        return bool(out.error) and not out.skipped and out.error in retry_on

    def stop(state: RetryCallState) -> bool:
        return state.attempt_number >= retry.max_attempts or remaining() <= 0

    def wait(state: RetryCallState) -> float:
        out: Outcome = state.outcome.result()  # type: ignore[union-attr]
        cap = retry.max_backoff_s
        if out.retry_after_s is not None:
            delay = min(out.retry_after_s, cap)
        else:
            delay = rng.uniform(0.0, min(cap, retry.backoff_s * 2 ** (state.attempt_number - 1)))
        return min(delay, max(0.0, remaining()))

    async def sleep(seconds: float) -> None:
        waited[0] += seconds
        await clock.sleep(seconds)

    spent = [0.0]

    async def counted() -> Outcome:
        calls[0] += 1
        out = await attempt()
        spent[0] += out.latency_ms
        return out

    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=should_retry,
        sleep=sleep,
        retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
    )
    result: Outcome = await retrying(counted)
    result.latency_ms = spent[0] + 1000.0 * waited[0]
    result.http_calls = calls[0]
    return result
