"""``FaultInjector``: a ``Provider`` that wraps another and applies a scenario on the virtual clock.

For every batch, vectorised over its calls:

1. ask the inner provider (recorded or live) for the batch;
2. for each try ``r`` of a call (``retry.max_attempts`` tries at most), at virtual time
   start + time spent on earlier tries, decide whether a fault fires: outages always, error
   faults when the call's seeded draw ``u(seed, suite, request, attempt, r, fault)`` < rate.
   The first fault of the file that fires wins. A fired error whose kind is in ``retry.on``
   waits (Retry-After up to ``max_backoff_s``, else exponential backoff with full jitter)
   and tries again; otherwise the call fails with that error, billing no tokens;
3. a try no fault stops reaches the inner provider's answer: its latency is scaled by the
   latency faults and its price by the price faults active at that time;
4. per provider, the circuit breaker (``providers.breaker``, the state machine live calls use
   too) replays the calls in virtual-time order (``faults.walk``): the Python loop advances
   from one breaker event (trip, probe) to the next, never call by call.

Short-circuited calls fail as ``server_error`` with zero latency and no tokens; they are
counted in ``stats.circuit_open``. docs/faults.md states the semantics and approximations.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.faults.scenario import DEFAULT_ERROR_LATENCY_MS, Errors, Latency, Outage, PriceShock, Scenario
from routegate.faults.walk import walk_breaker
from routegate.load.catalog import Catalog
from routegate.load.policy import CircuitBreaker, Retry
from routegate.providers.base import ERROR_CODES, OK, CallBatch, CallResult, Provider
from routegate.providers.breaker import BREAKER_KINDS, Breaker

_BREAKER_CODES = np.array([ERROR_CODES[k] for k in BREAKER_KINDS], dtype=np.int8)
_JITTER_STREAM = 0xFFFF


@dataclass
class FaultStats:
    """What the injector did, for the report (counts over every batch it answered)."""

    injected: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(provider, error kind) -> calls that ended with an injected error."""
    retries: Counter[str] = field(default_factory=Counter)
    """provider -> retries made (tries after the first)."""
    retry_time_ms: float = 0.0
    """Time spent on failed tries and the waits between them (calls that were retried)."""
    circuit_open: Counter[str] = field(default_factory=Counter)
    """provider -> calls short-circuited by an open breaker."""
    trips: Counter[str] = field(default_factory=Counter)
    """provider -> times the breaker opened after ``failures`` failed calls in a row."""
    failed_probes: Counter[str] = field(default_factory=Counter)
    """provider -> probes that failed (the breaker opened again for a cooldown)."""

    def merge(self, other: FaultStats) -> None:
        self.injected.update(other.injected)
        self.retries.update(other.retries)
        self.retry_time_ms += other.retry_time_ms
        self.circuit_open.update(other.circuit_open)
        self.trips.update(other.trips)
        self.failed_probes.update(other.failed_probes)


def _key(*parts: object) -> np.uint64:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return np.uint64(int.from_bytes(digest[:8], "little"))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64 arrays (wrapping arithmetic)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(x ^ (x >> np.uint64(31)), dtype=np.uint64)


def call_draw(key: np.uint64, request: np.ndarray, attempt: np.ndarray, retry: int, stream: int) -> np.ndarray:
    """Uniform [0, 1) per call: a pure function of (key = seed and suite, request row, attempt, retry, stream)."""
    with np.errstate(over="ignore"):
        x = _mix(np.asarray(request, dtype=np.uint64) ^ key)
        x = _mix(x ^ (np.asarray(attempt, dtype=np.uint64) << np.uint64(32)))
        x = _mix(x ^ np.uint64((retry << 20) | stream))
    return np.asarray((x >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53), dtype=np.float64)


