"""The fault scenario file: what goes wrong, where, and when on the run's virtual clock.

A scenario has a name, a description (the clause after "If" in the report's
sentence), a seed for every draw, an optional arrival process that replaces
the suite's ``arrival_ms``, and a list of faults. Each fault names exactly one
``provider`` or ``model`` and, except ``price``, an optional window
(``start`` + ``duration`` on the virtual clock; no duration: until the end).
Times are seconds, or strings such as ``"250ms"``, ``"30s"``, ``"10m"``,
``"2h"``, ``"1d"``. docs/faults.md documents every field.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from routegate.errors import InputError, Problem, format_path
from routegate.load.catalog import Catalog
from routegate.load.schema import Frozen, pattern, validate_document
from routegate.load.sources import parse_source
from routegate.load.yamlsource import Path as DocPath
from routegate.load.yamlsource import YamlDocument, parse_yaml

_UNITS_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration_ms(value: Any) -> Any:
    """``"10m"`` -> 600000.0; a bare number is seconds; anything else is left for pydantic to reject."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 30s, 10m or 2h, got true/false")
    if isinstance(value, int | float):
        return float(value) * 1000.0
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"must be a duration such as 250ms, 30s, 10m, 2h or 1d (or a number of seconds), got {value!r}"
            )
        return float(match.group(1)) * _UNITS_MS[match.group(2)]
    raise ValueError(f"must be a duration such as 30s, 10m or 2h, got {type(value).__name__}")


Duration = Annotated[float, BeforeValidator(parse_duration_ms), Field(ge=0)]
"""A time on the virtual clock or a length of time, held in milliseconds."""

InjectedError = Literal["rate_limit", "server_error", "timeout", "refusal"]
DEFAULT_ERROR_LATENCY_MS = 100.0
"""Latency of an injected rate_limit, server_error or refusal when the fault does not set one."""


class Target(Frozen):
    """Exactly one of ``provider`` (the name of a provider entry in the catalog) or ``model`` (a catalog model id)."""

    provider: str | None = None
    model: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.provider is None) == (self.model is None):
            raise ValueError("name exactly one of provider or model")
        return self

    @property
    def label(self) -> str:
        return self.provider if self.provider is not None else f"model {self.model}"


class Windowed(Target):
    start: Duration = 0.0
    """When the fault begins on the virtual clock (default: at the start of the run)."""
    duration: Duration | None = None
    """How long it lasts; ``null`` (the default): until the end of the run."""

    @property
    def end(self) -> float:
        return math.inf if self.duration is None else self.start + self.duration


class Outage(Windowed):
    """Every call to the target fails during the window."""

    type: Literal["outage"]
    error: Literal["server_error", "timeout"] = "server_error"
    """``server_error`` (HTTP 503, fails fast) or ``timeout`` (hangs until the provider's ``timeout_s``)."""
    latency_ms: float | None = Field(default=None, ge=0)
    """Latency of each failed call; default 100 ms for server_error, the catalog ``timeout_s`` for timeout."""


class Errors(Windowed):
    """Each call to the target fails with probability ``rate`` (a seeded draw per call and retry)."""

    type: Literal["errors"]
    kind: InjectedError
    rate: float = Field(gt=0, le=1)
    retry_after_s: float | None = Field(default=None, ge=0)
    """rate_limit only: the Retry-After the provider sends (honoured up to ``retry.max_backoff_s``)."""
    latency_ms: float | None = Field(default=None, ge=0)
    """Latency of each failed call; default 100 ms, the catalog ``timeout_s`` for timeout."""

    @model_validator(mode="after")
    def _retry_after(self) -> Errors:
        if self.retry_after_s is not None and self.kind != "rate_limit":
            raise ValueError("retry_after_s only applies to kind: rate_limit")
        return self


class Latency(Windowed):
    """The target's answers take ``multiplier`` times as long during the window."""

    type: Literal["latency"]
    multiplier: float = Field(gt=0)


class PriceShock(Target):
    """A price shock (``type: price``): the target's prices are multiplied by ``multiplier`` from ``start`` on."""

    type: Literal["price"]
    multiplier: float = Field(gt=0)
    """Factor on the catalog price of every call to the target."""
    start: Duration = 0.0
    """When the shock begins on the virtual clock; it lasts until the end of the run."""


Fault = Outage | Errors | Latency | PriceShock
FAULT_TYPES: dict[str, type[Outage] | type[Errors] | type[Latency] | type[PriceShock]] = {
    "outage": Outage,
    "errors": Errors,
    "latency": Latency,
    "price": PriceShock,
}


