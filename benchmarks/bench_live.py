"""Client-side throughput of live calls against one minimal local OpenAI-compatible server.

The server (routegate.providers.fakeserver, aiohttp, its own process) answers at once, so the
client is what is measured. At each concurrency, in the same run: a bare aiohttp loop (the floor),
a bare httpx.AsyncClient loop (httpx's own pool), httpx over the httpx-aiohttp transport, and
routegate's live path (LiveProvider.fetch, default transport). Figures: docs/performance.md.

    python benchmarks/bench_live.py [--requests 3000] [--concurrency 16 64 256]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import numpy as np
import pyarrow as pa
from httpx_aiohttp import AiohttpTransport

from routegate.load.catalog import Catalog
from routegate.load.policy import Fallback
from routegate.providers.endpoint import LiveOptions
from routegate.providers.live import LiveFactory, LiveProvider

BODY = {"model": "m", "messages": [{"role": "user", "content": "What is 2 + 2?"}]}


async def loop_with(n: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> None:
    left = [n]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def bare_aiohttp(url: str, n: int, concurrency: int) -> None:
    payload = json.dumps(BODY).encode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one() -> None:
            async with session.post(url, data=payload, headers={"content-type": "application/json"}) as r:
                await r.read()

        await loop_with(n, concurrency, one)


async def bare_httpx(url: str, n: int, concurrency: int, transport: httpx.AsyncBaseTransport | None = None) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, transport=transport, trust_env=False) as client:

        async def one() -> None:
            (await client.post(url, json=BODY)).raise_for_status()

        await loop_with(n, concurrency, one)


def routegate_path(port: int, n: int, concurrency: int) -> None:
    price = {"input_per_1m": 1.0, "output_per_1m": 1.0, "source": "bench", "as_of": "2025-01-01"}
    catalog = Catalog.model_validate(
        {
            "version": "bench",
            "providers": {"p": {"base_url": f"http://127.0.0.1:{port}/v1", "max_concurrency": concurrency}},
            "models": {"m": {"provider": "p", "privacy": "private", "price": price, "context_window": 4096}},
        }
    )
    examples = pa.table({"messages": [[{"role": "user", "content": f"What is {i} + 2?"}] for i in range(n)]})
    with LiveFactory(LiveOptions()) as factory:
        provider = LiveProvider.build(factory, examples.column("messages"), ("m",), catalog, Fallback())
        outs = provider.fetch(np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.int64))
    assert all(o.error == "" for o in outs)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def seconds_at(url: str, port: int, n: int, c: int) -> list[float]:
    """Seconds for ``n`` requests at concurrency ``c``: aiohttp, httpx (1,000 requests, scaled up),
    httpx over aiohttp, routegate."""
    return [
        timed(lambda: asyncio.run(bare_aiohttp(url, n, c))),
        timed(lambda: asyncio.run(bare_httpx(url, min(n, 1000), c))) * n / min(n, 1000),
        timed(lambda: asyncio.run(bare_httpx(url, n, c, AiohttpTransport(
            limits=httpx.Limits(max_connections=c), trust_env=False)))),
        timed(lambda: routegate_path(port, n, c)),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64, 256])
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "routegate.providers.fakeserver"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        n = args.requests
        print(f"{n:,} requests per cell; requests/s (higher is better)")
        print(f"{'concurrency':>11}  {'aiohttp':>9}  {'httpx':>9}  {'httpx+aiohttp':>13}  {'routegate':>9}")
        for c in args.concurrency:
            rates = [n / t for t in seconds_at(url, port, n, c)]
            print(f"{c:>11}  {rates[0]:>9,.0f}  {rates[1]:>9,.0f}  {rates[2]:>13,.0f}  {rates[3]:>9,.0f}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
