"""API keys of live providers: read from the environment variable the catalog names, never shown.

A key is held in a ``Secret`` (whose repr is masked) and added to each request at send time by an
``httpx.Auth``, so it lives in no client default, config object or error message (docs/providers.md,
"Keys").
"""

from __future__ import annotations

from collections.abc import Generator, Mapping

import httpx

from routegate.errors import InputError, Problem
from routegate.load.catalog import ProviderEntry


class Secret:
    """An API key: its repr and str are masked, so no traceback or log shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself (only for the request header)."""
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

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._prefix + self._secret.reveal()
        yield request

    def __repr__(self) -> str:
        return f"_KeyAuth({self._header!r}, ***)"


def key_auth(name: str, config: ProviderEntry, env: Mapping[str, str]) -> httpx.Auth | None:
    """The auth that sends provider ``name``'s key (``None`` when the catalog names no key variable);
    ``InputError`` naming the variable when it is not set in ``env``."""
    if not config.api_key_env:
        return None
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
    if config.api == "anthropic":
        return _KeyAuth("x-api-key", "", secret)
    return _KeyAuth("authorization", "Bearer ", secret)