def _merge_intervals(intervals: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    if not intervals:
        return np.zeros(0), np.zeros(0)
    ordered = sorted(intervals)
    starts, ends = [ordered[0][0]], [ordered[0][1]]
    for a, b in ordered[1:]:  # one per breaker event, not per call
        if a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    return np.array(starts), np.array(ends)


class FaultInjector:
    """Wraps ``inner`` and applies ``scenario`` (see the module docstring); implements ``Provider``."""

    independent_calls = False
    """The breaker makes a call's outcome depend on the others: it replays a batch's calls in time
    order and remembers when it was open."""

    def __init__(
        self,
        inner: Provider,
        scenario: Scenario,
        catalog: Catalog,
        retry: Retry,
        breaker: CircuitBreaker | None,
        *,
        arrival_ms: np.ndarray | None = None,
        salt: str = "",
    ) -> None:
        """``arrival_ms``: the suite's own arrival times (needed when the scenario has an arrival
        process; without one, the scenario's clock starts at the first of them, so that ``start: 10m``
        means ten minutes into the traffic, whatever epoch the timestamps count from); ``salt``: e.g.
        the suite's name, so two suites draw independently."""
        self.inner = inner
        self.scenario = scenario
        self.catalog = catalog
        self.retry = retry
        self.breaker = breaker
        self.stats = FaultStats()
        self._key = _key(scenario.seed, salt)
        self._retry_codes = np.array([ERROR_CODES[k] for k in retry.on], dtype=np.int8)
        self._shift: np.ndarray | None = None
        self._origin = 0.0
        if scenario.arrival is not None:
            if arrival_ms is None:
                raise ValueError("a scenario with an arrival process needs the suite's arrival_ms")
            own = np.asarray(arrival_ms, dtype=np.float64)
            self._shift = scenario.arrival.arrivals_ms(own.size, scenario.seed) - own
        elif arrival_ms is not None and len(arrival_ms):
            self._origin = float(np.min(np.asarray(arrival_ms, dtype=np.float64)))
        self._models: tuple[str, ...] | None = None
        self._open: dict[str, list[tuple[float, float]]] = {}

    # ------------------------------------------------------------------ per model tables
    def _prepare(self, models: tuple[str, ...]) -> None:
        if self._models == models:
            return
        self._models = models
        providers = sorted({self.catalog.provider_of(m) for m in models})
        self._providers = tuple(providers)
        self._provider_of = np.array([providers.index(self.catalog.provider_of(m)) for m in models], dtype=np.int16)
        self._timeout_ms = np.array(
            [self.catalog.providers[self.catalog.provider_of(m)].timeout_s * 1000.0 for m in models]
        )
        self._targets = [
            np.array(
                [f.model == m if f.model is not None else self.catalog.provider_of(m) == f.provider for m in models]
            )
            for f in self.scenario.faults
        ]

    def clock(self, batch: CallBatch) -> np.ndarray:
        """Virtual start of each call on the scenario's clock."""
        if self._shift is None:
            return np.asarray(batch.start_ms, dtype=np.float64) - self._origin
        return np.asarray(batch.start_ms + self._shift[batch.request], dtype=np.float64)

    def _fire(self, batch: CallBatch, rows: np.ndarray, t: np.ndarray, retry: int) -> tuple[np.ndarray, ...]:
        """(error code, latency, Retry-After ms or NaN) of the fault firing on each try (code 0: none)."""
        code = np.zeros(rows.size, dtype=np.int8)
        latency = np.zeros(rows.size)
        after = np.full(rows.size, np.nan)
        model = batch.model[rows]
        for fi, fault in enumerate(self.scenario.faults):
            if not isinstance(fault, Outage | Errors):
                continue
            hit = self._targets[fi][model] & (t >= fault.start) & (t < fault.end) & (code == 0)
            if isinstance(fault, Errors) and hit.any():
                u = call_draw(self._key, batch.request[rows], batch.attempt[rows], retry, fi)
                hit &= u < fault.rate
            if not hit.any():
                continue
            kind = fault.error if isinstance(fault, Outage) else fault.kind
            code[hit] = ERROR_CODES[kind]
            if fault.latency_ms is not None:
                latency[hit] = fault.latency_ms
            else:
                latency[hit] = self._timeout_ms[model[hit]] if kind == "timeout" else DEFAULT_ERROR_LATENCY_MS
            if isinstance(fault, Errors) and fault.retry_after_s is not None:
                after[hit] = fault.retry_after_s * 1000.0
        return code, latency, after

    def _factor(self, kind: type[Latency] | type[PriceShock], model: np.ndarray, t: np.ndarray) -> np.ndarray:
        out = np.ones(model.size)
        for fi, fault in enumerate(self.scenario.faults):
            if isinstance(fault, kind):
                end = fault.end if isinstance(fault, Latency) else np.inf
                out[self._targets[fi][model] & (t >= fault.start) & (t < end)] *= fault.multiplier
        return out

    # ------------------------------------------------------------------ the Provider method
    def call(self, batch: CallBatch) -> CallResult:
        res = self.inner.call(batch)
        n = len(batch)
        if n == 0:
            return res
        self._prepare(batch.models)
        t0 = self.clock(batch)
        spent = np.zeros(n)
        injected = np.zeros(n, dtype=np.int8)
        injected_latency = np.zeros(n)
        final_t = t0.copy()
        retries = np.zeros(n, dtype=np.int16)
        max_backoff = self.retry.max_backoff_s * 1000.0
        active = np.arange(n)
        for r in range(self.retry.max_attempts):
            t = t0[active] + spent[active]
            code, latency, after = self._fire(batch, active, t, r)
            final_t[active] = t
            failed = code != OK
            again = failed & np.isin(code, self._retry_codes) & (r + 1 < self.retry.max_attempts)
            stop = failed & ~again
            injected[active[stop]] = code[stop]
            injected_latency[active[stop]] = latency[stop]
            if not again.any():
                break
            go = active[again]
            jitter = call_draw(self._key, batch.request[go], batch.attempt[go], r, _JITTER_STREAM)
            backoff = jitter * min(max_backoff, self.retry.backoff_s * 1000.0 * 2**r)
            wait = np.where(np.isnan(after[again]), backoff, np.minimum(after[again], max_backoff))
            spent[go] += latency[again] + wait
            retries[go] += 1
            active = go

        hit = injected != OK
        model = batch.model
        error = np.where(hit, injected, res.error).astype(np.int8)
        latency_ms = spent + np.where(hit, injected_latency, res.latency_ms * self._factor(Latency, model, final_t))
        base_factor = res.price_factor if res.price_factor is not None else np.ones(n)
        price = np.where(hit, 1.0, base_factor * self._factor(PriceShock, model, final_t))
        short = self._break(batch, t0, latency_ms, error)
        gone = hit | short
        if short.any():
            error[short] = ERROR_CODES["server_error"]
            latency_ms[short] = 0.0
        self._count(model, error, hit & ~short, retries, short, spent)
        keep = ~gone
        response = res.response
        if gone.any():
            response = pc.if_else(pa.array(keep), response, pa.nulls(n, pa.string()))
        return CallResult(
            error=error,
            input_tokens=np.where(keep, res.input_tokens, 0),
            output_tokens=np.where(keep, res.output_tokens, 0),
            latency_ms=latency_ms,
            confidence=np.where(keep, res.confidence, np.nan),
            quality=np.where(keep, res.quality, np.nan),
            response=response,
            price_factor=price,
            source_row=None if res.source_row is None else np.where(keep, res.source_row, -1),
        )

    def _break(self, batch: CallBatch, t0: np.ndarray, latency: np.ndarray, error: np.ndarray) -> np.ndarray:
        short = np.zeros(t0.size, dtype=bool)
        if self.breaker is None:
            return short
        provider = self._provider_of[batch.model]
        fail = np.isin(error, _BREAKER_CODES)
        for pi, name in enumerate(self._providers):
            rows = np.flatnonzero(provider == pi)
            if not rows.size or not (fail[rows].any() or self._open.get(name)):
                continue
            rows = rows[np.argsort(t0[rows], kind="stable")]
            t = t0[rows]
            starts, ends = _merge_intervals(self._open.get(name, []))
            inside = np.zeros(rows.size, dtype=bool)
            if starts.size:
                k = np.searchsorted(starts, t, side="right") - 1
                inside = (k >= 0) & (t < ends[np.maximum(k, 0)])
            short[rows[inside]] = True
            rest = rows[~inside]
            walk = walk_breaker(t0[rest], latency[rest], fail[rest], Breaker(self.breaker, per_second=1000.0))
            short[rest[walk.short]] = True
            self._open.setdefault(name, []).extend(walk.intervals)
            self.stats.trips[name] += walk.trips
            self.stats.failed_probes[name] += walk.failed_probes
        return short

    def _count(
        self,
        model: np.ndarray,
        error: np.ndarray,
        injected: np.ndarray,
        retries: np.ndarray,
        short: np.ndarray,
        spent: np.ndarray,
    ) -> None:
        provider = self._provider_of[model]
        for pi, name in enumerate(self._providers):
            mine = provider == pi
            if not mine.any():
                continue
            self.stats.circuit_open[name] += int(np.count_nonzero(mine & short))
            self.stats.retries[name] += int(retries[mine & ~short].sum())
            for kind, code in ERROR_CODES.items():
                count = int(np.count_nonzero(mine & injected & (error == code)))
                if count:
                    self.stats.injected[(name, kind)] += count
        self.stats.retry_time_ms += float(spent[~short].sum())
