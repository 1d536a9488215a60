"""One provider entry's live calls: its HTTP client, concurrency bound, rate limit, breaker and timeouts.

An ``Endpoint`` sends one logical call at a time (``send``) on the asyncio loop of the run, with:

- bounded concurrency (``max_concurrency``) and a requests-per-second limit (``aiolimiter``);
- retries with backoff (``retries.send_with_retries``);
- a per-request timeout (``timeout_s``) and a deadline for the whole run;
- the provider's circuit breaker (``breaker.Breaker``, ``policy.fallback.circuit_breaker``).

Waiting goes through a ``Clock`` so the tests run on a fake clock. docs/providers.md.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from routegate.errors import InputError, Problem
from routegate.load.catalog import ProviderEntry
from routegate.load.policy import Fallback, Retry
from routegate.providers import anthropic_api, openai_api
from routegate.providers.breaker import BREAKER_KINDS, Breaker
from routegate.providers.clock import Clock, RealClock
from routegate.providers.keys import key_auth
from routegate.providers.retries import Outcome, parse_retry_after, send_with_retries
from routegate.providers.wire import Answer, is_retryable_status


@dataclass(frozen=True)
class LiveOptions:
    """How live calls are made (the catalog and the policy say the rest)."""

    stream: bool = False
    """Stream answers (server-sent events): measures time to first token."""
    max_tokens: int | None = None
    """Sent as ``max_tokens`` (Anthropic requires one: 1024 when unset)."""
    temperature: float | None = None
    """Sent as ``temperature`` when set."""
    deadline_s: float | None = None
    """The whole run's deadline: calls that would start later fail at once as ``timeout``."""
    clock: Clock = field(default_factory=RealClock)
    """What calls wait on and measure with."""
    transport: Callable[[str, ProviderEntry], httpx.AsyncBaseTransport] | None = None
    """Builds the transport of a provider (by name); ``None``: the default (see docs/providers.md)."""
    env: Mapping[str, str] | None = None
    """Where API keys are read; ``None``: ``os.environ``."""
    seed: int | None = None
    """Seed of the backoff jitter (``None``: random)."""


def default_transport(name: str, config: ProviderEntry) -> httpx.AsyncBaseTransport:
    """aiohttp under httpx's API: 5-10x httpx's own pool at concurrency 64+ (docs/performance.md)."""
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(max_connections=config.max_concurrency, max_keepalive_connections=config.max_concurrency)
    return AiohttpTransport(limits=limits, trust_env=False)


class Endpoint:
    """One provider entry of the catalog: its client, concurrency bound, rate limiter, breaker and retry rules."""

    def __init__(
        self,
        name: str,
        config: ProviderEntry,
        fallback: Fallback,
        options: LiveOptions,
        deadline_at: float | None,
        rng: random.Random,
    ) -> None:
        self.name = name
        self.config = config
        self.retry: Retry = fallback.retry
        self.options = options
        self.clock = options.clock
        self.deadline_at = deadline_at
        self.rng = rng
        self.api: ModuleType = anthropic_api if config.api == "anthropic" else openai_api
        auth = key_auth(name, config, os.environ if options.env is None else options.env)
        if config.base_url is None:
            raise InputError(
                [Problem("<catalog>", 0, 0, f"providers.{name}.base_url", "a live provider needs a base_url")]
            )
        make = options.transport or default_transport
        self.client = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/"),
            transport=make(name, config),
            auth=auth,
            timeout=httpx.Timeout(config.timeout_s),
            headers=self.api.headers(None),
            trust_env=False,
        )
        self.semaphore = asyncio.Semaphore(config.max_concurrency)
        rps = config.requests_per_second
        # max_rate=1 per 1/rps seconds: no burst above the rate (a bucket of rps would allow one).
        self.limiter = AsyncLimiter(1, 1.0 / rps) if rps else None
        breaker = fallback.circuit_breaker
        self.breaker = None if breaker is None else Breaker(breaker)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    def _remaining(self) -> float:
        if self.deadline_at is None:
            return math.inf
        return self.deadline_at - self.clock.now()

    async def send(self, model: str, messages: Sequence[Mapping[str, Any]]) -> Outcome:
        """One logical call with its retries; never raises for a failed call.

        The breaker sees the call's final outcome, after its retries (docs/policy.md), exactly as
        the drills emulate it: a skipped call (open breaker, past the deadline) counts neither way.
        """
        if self.breaker is None:
            return await self._send(model, messages)
        ticket = self.breaker.admit(self.clock.now())
        if ticket is None:
            return Outcome(error="server_error", skipped=True)
        out = await self._send(model, messages)
        if not out.skipped:
            self.breaker.settle(ticket, out.error in BREAKER_KINDS, self.clock.now())
        return out

    async def _send(self, model: str, messages: Sequence[Mapping[str, Any]]) -> Outcome:
        body = self.api.body(
            model,
            messages,
            max_tokens=self.options.max_tokens,
            temperature=self.options.temperature,
            stream=self.options.stream,
        )
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return await send_with_retries(
            lambda: self._attempt(payload), self.retry, self.clock, self.rng, self._remaining
        )

    async def _attempt(self, payload: bytes) -> Outcome:
        async with self.semaphore:
            if self.limiter is not None:
                await self.limiter.acquire()
            remaining = self._remaining()
            if remaining <= 0:
                return Outcome(error="timeout", skipped=True)
            return await self._request(payload, min(self.config.timeout_s, remaining))

    async def _request(self, payload: bytes, timeout_s: float) -> Outcome:
        start = self.clock.now()
        ttft = math.nan
        try:
            async with asyncio.timeout(timeout_s):
                request = self.client.build_request("POST", self.api.PATH, content=payload)
                response = await self.client.send(request, stream=True)
                try:
                    if response.status_code >= 400:
                        text = (await response.aread()).decode("utf-8", "replace")
                        kind = self.api.error_kind(response.status_code, text)
                        retry_after = None
                        if is_retryable_status(response.status_code):
                            retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
                        return Outcome(
                            error=kind, latency_ms=1000.0 * (self.clock.now() - start), retry_after_s=retry_after
                        )
                    if self.options.stream:
                        parser = self.api.StreamParser()
                        async for line in response.aiter_lines():
                            if line.startswith("data:") and parser.feed(line[5:].strip()) and math.isnan(ttft):
                                ttft = 1000.0 * (self.clock.now() - start)
                        answer: Answer = parser.answer()
                    else:
                        answer = self.api.parse(json.loads(await response.aread()))
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(error="timeout", latency_ms=1000.0 * (self.clock.now() - start))
        except (httpx.TransportError, OSError):
            return Outcome(error="server_error", latency_ms=1000.0 * (self.clock.now() - start))
        except (ValueError, KeyError, TypeError, AttributeError):  # an unreadable body
            return Outcome(error="server_error", latency_ms=1000.0 * (self.clock.now() - start))
        return Outcome(
            error=answer.error,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            latency_ms=1000.0 * (self.clock.now() - start),
            ttft_ms=ttft,
            finish_reason=answer.finish_reason,
            text=None if answer.error else answer.text,
        )
