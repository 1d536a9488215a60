"""The live provider: answers the engine's batches with HTTP calls to OpenAI-compatible and Anthropic APIs.

The engine is synchronous; ``LiveProvider.call`` runs each batch on an asyncio loop owned by the
``LiveFactory`` (one per run), so every suite and both policies of a gate share one
``endpoint.Endpoint`` (one ``httpx.AsyncClient``, concurrency bound, rate limit and circuit
breaker) per provider entry of the catalog. Retries and backoff are in ``retries``, API keys in ``keys``, the
breaker's state machine in ``breaker``. No error, log line or artifact ever carries a key.
docs/providers.md.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from routegate.load.catalog import Catalog, ProviderEntry
from routegate.load.policy import CircuitBreaker, Fallback, Policy, Retry
from routegate.load.suite import Suite
from routegate.providers.base import ERROR_CODES, OK, CallBatch, CallResult
from routegate.providers.endpoint import Endpoint, LiveOptions
from routegate.providers.retries import Outcome

# LiveOptions (endpoint) and Outcome (retries) are part of the live provider's API: importable from here.


class LiveFactory:
    """A ``ProviderFactory`` for ``RunOptions.provider``: one loop, and one endpoint per provider entry, per run.

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

    def endpoint(self, name: str, config: ProviderEntry, fallback: Fallback) -> Endpoint:
        """The endpoint of a provider; two policies with the same retry and breaker rules share it."""
        key = (name, fallback.retry, fallback.circuit_breaker)
        found = self.endpoints.get(key)
        if found is None:
            found = Endpoint(name, config, fallback, self.options, self.deadline_at, self.rng)
            self.endpoints[key] = found
        return found

    def __call__(self, suite: Suite, models: tuple[str, ...], policy: Policy) -> LiveProvider:
        """The live provider of one suite and policy (kept in ``providers``)."""
        messages = suite.column("examples", "messages")
        provider = LiveProvider.build(self, messages, models, policy.catalog, policy.spec.fallback)
        self.providers.append(provider)
        return provider

    def run(self, coro: Awaitable[Any]) -> Any:
        """Run ``coro`` to its end on the factory's loop."""
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        """Close every endpoint's client, then the loop (again: nothing)."""
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

    independent_calls = False
    """A batch is one round of concurrent calls (its size is the concurrency the providers see)."""
    factory: LiveFactory
    """The run's loop and endpoints."""
    messages: pa.ChunkedArray | pa.Array
    """The suite's ``messages`` column (one chat per example row)."""
    models: tuple[str, ...]
    """Catalog model ids of the run, by model index."""
    api_models: tuple[str, ...]
    """The names sent on the wire (``api_model``, else the id), by model index."""
    endpoints: tuple[Endpoint, ...]
    """The endpoint of each model's provider, by model index."""
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
        """The provider of ``models`` with ``fallback``'s retry and breaker rules, on ``factory``'s endpoints."""
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
        """Answer the batch live (``fetch``)."""
        got = self.fetch(batch.request, batch.model)
        return outcomes_result(got)


def outcomes_result(got: Sequence[Outcome]) -> CallResult:
    """The ``CallResult`` of the given outcomes, in their order (no confidence or pre-judged quality)."""
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