class Arrival(Frozen):
    """An arrival process replacing the suite's ``arrival_ms``: a fixed rate or a seeded diurnal profile."""

    process: Literal["fixed_rate", "diurnal"]
    rate_per_s: float = Field(gt=0)
    """Requests per second (the mean rate for ``diurnal``)."""
    peak_to_trough: float = Field(default=3.0, ge=1)
    """diurnal: busiest-hour rate / quietest-hour rate."""
    period: Duration = 86_400_000.0
    """diurnal: length of one cycle (default 24h)."""
    peak_at: Duration = 50_400_000.0
    """diurnal: when in the cycle the rate peaks (default 14h)."""

    def arrivals_ms(self, n: int, seed: int) -> np.ndarray:
        """Arrival time of each of ``n`` requests, in table order (sorted, starting near 0)."""
        if self.process == "fixed_rate":
            return np.arange(n, dtype=np.float64) * (1000.0 / self.rate_per_s)
        # Non-homogeneous Poisson process by time change: unit-rate arrivals mapped through
        # the inverse of the cumulative intensity Lambda(t) = rate * (t + a * P/2pi * (...)).
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0xA55]))
        unit = np.cumsum(rng.exponential(1.0, size=n))
        a = (self.peak_to_trough - 1) / (self.peak_to_trough + 1)
        rate_ms = self.rate_per_s / 1000.0
        horizon = unit[-1] / rate_ms / (1 - a) + self.period if n else self.period
        grid = np.linspace(0.0, horizon, max(4096, int(horizon / self.period * 4096)))
        omega = 2 * np.pi / self.period
        phase = omega * self.peak_at
        cum = rate_ms * (grid + a / omega * (np.sin(omega * grid - phase) + np.sin(phase)))
        return np.asarray(np.interp(unit, cum, grid), dtype=np.float64)


NAME_PATTERN = pattern(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", "letters, digits and _ . : - (e.g. together-down-2h)")


class Scenario(Frozen):
    """The contents of a scenario file (faults validated one by one, by ``type``)."""

    name: str = Field(min_length=1, max_length=80, pattern=NAME_PATTERN)
    description: str = Field(min_length=1, max_length=200)
    """The clause the report puts after "If": e.g. ``together is down for 2 hours``."""
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    """Seed of every draw (errors, jitter, diurnal arrivals)."""
    arrival: Arrival | None = None
    """Replaces the suite's ``arrival_ms``; default: the suite's own arrival times."""
    faults: tuple[Outage | Errors | Latency | PriceShock, ...] = ()

    def price_shock(self) -> bool:
        return any(isinstance(f, PriceShock) for f in self.faults)


class _ScenarioHead(Frozen):
    name: str = Field(min_length=1, max_length=80, pattern=NAME_PATTERN)
    description: str = Field(min_length=1, max_length=200)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    arrival: Arrival | None = None
    faults: tuple[dict[str, Any], ...] = ()


def _sub_document(doc: YamlDocument, path: DocPath) -> YamlDocument:
    data: Any = doc.data
    for part in path:
        data = data[part]
    k = len(path)
    return YamlDocument(
        doc.file,
        data,
        {p[k:]: pos for p, pos in doc.values.items() if p[:k] == path},
        {p[k:]: pos for p, pos in doc.keys.items() if p[:k] == path},
    )


def _prefixed(problem: Problem, path: DocPath) -> Problem:
    inner = "" if problem.field == "-" else problem.field
    sep = "" if not inner or inner.startswith("[") else "."
    return Problem(problem.file, problem.line, problem.col, format_path(path) + sep + inner, problem.message)


def parse_scenario(doc: YamlDocument, catalog: Catalog | None = None) -> Scenario:
    """Validate a parsed scenario (each fault against the schema of its ``type``); ``InputError`` on any problem."""
    head = validate_document(_ScenarioHead, doc)
    problems: list[Problem] = []
    faults: list[Fault] = []
    for i, raw in enumerate(head.faults):
        path: DocPath = ("faults", i)
        kind = raw.get("type")
        model = FAULT_TYPES.get(kind) if isinstance(kind, str) else None
        if model is None:
            problems.append(doc.problem((*path, "type"), f"must be one of {', '.join(FAULT_TYPES)}, got {kind!r}"))
            continue
        try:
            fault = validate_document(model, _sub_document(doc, path))
        except InputError as exc:
            problems += [_prefixed(p, path) for p in exc.problems]
            continue
        if catalog is not None:
            if fault.provider is not None and fault.provider not in catalog.providers:
                known = ", ".join(sorted(catalog.providers))
                problems.append(
                    doc.problem((*path, "provider"), f"unknown provider {fault.provider!r}; known: {known}")
                )
            if fault.model is not None and fault.model not in catalog.models:
                problems.append(doc.problem((*path, "model"), f"unknown model {fault.model!r}; not in the catalog"))
        faults.append(fault)
    if problems:
        raise InputError(sorted(set(problems)))
    return Scenario(
        name=head.name, description=head.description, seed=head.seed, arrival=head.arrival, faults=tuple(faults)
    )


def load_scenario(spec: str, catalog: Catalog | None = None) -> Scenario:
    """Load a scenario file (path or git:REF:path); ``catalog`` checks provider and model names."""
    source = parse_source(spec)
    return parse_scenario(parse_yaml(source.read_text(), source.display), catalog)
