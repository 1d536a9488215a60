"""Step 3 of the pipeline: the attempt loop, in batch steps over columns.

Every pending request is at some position of some tier's chain. One step asks
the provider for all pending requests at once, then, with numpy masks:

* a failed call whose error kind falls back, with chain left and latency
  budget left, moves to the next model of the chain (fallback);
* any other failed call ends the request: with the best answer it already had
  (an escalation that failed keeps the cheaper answer), else as failed;
* a successful answer whose confidence is below its tier's escalation
  threshold, or whose request has escalating stakes, moves to the first model
  of the next tier (escalation), within ``max_escalations`` and the budget;
* every other successful answer is final.

The loop runs at most (longest chain) x (escalations + 1) steps, whatever the
number of requests. Nothing here knows whether answers are recorded or live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.labels import label_in
from routegate.arrow.memo import Memo, shared_array
from routegate.arrow.take import take_rows
from routegate.arrow.zeros import zeros
from routegate.engine.plan import Plan, plan_tiers
from routegate.load.catalog import Catalog
from routegate.load.policy import PolicySpec
from routegate.providers.base import ERROR_CODES, MISSING, OK, CallBatch, CallResult, Provider

FIRST, FALLBACK, ESCALATION = 0, 1, 2
ATTEMPT_KINDS: tuple[str, ...] = ("first", "fallback", "escalation")

ConfidenceFn = Callable[[pa.Array], np.ndarray]
"""Confidence in [0, 1] for each response text (NaN when it cannot tell)."""
StepHook = Callable[[int, int], None]
"""Called after each batch step with (step number, requests still pending)."""
ResponseSource = Callable[[np.ndarray], pa.Array]
"""The response texts of the given recording rows (e.g. ``partial(suite.take, "recordings", "response")``)."""


def policy_models(spec: PolicySpec) -> tuple[str, ...]:
    """Every model the policy can call, sorted (the model index of a run)."""
    return tuple(sorted({m for tier in spec.tiers.values() for m in tier.models}))


@dataclass(frozen=True)
class Replay:
    """What happened to every request (row-aligned with the examples) and every call."""

    plan: Plan
    models: tuple[str, ...]
    final_tier: np.ndarray
    """int16 tier index of the final answer (the last tier tried when the request failed)."""
    final_model: np.ndarray
    """int16 model index of the final answer; -1 when the request failed."""
    final_attempt: np.ndarray
    """int64 row in ``attempts`` of the final answer; -1 when the request failed."""
    n_attempts: np.ndarray
    fell_back: np.ndarray
    escalated: np.ndarray
    failed: np.ndarray
    last_error: np.ndarray
    """int8 error code of the last failed call (0 when none failed)."""
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    cost_usd: np.ndarray
    latency_ms: np.ndarray
    privacy_breach: np.ndarray
    breach_attempt: np.ndarray
    """int16 attempt number (0-based) of the first call that leaked PII; -1 when none did."""
    confidence_missing: np.ndarray
    """An escalation decision had to be made without any confidence value."""
    attempts: pa.Table
    """One row per call: request, attempt, model, tier, kind, error, tokens, cost, latency, start."""
    responses: pa.ChunkedArray
    """Response text per attempt row (null for failed calls; all null when texts were not gathered)."""
    recorded_quality: np.ndarray
    """float64 per attempt row: the recording's pre-judged quality (NaN when none)."""

    source_rows: np.ndarray
    """int64 per attempt row: the recording the answer came from, -1 when unknown (live calls)."""
    text_gathered: bool
    """Whether ``responses`` holds the texts (else fetch them from the recordings by ``source_rows``)."""

    def final_responses(self, source: ResponseSource | None = None, rows: np.ndarray | None = None) -> pa.Array:
        """The final answer's text per request (null when it failed); only ``rows`` when given.

        When the replay did not gather texts, they are read from ``source`` (the recordings
        the recorded provider answered from), by recording row.
        """
        final = self.final_attempt if rows is None else self.final_attempt[np.asarray(rows, dtype=np.int64)]
        ok = final >= 0
        if not self.text_gathered:
            if source is None:
                raise RuntimeError("texts were not gathered during the replay; pass the recordings' responses")
            row = self.source_rows[np.where(ok, final, 0)] if self.source_rows.size else np.full(ok.size, -1)
            have = ok & (row >= 0)
            texts = source(row[have]).cast(pa.string())
            # Request i takes text k when it is the k-th request with an answer; a null index gives a null.
            position = np.cumsum(have) - 1
            return texts.take(pa.array(position, pa.int64(), mask=~have))
        taken = take_rows(self.responses, np.where(ok, final, 0))
        return pc.if_else(pa.array(ok), taken, pa.nulls(len(ok), pa.string()))

    def final_recorded_quality(self) -> np.ndarray:
        ok = self.final_attempt >= 0
        return np.where(ok, self.recorded_quality[np.where(ok, self.final_attempt, 0)], np.nan)


