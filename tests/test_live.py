"""The live provider against httpx.MockTransport on a fake clock: retries, Retry-After, timeouts,
deadline, circuit breaker, rate limit, error mapping and both API shapes."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pytest

from routegate.load.catalog import Catalog
from routegate.load.policy import CircuitBreaker, Fallback, Retry
from routegate.providers.base import CallBatch
from routegate.providers.endpoint import LiveOptions
from routegate.providers.live import LiveFactory, LiveProvider
from routegate.providers.retries import Outcome, parse_retry_after

CANARY = "sk-canary-7f3a9b1c2d4e5f60"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


def catalog(api: str = "openai", **provider: Any) -> Catalog:
    price = {"input_per_1m": 1.0, "output_per_1m": 2.0, "source": "test", "as_of": "2024-01-01"}
    return Catalog.model_validate(
        {
            "version": "1",
            "providers": {"p": {"api": api, "base_url": "http://test/v1", "api_key_env": "RG_TEST_KEY", **provider}},
            "models": {
                "m": {
                    "provider": "p",
                    "privacy": "external",
                    "price": price,
                    "context_window": 1000,
                    "api_model": "wire-name",
                }
            },
        }
    )


def ok_body(text: str = "hi") -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7},
    }


Handler = Callable[[httpx.Request], httpx.Response]


def make(
    handler: Handler,
    *,
    api: str = "openai",
    retry: Retry | None = None,
    breaker: CircuitBreaker | None = None,
    n: int = 1,
    provider: dict[str, Any] | None = None,
    **opts: Any,
) -> tuple[LiveProvider, LiveFactory, FakeClock]:
    clock = opts.pop("clock", None) or FakeClock()
    options = LiveOptions(
        clock=clock,
        transport=lambda name, cfg: httpx.MockTransport(handler),
        env={"RG_TEST_KEY": CANARY},
        seed=1,
        **opts,
    )
    factory = LiveFactory(options)
    examples = pa.table(
        {
            "messages": [
                [{"role": "system", "content": "be brief"}, {"role": "user", "content": f"q{i}"}] for i in range(n)
            ]
        }
    )
    fallback = Fallback(retry=retry or Retry(), circuit_breaker=breaker)
    prov = LiveProvider.build(factory, examples.column("messages"), ("m",), catalog(api, **(provider or {})), fallback)
    return prov, factory, clock


def fetch(prov: LiveProvider, rows: list[int]) -> list[Outcome]:
    return prov.fetch(np.array(rows, dtype=np.int64), np.zeros(len(rows), dtype=np.int64))


def test_openai_request_shape_and_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ok_body("four"))

    prov, factory, _ = make(handler, max_tokens=5, temperature=0.0)
    with factory:
        result = prov.call(
            CallBatch(
                request=np.array([0, 0]),
                model=np.array([0, 0], np.int16),
                models=("m",),
                start_ms=np.zeros(2),
                attempt=np.zeros(2, np.int16),
            )
        )
        (out,) = fetch(prov, [0])
    assert len(seen) == 1  # a (request, model) pair is asked once per run
    assert result.error.tolist() == [0, 0]
    assert result.response.to_pylist() == ["four", "four"]
    assert result.input_tokens.tolist() == [11, 11]
    assert result.output_tokens.tolist() == [7, 7]
    assert (out.error, out.text, out.input_tokens, out.output_tokens, out.finish_reason) == ("", "four", 11, 7, "stop")
    req = seen[0]
    assert req.url.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {CANARY}"
    body = json.loads(req.content)
    assert body["model"] == "wire-name"
    assert body["max_tokens"] == 5
    assert body["temperature"] == 0.0
    assert body["messages"][0] == {"role": "system", "content": "be brief"}


def test_anthropic_shape_system_and_key_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 9, "output_tokens": 2},
            },
        )

    prov, factory, _ = make(handler, api="anthropic")
    with factory:
        (out,) = fetch(prov, [0])
    assert (out.text, out.input_tokens, out.output_tokens, out.finish_reason) == ("ok", 9, 2, "end_turn")
    req = seen[0]
    assert req.url.path == "/v1/messages"
    assert req.headers["x-api-key"] == CANARY
    assert "authorization" not in req.headers
    assert req.headers["anthropic-version"]
    body = json.loads(req.content)
    assert body["system"] == "be brief"
    assert body["messages"] == [{"role": "user", "content": "q0"}]
    assert body["max_tokens"] == 1024


def sse(events: list[dict[str, Any]], done: bool = True) -> bytes:
    lines = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return (lines + ("data: [DONE]\n\n" if done else "")).encode()


def test_openai_stream_ttft_usage_and_refusal() -> None:
    clock = FakeClock()

    class Stream(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            clock.t += 0.2
            yield sse([{"choices": [{"delta": {"content": "Hel"}}]}], done=False)
            clock.t += 0.5
            yield sse(
                [
                    {"choices": [{"delta": {"content": "lo"}, "finish_reason": "length"}]},
                    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
                ]
            )

    prov, factory, _ = make(lambda r: httpx.Response(200, stream=Stream()), stream=True, clock=clock)
    with factory:
        (out,) = fetch(prov, [0])
    assert (out.text, out.finish_reason, out.input_tokens, out.output_tokens) == ("Hello", "length", 3, 2)
    assert out.ttft_ms == pytest.approx(200.0)
    assert out.latency_ms == pytest.approx(700.0)

    refusal = ok_body("no")
    refusal["choices"][0]["message"]["refusal"] = "I can't help with that"
    prov, factory, _ = make(lambda r: httpx.Response(200, json=refusal))
    with factory:
        (out,) = fetch(prov, [0])
    assert out.error == "refusal"
    assert out.text is None


def test_anthropic_stream() -> None:
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 8, "output_tokens": 1}}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "a"}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "b"}},
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 4}},
    ]
    prov, factory, _ = make(
        lambda r: httpx.Response(200, content=sse(events, done=False)), api="anthropic", stream=True
    )
    with factory:
        (out,) = fetch(prov, [0])
    assert (out.text, out.input_tokens, out.output_tokens, out.finish_reason) == ("ab", 8, 4, "max_tokens")
    assert out.ttft_ms >= 0


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {"error": {"message": "bad"}}, "client_error"),
        (401, {"error": {"message": "no key"}}, "client_error"),
        (400, {"error": {"code": "context_length_exceeded", "message": "maximum context length"}}, "context_length"),
        (413, {}, "context_length"),
        (429, {}, "rate_limit"),
        (408, {}, "timeout"),
        (500, {}, "server_error"),
        (503, {}, "server_error"),
    ],
)
def test_error_mapping_and_retry_only_on_transient(status: int, body: dict[str, Any], kind: str) -> None:
    calls = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        return httpx.Response(status, json=body)

    prov, factory, clock = make(handler, retry=Retry(max_attempts=3, backoff_s=1.0))
    with factory:
        (out,) = fetch(prov, [0])
    assert out.error == kind
    transient = status in (408, 429) or status >= 500
    assert calls[0] == (3 if transient else 1)
    assert len(clock.sleeps) == (2 if transient else 0)


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    prov, factory, clock = make(
        lambda r: httpx.Response(502), retry=Retry(max_attempts=6, backoff_s=1.0, max_backoff_s=5.0)
    )
    with factory:
        (out,) = fetch(prov, [0])
    assert out.http_calls == 6
    assert len(clock.sleeps) == 5
    for i, s in enumerate(clock.sleeps):
        assert 0.0 <= s <= min(5.0, 2.0**i)
    assert len(set(clock.sleeps)) == 5  # jittered, not a fixed ladder
    assert out.latency_ms == pytest.approx(1000.0 * sum(clock.sleeps))


def test_retry_after_seconds_and_http_date() -> None:
    state = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        state[0] += 1
        if state[0] == 1:
            return httpx.Response(429, headers={"retry-after": "7"})
        if state[0] == 2:
            when = email.utils.formatdate(time.time() + 4, usegmt=True)
            return httpx.Response(503, headers={"retry-after": when})
        if state[0] == 3:
            return httpx.Response(429, headers={"retry-after": "3600"})  # capped at max_backoff_s
        return httpx.Response(200, json=ok_body())

    prov, factory, clock = make(handler, retry=Retry(max_attempts=4, backoff_s=0.1, max_backoff_s=20.0))
    with factory:
        (out,) = fetch(prov, [0])
    assert out.error == ""
    assert out.text == "hi"
    assert clock.sleeps[0] == 7.0
    assert 2.5 <= clock.sleeps[1] <= 4.0
    assert clock.sleeps[2] == 20.0
    assert parse_retry_after("garbage", time.time()) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", time.time()) == 0.0


def test_timeout_is_an_error_kind_and_retried() -> None:
    calls = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        if calls[0] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        if calls[0] == 2:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=ok_body())

    prov, factory, _ = make(handler, retry=Retry(max_attempts=3))
    with factory:
        (out,) = fetch(prov, [0])
    assert out.error == ""
    assert calls[0] == 3

    prov, factory, _ = make(lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)))
    with factory:
        (out,) = fetch(prov, [0])
    assert out.error == "timeout"


def test_per_request_timeout_on_a_slow_answer() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=ok_body())

    prov, factory, _ = make(slow, provider={"timeout_s": 0.05})  # type: ignore[arg-type]
    start = time.monotonic()
    with factory:
        (out,) = fetch(prov, [0])
    assert out.error == "timeout"
    assert time.monotonic() - start < 2


def test_deadline_fails_calls_that_would_start_late() -> None:
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        clock.t += 10.0
        return httpx.Response(200, json=ok_body())

    prov, factory, _ = make(handler, clock=clock, deadline_s=25.0, n=5, provider={"max_concurrency": 1})
    with factory:
        outs = fetch(prov, [0, 1, 2, 3, 4])
    assert [o.error for o in outs] == ["", "", "", "timeout", "timeout"]
    assert outs[3].latency_ms == 0
    assert outs[3].skipped


def test_circuit_breaker_opens_probes_and_closes() -> None:
    clock = FakeClock()
    healthy = [False]
    calls = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        return httpx.Response(200, json=ok_body()) if healthy[0] else httpx.Response(500)

    prov, factory, _ = make(
        handler, clock=clock, breaker=CircuitBreaker(failures=3, cooldown_s=30.0), n=20, provider={"max_concurrency": 1}
    )
    breaker = prov.endpoints[0].breaker
    assert breaker is not None
    with factory:
        outs = fetch(prov, [0, 1, 2, 3, 4])
        assert [o.error for o in outs] == ["server_error"] * 5
        assert calls[0] == 3
        assert breaker.state == "open"
        assert [o.skipped for o in outs] == [False] * 3 + [True] * 2
        clock.t += 29.0
        fetch(prov, [5])
        assert calls[0] == 3  # still cooling down
        clock.t += 1.0
        (probe,) = fetch(prov, [6])  # the probe fails: open again for a full cooldown
        assert calls[0] == 4
        assert probe.error == "server_error"
        assert breaker.state == "open"
        assert (breaker.trips, breaker.failed_probes) == (1, 1)
        clock.t += 30.0
        healthy[0] = True
        outs = fetch(prov, [7, 8, 9])
        assert [o.error for o in outs] == ["", "", ""]
        assert breaker.state == "closed"
        assert calls[0] == 7


def test_breaker_counts_a_call_once_after_its_retries() -> None:
    """docs/policy.md: a failed call is its final outcome after retries, as the fault drills emulate it."""
    calls = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        return httpx.Response(500)

    prov, factory, _ = make(
        handler,
        retry=Retry(max_attempts=3, backoff_s=0.0),
        breaker=CircuitBreaker(failures=2, cooldown_s=30.0),
        n=3,
        provider={"max_concurrency": 1},
    )
    breaker = prov.endpoints[0].breaker
    assert breaker is not None
    with factory:
        (first,) = fetch(prov, [0])
        assert calls[0] == 3  # three HTTP attempts ...
        assert breaker.state == "closed"  # ... one failed call
        (second,) = fetch(prov, [1])
        assert calls[0] == 6
        assert breaker.state == "open"
        (third,) = fetch(prov, [2])
        assert calls[0] == 6  # skipped without a request
        assert [o.skipped for o in (first, second, third)] == [False, False, True]


def test_rate_limit_spaces_requests() -> None:
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        return httpx.Response(200, json=ok_body())

    prov, factory, _ = make(handler, n=11, provider={"requests_per_second": 50.0, "max_concurrency": 8})
    with factory:
        outs = fetch(prov, list(range(11)))
    assert all(o.error == "" for o in outs)
    assert stamps[-1] - stamps[0] >= 10 / 50 * 0.9


def test_missing_key_is_an_input_error_naming_the_variable_only() -> None:
    from routegate.errors import InputError

    options = LiveOptions(env={}, transport=lambda n, c: httpx.MockTransport(lambda r: httpx.Response(200)))
    with LiveFactory(options) as factory, pytest.raises(InputError) as err:
        LiveProvider.build(factory, pa.table({"messages": [[]]}).column("messages"), ("m",), catalog(), Fallback())
    assert "RG_TEST_KEY" in str(err.value.problems[0].format())


def test_key_never_in_reprs_or_outcomes() -> None:
    prov, factory, _ = make(lambda r: httpx.Response(401, json={"error": {"message": "bad key"}}))
    with factory:
        (out,) = fetch(prov, [0])
        endpoint = prov.endpoints[0]
        texts = [repr(out), repr(prov), repr(endpoint.client.auth), repr(endpoint.client.headers), repr(factory)]
    assert out.error == "client_error"
    assert all(CANARY not in t for t in texts)
