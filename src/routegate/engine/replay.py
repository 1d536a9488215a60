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
The loop's inputs and outputs live beside it: the policy's lookup tables in
``routegate.engine.chains``, the attempts table in ``routegate.engine.attempts``
and the result in ``routegate.engine.result``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.labels import label_in
from routegate.arrow.memo import Memo, MemoKind, shared_array
from routegate.arrow.zeros import zeros
from routegate.engine.attempts import ESCALATION, FALLBACK, AttemptBuffers
from routegate.engine.chains import ChainTables, latency_budget, policy_models
from routegate.engine.plan import Plan, plan_tiers
from routegate.engine.result import Replay
from routegate.load.catalog import Catalog
from routegate.load.policy import PolicySpec
from routegate.providers.base import OK, CallBatch, CallResult, Provider

"""``replay`` and what its callers name with it (the result type, the run's model index, the fallback kind)."""

ConfidenceFn = Callable[[pa.Array], np.ndarray]
"""Confidence in [0, 1] for each response text (NaN when it cannot tell)."""
StepHook = Callable[[int, int], None]
"""Called after each batch step with (step number, requests still pending)."""

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


STAKES_FORCED: MemoKind[np.ndarray] = MemoKind("replay.stakes_forced")
"""``replay``: per request, its stakes always escalate (read-only); parts: the escalating stakes."""
LATENCY_BUDGET: MemoKind[np.ndarray] = MemoKind("replay.latency_budget")
"""``replay``: per request, its SLA class's latency budget (read-only); parts: the (class, budget) pairs."""


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
    rules = ChainTables.of(spec, catalog, models, tiers)
    max_esc = spec.escalation.max_escalations

    stakes = spec.escalation.always_for_stakes
    stakes_forced = shared_array(memo, STAKES_FORCED.key(stakes), lambda: label_in(examples.column("stakes"), stakes))
    budgets = tuple((name, cls.latency_budget_ms) for name, cls in (spec.sla or {}).items())
    budget = shared_array(memo, LATENCY_BUDGET.key(budgets), lambda: latency_budget(examples, budgets))
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
    calls = AttemptBuffers(capacity=2 * n)  # the first step's n calls, then room for as many retries

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
    attempts = calls.table(models, tiers)
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


def _check_result(batch: CallBatch, res: CallResult) -> None:
    """A provider that answers the wrong number of calls is a bug, not bad input."""
    n = len(batch)
    for name in ("error", "input_tokens", "output_tokens", "latency_ms", "confidence", "quality"):
        if getattr(res, name).shape != (n,):
            raise RuntimeError(f"provider returned {getattr(res, name).shape} for {name!r}; expected ({n},)")
    if len(res.response) != n:
        raise RuntimeError(f"provider returned {len(res.response)} responses; expected {n}")
