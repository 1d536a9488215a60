"""The model catalog: every model a policy may name, its provider, privacy class and price.

Prices live here, in one file that every policy references, so that a price
change is one reviewed diff. See docs/policy.md#the-model-catalog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, field_validator

from routegate.load.schema import Frozen, pattern

PrivacyClass = Literal["external", "private"]
ApiStyle = Literal["openai", "anthropic"]

ModelId = Annotated[
    str,
    Field(
        pattern=pattern(
            r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$", "a model id: letters, digits and . _ : / @ + - (no spaces)"
        ),
        max_length=200,
    ),
]
"""Model ids: letters, digits and ``. _ : / @ + -``; no spaces."""


class Price(Frozen):
    """List price of one model, per million tokens, with where it came from."""

    input_per_1m: float = Field(ge=0)
    """USD per 1M input (prompt) tokens."""
    output_per_1m: float = Field(ge=0)
    """USD per 1M output (completion) tokens."""
    source: str = Field(min_length=1)
    """Where the price was read (a URL or document)."""
    as_of: dt.date
    """The date the price was read or published (YYYY-MM-DD)."""


class ProviderEntry(Frozen):
    """A provider entry: how to reach one provider's endpoint. Only the live provider reads the connection fields."""

    api: ApiStyle = "openai"
    """Wire protocol: ``openai`` (chat completions) or ``anthropic`` (messages)."""
    base_url: str | None = None
    """Base URL of the API, e.g. ``https://api.openai.com/v1``."""
    api_key_env: str | None = Field(
        default=None,
        pattern=pattern(r"^[A-Z_][A-Z0-9_]*$", "the name of an environment variable (A-Z, 0-9, _)", echo=False),
    )
    """Name of the environment variable that holds the API key (never the key itself)."""
    timeout_s: float = Field(default=60.0, gt=0)
    """Per-request timeout in seconds."""
    max_concurrency: int = Field(default=16, ge=1, le=4096)
    """Requests in flight at once."""
    requests_per_second: float | None = Field(default=None, gt=0)
    """Rate limit; ``null`` for none."""


class Model(Frozen):
    """One model as the catalog knows it."""

    provider: str = Field(min_length=1)
    """Key of an entry in ``providers``."""
    privacy: PrivacyClass
    """``external`` (a third-party API) or ``private`` (self-hosted: may see PII)."""
    price: Price
    """List price per 1M tokens."""
    context_window: int = Field(gt=0)
    """Maximum input + output tokens."""
    api_model: str | None = None
    """The model name the provider's API expects, when it differs from the catalog id."""
    description: str = ""


class Catalog(Frozen):
    """The contents of a catalog file such as ``policies/models.yaml``."""

    version: str = Field(min_length=1)
    """Version of the catalog (e.g. the date prices were last reviewed)."""
    description: str = ""
    providers: dict[str, ProviderEntry] = Field(min_length=1)
    """Provider name -> its entry (how to reach it)."""
    models: dict[ModelId, Model] = Field(min_length=1)

    @field_validator("providers")
    @classmethod
    def _provider_names(cls, value: dict[str, ProviderEntry]) -> dict[str, ProviderEntry]:
        for name in value:
            if not name or " " in name:
                raise ValueError(f"provider name {name!r} must be a non-empty word")
        return value

    def provider_of(self, model: str) -> str:
        return self.models[model].provider

    @property
    def model_ids(self) -> list[str]:
        return sorted(self.models)

    def prices(self) -> Mapping[str, tuple[float, float]]:
        return {m: (v.price.input_per_1m, v.price.output_per_1m) for m, v in self.models.items()}
