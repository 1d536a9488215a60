"""The Anthropic Messages API: request body, response and stream parsing, error mapping.

Pure functions over dicts and strings (no I/O). System messages go to the top-level ``system``
field; ``max_tokens`` is required by this API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from routegate.providers.wire import Answer, error_kind_for_status

PATH = "/messages"
VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024


def headers(api_key: str | None) -> dict[str, str]:
    out = {"content-type": "application/json", "anthropic-version": VERSION}
    if api_key:
        out["x-api-key"] = api_key
    return out


def body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int | None,
    temperature: float | None,
    stream: bool,
) -> dict[str, Any]:
    system = "\n\n".join(str(m["content"]) for m in messages if m["role"] == "system")
    out: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens if max_tokens is not None else DEFAULT_MAX_TOKENS,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "system"],
    }
    if system:
        out["system"] = system
    if temperature is not None:
        out["temperature"] = temperature
    if stream:
        out["stream"] = True
    return out


def _error(stop_reason: str | None) -> str:
    return "refusal" if stop_reason == "refusal" else ""


def parse(data: Mapping[str, Any]) -> Answer:
    """A non-streamed message."""
    blocks = data.get("content") or []
    text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
    usage = data.get("usage") or {}
    stop = data.get("stop_reason")
    return Answer(
        text=text,
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        finish_reason=stop,
        error=_error(stop),
    )


class StreamParser:
    """Feeds on server-sent-event ``data:`` payloads of a streamed message."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.input_tokens = 0
        self.output_tokens = 0
        self.finish_reason: str | None = None

    def feed(self, payload: str) -> bool:
        event = json.loads(payload)
        kind = event.get("type")
        if kind == "message_start":
            usage = (event.get("message") or {}).get("usage") or {}
            self.input_tokens = int(usage.get("input_tokens") or 0)
            self.output_tokens = int(usage.get("output_tokens") or 0)
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                self.parts.append(delta["text"])
                return True
        elif kind == "message_delta":
            usage = event.get("usage") or {}
            if "output_tokens" in usage:
                self.output_tokens = int(usage["output_tokens"])
            stop = (event.get("delta") or {}).get("stop_reason")
            if stop:
                self.finish_reason = stop
        return False

    def answer(self) -> Answer:
        return Answer(
            text="".join(self.parts),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            finish_reason=self.finish_reason,
            error=_error(self.finish_reason),
        )


CONTEXT_WORDS = ("prompt is too long", "context window", "too many tokens", "context length")


def error_kind(status: int, text: str) -> str:
    lowered = text.lower()
    if status in (400, 413) and any(w in lowered for w in CONTEXT_WORDS):
        return "context_length"
    if status == 529:  # overloaded
        return "server_error"
    return error_kind_for_status(status)