ATTEMPT_COLUMNS: dict[str, type] = {
    "request": np.int64,
    "attempt": np.int16,
    "model": np.int32,  # int32: the index type of the dictionary arrays of the attempts table
    "tier": np.int32,
    "kind": np.int32,
    "error": np.int8,
    "input_tokens": np.int64,
    "output_tokens": np.int64,
    "cost_usd": np.float64,
    "latency_ms": np.float64,
    "start_ms": np.float64,
    "source_row": np.int64,
    "quality": np.float64,
}


class _Calls:
    """The columns of every call, written step by step into buffers (no per-step chunks to concatenate).

    A buffer's pages are only touched where calls are written, so a generous capacity costs
    address space, not memory; when a run needs more, the buffers grow (a copy) by doubling.
    """

    def __init__(self, capacity: int) -> None:
        self.buffers: dict[str, np.ndarray] = {
            name: np.empty(capacity, dtype) for name, dtype in ATTEMPT_COLUMNS.items()
        }
        self.responses: list[pa.Array] = []
        self.size = 0

    def reserve(self, count: int) -> slice:
        """The attempt rows of the next ``count`` calls."""
        capacity = len(self.buffers["request"])
        if self.size + count > capacity:
            grown = max(2 * capacity, self.size + count)
            for name, old in self.buffers.items():
                self.buffers[name] = np.empty(grown, old.dtype)
                self.buffers[name][: self.size] = old[: self.size]
        rows = slice(self.size, self.size + count)
        self.size += count
        return rows

    def out(self, name: str, rows: slice) -> np.ndarray:
        """The buffer rows of column ``name`` (a view, to write into)."""
        return self.buffers[name][rows]

    def column(self, name: str) -> np.ndarray:
        return self.buffers[name][: self.size]


@dataclass(frozen=True)
class _Rules:
    """The policy as small lookup tables, indexed by tier, model or error code."""

    chain: np.ndarray
    """int16 [tier, position] -> model index (-1 past the end of the chain)."""
    chain_len: np.ndarray
    price_in: np.ndarray
    price_out: np.ndarray
    external: np.ndarray
    esc_to: np.ndarray
    """int16 per tier: the tier its escalation step goes to, -1 when none."""
    esc_below: np.ndarray
    falls_back: np.ndarray
    """bool per error code (0..255): the error falls back along the chain."""

    def model_at(self, tier: np.ndarray, position: np.ndarray) -> np.ndarray:
        """``chain[tier, position]``, by one flat gather (~3x faster than numpy's two-array indexing)."""
        width = self.chain.shape[1]
        model: np.ndarray = self.chain.ravel()[tier * width + position]
        return model

    @classmethod
    def of(cls, spec: PolicySpec, catalog: Catalog, models: tuple[str, ...], tiers: tuple[str, ...]) -> _Rules:
        model_index = {m: i for i, m in enumerate(models)}
        longest = max(len(spec.tiers[t].models) for t in tiers)
        chain = np.full((len(tiers), longest), -1, dtype=np.int16)
        for ti, name in enumerate(tiers):
            for p, model in enumerate(spec.tiers[name].models):
                chain[ti, p] = model_index[model]
        tier_pos = {name: i for i, name in enumerate(tiers)}
        esc_to = np.full(len(tiers), -1, dtype=np.int16)
        esc_below = np.zeros(len(tiers), dtype=np.float64)
        for step in spec.escalation.steps:
            esc_to[tier_pos[step.from_tier]] = tier_pos[step.to]
            esc_below[tier_pos[step.from_tier]] = step.below_confidence
        falls_back = np.zeros(256, dtype=bool)
        falls_back[[ERROR_CODES[k] for k in spec.fallback.on] + [MISSING]] = True
        return cls(
            chain=chain,
            chain_len=np.array([len(spec.tiers[t].models) for t in tiers], dtype=np.int16),
            price_in=np.array([catalog.models[m].price.input_per_1m / 1e6 for m in models], dtype=np.float64),
            price_out=np.array([catalog.models[m].price.output_per_1m / 1e6 for m in models], dtype=np.float64),
            external=np.array([catalog.models[m].privacy == "external" for m in models], dtype=bool),
            esc_to=esc_to,
            esc_below=esc_below,
            falls_back=falls_back,
        )


