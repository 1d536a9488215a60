"""The live provider: answers the engine's batches with HTTP calls to OpenAI-compatible and Anthropic APIs.

The engine is synchronous; ``LiveProvider.call`` runs each batch on an asyncio loop owned by the
``LiveFactory`` (one per run), so every suite and both policies of a gate share one
``httpx.AsyncClient`` per catalog provider, with:

- bounded concurrency (``max_concurrency``) and a requests-per-second limit (``aiolimiter``);
- retries (``tenacity``) with exponential backoff and full jitter on 408, 429, 5xx and connection
  errors, honouring ``Retry-After`` (seconds or an HTTP date) up to ``retry.max_backoff_s``;
  never on other 4xx (``policy.fallback.retry``);
- a per-request timeout (``timeout_s``) and a deadline for the whole run;
- a per-provider circuit breaker (``policy.fallback.circuit_breaker``).

Waiting goes through a ``Clock`` so the tests run on a fake clock. API keys are read from the
environment variable the catalog names, kept in a ``Secret`` (whose repr is masked) and added to
each request by an ``httpx.Auth``; no error, log line or artifact ever carries one. docs/providers.md.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import httpx
import numpy as np
import pyarrow as pa
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState

from routegate.errors import InputError, Problem
from routegate.load.catalog import Catalog
from routegate.load.catalog import Provider as ProviderConfig
from routegate.load.policy import CircuitBreaker, Fallback, Policy, Retry
from routegate.load.suite import Suite
from routegate.providers import anthropic_api, openai_api
from routegate.providers.base import ERROR_CODES, OK, CallBatch, CallResult
from routegate.providers.wire import Answer, is_retryable_status

HEALTH_FAILURES = frozenset({"timeout", "rate_limit", "server_error"})
"""Failed calls that count against a provider's circuit breaker (an answer such as a 400 or a refusal
shows the provider is up, and resets its run of failures)."""


class Clock(Protocol):
    """Monotonic time in seconds and an awaitable wait; the tests pass a fake one."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> Awaitable[None]: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Secret:
    """An API key: its repr and str are masked, so no traceback or log shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


class _KeyAuth(httpx.Auth):
    """Adds the key header at send time, so it lives in no client default and no config object."""

    def __init__(self, header: str, prefix: str, secret: Secret) -> None:
        self._header = header
        self._prefix = prefix
        self._secret = secret

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers[self._header] = self._prefix + self._secret.reveal()
        yield request

    def __repr__(self) -> str:
        return f"_KeyAuth({self._header!r}, ***)"


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


@dataclass
class Outcome:
    """One logical call (all its retries): what the engine and a recording keep."""

    error: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    ttft_ms: float = math.nan
    finish_reason: str | None = None
    text: str | None = None
    http_calls: int = 0
    retry_after_s: float | None = None
    """The last failed response's Retry-After (seconds), for the backoff."""
    skipped: bool = False
    """Failed without a request: open breaker or past the deadline (never retried)."""


