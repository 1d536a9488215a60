"""A minimal, fast OpenAI- and Anthropic-compatible server on 127.0.0.1, for tests and benchmarks.

``python -m routegate.providers.fakeserver [--port 0] [--delay-ms 0] [--fail-every 0] [--api-key KEY]``
prints ``PORT <n>`` once listening. The answer is deterministic: it quotes the length of the last
message, so a replay of a recording can be checked against a second live run. With ``--api-key``
it answers 401 to a request without that key (tests check the key is sent, and never written).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from aiohttp import web


def answer_text(messages: list[dict[str, Any]]) -> str:
    last = str(messages[-1]["content"]) if messages else ""
    return f"The answer is {len(last) % 97}"


def reply(messages: list[dict[str, Any]]) -> tuple[str, int, int]:
    """(answer text, prompt tokens, completion tokens): characters / 4, rounded up, as a rough count."""
    text = answer_text(messages)
    return text, sum(len(str(m["content"])) for m in messages) // 4 + 1, len(text) // 4 + 1


def make_app(delay_ms: float = 0.0, fail_every: int = 0, api_key: str | None = None) -> web.Application:
    count = [0]

    def authorised(request: web.Request) -> bool:
        if api_key is None:
            return True
        return (
            request.headers.get("authorization") == f"Bearer {api_key}" or request.headers.get("x-api-key") == api_key
        )

    async def common(request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        count[0] += 1
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000.0)
        if not authorised(request):
            return {}, web.json_response({"error": {"message": "bad key"}}, status=401)
        if fail_every and count[0] % fail_every == 0:
            return {}, web.json_response({"error": {"message": "overloaded"}}, status=503)
        return await request.json(), None

    async def chat(request: web.Request) -> web.Response:
        body, failed = await common(request)
        if failed is not None:
            return failed
        text, prompt, completion = reply(body["messages"])
        return web.json_response(
            {
                "id": "x",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
            }
        )

    async def messages(request: web.Request) -> web.Response:
        body, failed = await common(request)
        if failed is not None:
            return failed
        text, prompt, completion = reply(body["messages"])
        return web.json_response(
            {
                "id": "x",
                "type": "message",
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": prompt, "output_tokens": completion},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/messages", messages)
    return app


async def serve(port: int, delay_ms: float, fail_every: int, api_key: str | None) -> None:
    runner = web.AppRunner(make_app(delay_ms, fail_every, api_key), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    server: Any = site._server
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port, args.delay_ms, args.fail_every, args.api_key))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