Selection = slice | np.ndarray
"""The pending requests of a step: ``slice(lo, hi)`` when every request of the chunk is pending, else their rows."""

CHUNK_ROWS = 1 << 16
"""Requests replayed together when the provider answers every call independently (see ``replay``)."""


def _select(pending: np.ndarray, lo: int, hi: int) -> Selection:
    """A view instead of a gather when every request of the chunk ``lo:hi`` is pending (its first step).

    ``pending`` is always sorted and duplicate-free within ``lo:hi``, so ``hi - lo`` pending requests
    are exactly ``arange(lo, hi)``.
    """
    return slice(lo, hi) if pending.size == hi - lo else pending


def _put(column: np.ndarray, sel: Selection, where: np.ndarray, values: np.ndarray | float | bool) -> None:
    """``column[pending[where]] = values[where]``, in place without index arrays when ``sel`` is a slice."""
    if isinstance(sel, slice):
        np.copyto(column[sel], values, where=where)
    else:
        column[sel[where]] = values[where] if isinstance(values, np.ndarray) else values


def replay(
    examples: pa.Table,
    spec: PolicySpec,
    catalog: Catalog,
    provider: Provider,
    *,
    models: tuple[str, ...] | None = None,
    confidence_fn: ConfidenceFn | None = None,
    on_step: StepHook | None = None,
    plan: Plan | None = None,
    want_text: bool = True,
    memo: Memo | None = None,
    chunk_rows: int | None = None,
) -> Replay:
    """Run the policy over every request of ``examples`` against ``provider`` (``plan``: already computed).

    ``memo``: the memo of the suite ``examples`` belongs to (``Suite.memo``, as for ``plan_tiers``),
    so that the per-request stakes and latency-budget columns are derived once per suite.

    ``chunk_rows``: replay the requests in chunks of this many, each chunk to its end before the
    next, when the provider answers each call from the call alone (``calls_are_independent``). A
    request's path depends only on its own calls, so every per-request result is the same; only
    the order of the rows of ``attempts`` changes (chunk by chunk, then step by step). Each step's
    temporary arrays then stay in the CPU cache and their memory is reused chunk after chunk: at 1M
    requests ~2x faster than one pass, and fewer fresh pages (docs/performance.md). ``None``: one
    chunk, as a live provider needs (its batches are its concurrency) and a fault injector too
    (its faults depend on the order and time of calls).
    """
    models = models if models is not None else policy_models(spec)
    plan = plan if plan is not None else plan_tiers(examples, spec)
    tiers = plan.tiers
    n = examples.num_rows
    rules = _Rules.of(spec, catalog, models, tiers)
    max_esc = spec.escalation.max_escalations

    stakes = spec.escalation.always_for_stakes
    stakes_forced = shared_array(memo, f"replay:stakes:{stakes!r}", lambda: label_in(examples.column("stakes"), stakes))
    budgets = tuple((name, cls.latency_budget_ms) for name, cls in (spec.sla or {}).items())
    budget = shared_array(memo, f"replay:budget:{budgets!r}", lambda: _latency_budget(examples, budgets))
    # Unknown (null) counts as PII: a table that skipped detection fails closed, never open.
    pii = np.asarray(pc.fill_null(examples.column("pii"), True).to_numpy(zero_copy_only=False), dtype=bool)
    arrival = examples.column("arrival_ms").to_numpy(zero_copy_only=False).astype(np.float64, copy=False)

    tier = plan.tier.copy()
    pos = zeros(n, dtype=np.int16)
    kind = zeros(n, dtype=np.int8)
    escalations = zeros(n, dtype=np.int16)
    n_attempts = zeros(n, dtype=np.int16)
    elapsed = zeros(n, dtype=np.float64)
    cost = zeros(n, dtype=np.float64)
    tokens_in = zeros(n, dtype=np.int64)
    tokens_out = zeros(n, dtype=np.int64)
    fell_back = zeros(n, dtype=bool)
    escalated = zeros(n, dtype=bool)
    failed = zeros(n, dtype=bool)
    last_error = zeros(n, dtype=np.int8)
    breach_attempt = np.full(n, -1, dtype=np.int16)
    conf_missing = zeros(n, dtype=bool)
    best = np.full(n, -1, dtype=np.int64)
    final = np.full(n, -1, dtype=np.int64)
    final_tier = plan.tier.copy()
    calls = _Calls(capacity=2 * n)  # the first step's n calls, then room for as many retries

    step = chunk_rows if chunk_rows is not None and chunk_rows > 0 else max(n, 1)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        pending = np.arange(lo, hi, dtype=np.int64)
        step_no = 0
        while pending.size:
            sel = _select(pending, lo, hi)
            rows = calls.reserve(pending.size)
            calls.out("request", rows)[...] = pending
            t = tier[sel]  # a view when sel is a slice: read only before tier changes below (and only for pending rows)
            p = pos[sel]
            m = rules.model_at(t, p)
            attempt = calls.out("attempt", rows)
            attempt[...] = n_attempts[sel]
            calls.out("model", rows)[...] = m
            calls.out("tier", rows)[...] = t
            calls.out("kind", rows)[...] = kind[sel]
            batch = CallBatch(
                request=pending,
                model=m,
                models=models,
                start_ms=np.add(arrival[sel], elapsed[sel], out=calls.out("start_ms", rows)),
                attempt=attempt,
                want_text=want_text or confidence_fn is not None,
            )
            res = provider.call(batch)
            _check_result(batch, res)
            # Same arithmetic as (in * price_in + out * price_out) * factor, in place (x * 1.0 == x: no factor).
            call_cost = np.multiply(res.input_tokens, rules.price_in[m], out=calls.out("cost_usd", rows))
            call_cost += res.output_tokens * rules.price_out[m]
            if res.price_factor is not None:
                call_cost *= res.price_factor
            calls.out("error", rows)[...] = res.error
            calls.out("input_tokens", rows)[...] = res.input_tokens
            calls.out("output_tokens", rows)[...] = res.output_tokens
            calls.out("latency_ms", rows)[...] = res.latency_ms
            calls.out("source_row", rows)[...] = res.source_row if res.source_row is not None else -1
            calls.out("quality", rows)[...] = res.quality
            calls.responses.append(res.response)
            ids = np.arange(rows.start, rows.stop, dtype=np.int64)

            cost[sel] += call_cost
            tokens_in[sel] += res.input_tokens
            tokens_out[sel] += res.output_tokens
            elapsed[sel] += res.latency_ms
            n_attempts[sel] += 1
            leaked = pii[sel] & rules.external[m] & (breach_attempt[sel] < 0)
            _put(breach_attempt, sel, leaked, attempt)

            ok = res.error == OK
            within = elapsed[sel] < budget[sel]

            # Successful answers: final, or escalate.
            confidence = res.confidence
            if confidence_fn is not None and ok.any():
                unknown = ok & np.isnan(confidence)
                if unknown.any():
                    judged = confidence_fn(res.response)
                    confidence = np.where(unknown, judged, confidence)
            to = rules.esc_to[t]
            has_step = ok & (to >= 0)
            forced = stakes_forced[sel]
            _put(conf_missing, sel, has_step & ~forced & np.isnan(confidence), True)
            wants = has_step & (forced | (confidence < rules.esc_below[t]))
            esc = wants & (escalations[sel] < max_esc) & within
            _put(final, sel, ok & ~esc, ids)
            escalating = np.flatnonzero(esc)  # positions in the step: one pass, then small gathers
            up = pending[escalating]
            # A request still pending after a success escalated from it: its best answer so far, kept
            # in case the escalation fails.
            best[up] = rows.start + escalating
            to_up = to[escalating]

            # Failed calls (few): fall back along the chain, or end. Decided on their positions only.
            failing = np.flatnonzero(~ok)
            error = res.error[failing]
            failing_tier = t[failing]
            can_fall = rules.falls_back[error] & (p[failing] + 1 < rules.chain_len[failing_tier]) & within[failing]
            down = pending[failing[can_fall]]
            ended = pending[failing[~can_fall]]
            end_tier = failing_tier[~can_fall]
            last_error[pending[failing]] = error

            # Every read of t and p is above: with sel a slice they are views of tier and pos.
            tier[up] = to_up
            pos[up] = 0
            kind[up] = ESCALATION
            escalations[up] += 1
            escalated[up] = True
            pos[down] += 1
            kind[down] = FALLBACK
            fell_back[down] = True
            rescued = best[ended] >= 0
            final[ended[rescued]] = best[ended[rescued]]
            failed[ended[~rescued]] = True
            final_tier[ended[~rescued]] = end_tier[~rescued]

            # up and down are disjoint subsets of the sorted pending rows: their union, in order.
            moving = esc
            moving[failing[can_fall]] = True
            pending = pending[moving]
            step_no += 1
            if on_step is not None:
                on_step(step_no, int(pending.size) + n - hi)  # this chunk's, and every later chunk's

    attempts_tier = calls.column("tier")
    attempt_model = calls.column("model")
    answered = final >= 0
    final_model = np.full(n, -1, dtype=np.int16)
    if answered.any():
        # final is -1 where unanswered: that gathers the last attempt's value, which np.where then drops.
        final_tier = np.where(answered, attempts_tier[final], final_tier).astype(np.int16)
        final_model = np.where(answered, attempt_model[final], -1).astype(np.int16)
    attempts = pa.table(
        {
            "request": calls.column("request"),
            "attempt": calls.column("attempt"),
            "model": pa.DictionaryArray.from_arrays(pa.array(attempt_model), pa.array(list(models), pa.string())),
            "tier": pa.DictionaryArray.from_arrays(pa.array(attempts_tier), pa.array(list(tiers), pa.string())),
            "kind": pa.DictionaryArray.from_arrays(pa.array(calls.column("kind")), pa.array(list(ATTEMPT_KINDS))),
            "error": calls.column("error"),
            "input_tokens": calls.column("input_tokens"),
            "output_tokens": calls.column("output_tokens"),
            "cost_usd": calls.column("cost_usd"),
            "latency_ms": calls.column("latency_ms"),
            "start_ms": calls.column("start_ms"),
        }
    )
    return Replay(
        plan=plan,
        models=models,
        final_tier=final_tier,
        final_model=final_model,
        final_attempt=final,
        n_attempts=n_attempts,
        fell_back=fell_back,
        escalated=escalated,
        failed=failed,
        last_error=last_error,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cost_usd=cost,
        latency_ms=elapsed,
        privacy_breach=breach_attempt >= 0,
        breach_attempt=breach_attempt,
        confidence_missing=conf_missing,
        attempts=attempts,
        responses=pa.chunked_array(calls.responses, type=pa.string()),
        source_rows=calls.column("source_row"),
        text_gathered=want_text or confidence_fn is not None,
        recorded_quality=calls.column("quality"),
    )


def _latency_budget(examples: pa.Table, budgets: tuple[tuple[str, float], ...]) -> np.ndarray:
    """float64 per request: the latency budget of its SLA class (inf when none)."""
    budget = np.full(examples.num_rows, np.inf)
    if budgets:
        sla = examples.column("sla")
        for name, ms in budgets:
            budget[label_in(sla, (name,))] = ms
    return budget


def _check_result(batch: CallBatch, res: CallResult) -> None:
    """A provider that answers the wrong number of calls is a bug, not bad input."""
    n = len(batch)
    for name in ("error", "input_tokens", "output_tokens", "latency_ms", "confidence", "quality"):
        if getattr(res, name).shape != (n,):
            raise RuntimeError(f"provider returned {getattr(res, name).shape} for {name!r}; expected ({n},)")
    if len(res.response) != n:
        raise RuntimeError(f"provider returned {len(res.response)} responses; expected {n}")