class Breaker:
    """Per provider: ``failures`` failed calls in a row open it for ``cooldown_s``; then one probe decides.

    States: closed (calls go through); open (calls fail at once, no request); after the cooldown,
    half-open: the next call is the probe, the others still fail at once; the probe's success
    closes the breaker, its failure opens it for another cooldown.
    """

    def __init__(self, config: CircuitBreaker | None, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.streak = 0
        self.opened_at: float | None = None
        self.probing = False
        self.opened = 0
        """How many times it opened (for reports and tests)."""

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.probing else "open"

    def allow(self) -> bool:
        if self.config is None or self.opened_at is None:
            return True
        if self.probing or self.clock.now() < self.opened_at + self.config.cooldown_s:
            return False
        self.probing = True
        return True

    def record(self, failed: bool) -> None:
        if self.config is None:
            return
        if self.probing:
            self.probing = False
            if failed:
                self.opened_at = self.clock.now()
                self.opened += 1
            else:
                self.opened_at = None
                self.streak = 0
            return
        if self.opened_at is not None:
            return  # a call that started before the breaker opened
        if not failed:
            self.streak = 0
            return
        self.streak += 1
        if self.streak >= self.config.failures:
            self.opened_at = self.clock.now()
            self.opened += 1
            self.streak = 0


@dataclass(frozen=True)
class LiveOptions:
    """How live calls are made (the catalog and the policy say the rest)."""

    stream: bool = False
    """Stream answers (server-sent events): measures time to first token."""
    max_tokens: int | None = None
    """Sent as ``max_tokens`` (Anthropic requires one: 1024 when unset)."""
    temperature: float | None = None
    deadline_s: float | None = None
    """The whole run's deadline: calls that would start later fail at once as ``timeout``."""
    clock: Clock = field(default_factory=RealClock)
    transport: Callable[[str, ProviderConfig], httpx.AsyncBaseTransport] | None = None
    """Builds the transport of a provider (by name); ``None``: the default (see docs/providers.md)."""
    env: Mapping[str, str] | None = None
    """Where API keys are read; ``None``: ``os.environ``."""
    seed: int | None = None
    """Seed of the backoff jitter (``None``: random)."""


def default_transport(name: str, config: ProviderConfig) -> httpx.AsyncBaseTransport:
    """aiohttp under httpx's API: 5-10x httpx's own pool at concurrency 64+ (docs/performance.md)."""
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(max_connections=config.max_concurrency, max_keepalive_connections=config.max_concurrency)
    return AiohttpTransport(limits=limits, trust_env=False)


class Endpoint:
    """One catalog provider: its client, concurrency bound, rate limiter, breaker and retry rules."""

    def __init__(
        self,
        name: str,
        config: ProviderConfig,
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
        env = os.environ if options.env is None else options.env
        secret: Secret | None = None
        if config.api_key_env:
            value = env.get(config.api_key_env)
            if not value:
                raise InputError(
                    [
                        Problem(
                            "<environment>",
                            0,
                            0,
                            config.api_key_env,
                            f"provider {name!r} reads its API key from ${config.api_key_env}, which is not set",
                        )
                    ]
                )
            secret = Secret(value)
        if config.base_url is None:
            raise InputError(
                [Problem("<catalog>", 0, 0, f"providers.{name}.base_url", "a live provider needs a base_url")]
            )
        auth: httpx.Auth | None = None
        if secret is not None:
            auth = (
                _KeyAuth("x-api-key", "", secret)
                if config.api == "anthropic"
                else _KeyAuth("authorization", "Bearer ", secret)
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
        self.breaker = Breaker(fallback.circuit_breaker, self.clock)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _remaining(self) -> float:
        if self.deadline_at is None:
            return math.inf
        return self.deadline_at - self.clock.now()

    async def send(self, model: str, messages: Sequence[Mapping[str, Any]]) -> Outcome:
        """One logical call with its retries; never raises for a failed call.

        The breaker sees the call's final outcome, after its retries (docs/policy.md), exactly as
        the fault drills emulate it: a skipped call (open breaker, past the deadline) counts neither way.
        """
        if not self.breaker.allow():
            return Outcome(error="server_error", skipped=True)
        out = await self._send(model, messages)
        if not out.skipped:
            self.breaker.record(out.error in HEALTH_FAILURES)
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
        if self.retry.max_attempts <= 1:
            return await self._attempt(payload)
        waited = [0.0]
        calls = [0]
        retry_on = frozenset(self.retry.on)

        def should_retry(state: RetryCallState) -> bool:
            out: Outcome = state.outcome.result()  # type: ignore[union-attr]
            return bool(out.error) and not out.skipped and out.error in retry_on

        def stop(state: RetryCallState) -> bool:
            return state.attempt_number >= self.retry.max_attempts or self._remaining() <= 0

        def wait(state: RetryCallState) -> float:
            out: Outcome = state.outcome.result()  # type: ignore[union-attr]
            cap = self.retry.max_backoff_s
            if out.retry_after_s is not None:
                delay = min(out.retry_after_s, cap)
            else:
                delay = self.rng.uniform(0.0, min(cap, self.retry.backoff_s * 2 ** (state.attempt_number - 1)))
            return min(delay, max(0.0, self._remaining()))

        async def sleep(seconds: float) -> None:
            waited[0] += seconds
            await self.clock.sleep(seconds)

        spent = [0.0]

        async def attempt() -> Outcome:
            calls[0] += 1
            out = await self._attempt(payload)
            spent[0] += out.latency_ms
            return out

        retrying = AsyncRetrying(
            stop=stop,
            wait=wait,
            retry=should_retry,
            sleep=sleep,
            retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        )
        result: Outcome = await retrying(attempt)
        result.latency_ms = spent[0] + 1000.0 * waited[0]
        result.http_calls = calls[0]
        return result

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


class LiveFactory:
    """A ``ProviderFactory`` for ``RunOptions.provider``: one loop and one endpoint per catalog provider per run.

    Use as a context manager (or call ``close``) so the clients and the loop are closed.
    """

    def __init__(self, options: LiveOptions | None = None) -> None:
        self.options = options or LiveOptions()
        self.loop = asyncio.new_event_loop()
        self.endpoints: dict[tuple[str, Retry, CircuitBreaker | None], Endpoint] = {}
        self.rng = random.Random(self.options.seed)  # noqa: S311 (backoff jitter, not cryptography)
        self.deadline_at = (
            None if self.options.deadline_s is None else self.options.clock.now() + self.options.deadline_s
        )
        self.providers: list[LiveProvider] = []

    def endpoint(self, name: str, config: ProviderConfig, fallback: Fallback) -> Endpoint:
        """The endpoint of a provider; two policies with the same retry and breaker rules share it."""
        key = (name, fallback.retry, fallback.circuit_breaker)
        found = self.endpoints.get(key)
        if found is None:
            found = Endpoint(name, config, fallback, self.options, self.deadline_at, self.rng)
            self.endpoints[key] = found
        return found

    def __call__(self, suite: Suite, models: tuple[str, ...], policy: Policy) -> LiveProvider:
        messages = suite.column("examples", "messages")
        provider = LiveProvider.build(self, messages, models, policy.catalog, policy.spec.fallback)
        self.providers.append(provider)
        return provider

    def run(self, coro: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        endpoints = list(self.endpoints.values())

        async def close_all() -> None:
            await asyncio.gather(*(e.aclose() for e in endpoints))

        self.loop.run_until_complete(close_all())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def __enter__(self) -> LiveFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class LiveProvider:
    """Answers the engine's batches live. A (request, model) pair is asked once per run: a second call
    (e.g. two tiers sharing a model) gets the first answer, as replaying its recording would."""

    factory: LiveFactory
    messages: pa.ChunkedArray | pa.Array
    models: tuple[str, ...]
    api_models: tuple[str, ...]
    endpoints: tuple[Endpoint, ...]
    outcomes: dict[tuple[int, int], Outcome] = field(default_factory=dict)
    """Every call made, by (example row, model index): what ``routegate record`` and the tests read."""

    @classmethod
    def build(
        cls,
        factory: LiveFactory,
        messages: pa.ChunkedArray | pa.Array,
        models: tuple[str, ...],
        catalog: Catalog,
        fallback: Fallback,
    ) -> LiveProvider:
        endpoints = []
        for model in models:
            name = catalog.models[model].provider
            endpoints.append(factory.endpoint(name, catalog.providers[name], fallback))
        return cls(
            factory=factory,
            messages=messages,
            models=models,
            api_models=tuple(catalog.models[m].api_model or m for m in models),
            endpoints=tuple(endpoints),
        )

    def fetch(self, request: np.ndarray, model: np.ndarray) -> list[Outcome]:
        """Outcomes of the given calls (made now unless already made in this run)."""
        keys = list(zip(request.tolist(), model.tolist(), strict=True))
        todo = sorted({k for k in keys if k not in self.outcomes})
        if todo:
            rows = pa.array([k[0] for k in todo], pa.int64())
            texts = self.messages.take(rows).to_pylist()

            async def one(key: tuple[int, int], messages: list[dict[str, Any]]) -> None:
                self.outcomes[key] = await self.endpoints[key[1]].send(self.api_models[key[1]], messages)

            async def run_all() -> None:
                await asyncio.gather(*(one(k, m) for k, m in zip(todo, texts, strict=True)))

            self.factory.run(run_all())
        return [self.outcomes[k] for k in keys]

    def call(self, batch: CallBatch) -> CallResult:
        got = self.fetch(batch.request, batch.model)
        return outcomes_result(got)


def outcomes_result(got: Sequence[Outcome]) -> CallResult:
    n = len(got)
    error = np.fromiter((ERROR_CODES[o.error] if o.error else OK for o in got), dtype=np.int8, count=n)
    return CallResult(
        error=error,
        input_tokens=np.fromiter((o.input_tokens for o in got), dtype=np.int64, count=n),
        output_tokens=np.fromiter((o.output_tokens for o in got), dtype=np.int64, count=n),
        latency_ms=np.fromiter((o.latency_ms for o in got), dtype=np.float64, count=n),
        confidence=np.full(n, np.nan),
        quality=np.full(n, np.nan),
        response=pa.array([o.text for o in got], pa.string()),
    )
