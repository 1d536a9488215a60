"""The OpenAI-compatible chat completions API: request body, response and stream parsing, error mapping.

Pure functions over dicts and strings (no I/O), so every shape is unit-tested without a server.
The same shapes serve OpenAI, vLLM, llama.cpp's server, Ollama's /v1 and LiteLLM's proxy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from routegate.providers.wire import Answer, error_kind_for_status

PATH = "/chat/completions"


def headers(api_key: str | None) -> dict[str, str]:
    out = {"content-type": "application/json"}
    if api_key:
        out["authorization"] = f"Bearer {api_key}"
    return out


def body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int | None,
    temperature: float | None,
    stream: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {"model": model, "messages": [{"role": m["role"], "content": m["content"]} for m in messages]}
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    if temperature is not None:
        out["temperature"] = temperature
    if stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _finish(finish_reason: str | None, refusal: object) -> str:
    if refusal or finish_reason == "content_filter":
        return "refusal"
    return ""


def parse(data: Mapping[str, Any]) -> Answer:
    """A non-streamed chat completion."""
    choices = data.get("choices") or [{}]
    choice = choices[0] or {}
    message = choice.get("message") or {}
    usage = data.get("usage") or {}
    finish = choice.get("finish_reason")
    return Answer(
        text=message.get("content"),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        finish_reason=finish,
        error=_finish(finish, message.get("refusal")),
    )


class StreamParser:
    """Feeds on server-sent-event ``data:`` payloads of a streamed completion."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.input_tokens = 0
        self.output_tokens = 0
        self.finish_reason: str | None = None
        self.refusal = False

    def feed(self, payload: str) -> bool:
        """Takes one event's data; returns True when it carried answer text (for time to first token)."""
        if payload.strip() == "[DONE]":
            return False
        event = json.loads(payload)
        usage = event.get("usage") or {}
        if usage:
            self.input_tokens = int(usage.get("prompt_tokens") or 0)
            self.output_tokens = int(usage.get("completion_tokens") or 0)
        got_text = False
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.parts.append(delta["content"])
                got_text = True
            if delta.get("refusal"):
                self.refusal = True
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return got_text

    def answer(self) -> Answer:
        return Answer(
            text="".join(self.parts),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            finish_reason=self.finish_reason,
            error=_finish(self.finish_reason, self.refusal),
        )


CONTEXT_WORDS = ("context_length_exceeded", "context length", "maximum context", "too many tokens", "context window")


def error_kind(status: int, text: str) -> str:
    """Error kind of a failed HTTP response (its body read as text)."""
    lowered = text.lower()
    if status in (400, 413) and any(w in lowered for w in CONTEXT_WORDS):
        return "context_length"
    return error_kind_for_status(status)
