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

from routegate.arrowtake import take_rows
from routegate.catalog import Catalog
from routegate.plan import Plan, plan_tiers
from routegate.policy import PolicySpec
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


@dataclass
class _Calls:
    """Accumulates the columns of every call, one chunk per batch step."""

    chunks: list[dict[str, np.ndarray]]
    responses: list[pa.Array]
    size: int = 0

    def add(self, columns: dict[str, np.ndarray], response: pa.Array) -> np.ndarray:
        ids = np.arange(self.size, self.size + response.__len__(), dtype=np.int64)
        self.chunks.append(columns)
        self.responses.append(response)
        self.size += len(response)
        return ids

    def column(self, name: str, dtype: type) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0, dtype=dtype)
        return np.concatenate([c[name] for c in self.chunks]).astype(dtype, copy=False)


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
) -> Replay:
    """Run the policy over every request of ``examples`` against ``provider`` (``plan``: already computed)."""
    models = models if models is not None else policy_models(spec)
    model_index = {m: i for i, m in enumerate(models)}
    plan = plan if plan is not None else plan_tiers(examples, spec)
    tiers = plan.tiers
    n = examples.num_rows

    longest = max(len(spec.tiers[t].models) for t in tiers)
    chain = np.full((len(tiers), longest), -1, dtype=np.int16)
    for ti, name in enumerate(tiers):
        for p, model in enumerate(spec.tiers[name].models):
            chain[ti, p] = model_index[model]
    chain_len = np.array([len(spec.tiers[t].models) for t in tiers], dtype=np.int16)
    price_in = np.array([catalog.models[m].price.input_per_1m / 1e6 for m in models], dtype=np.float64)
    price_out = np.array([catalog.models[m].price.output_per_1m / 1e6 for m in models], dtype=np.float64)
    external = np.array([catalog.models[m].privacy == "external" for m in models], dtype=bool)

    tier_pos = {name: i for i, name in enumerate(tiers)}
    esc_to = np.full(len(tiers), -1, dtype=np.int16)
    esc_below = np.zeros(len(tiers), dtype=np.float64)
    for step in spec.escalation.steps:
        esc_to[tier_pos[step.from_tier]] = tier_pos[step.to]
        esc_below[tier_pos[step.from_tier]] = step.below_confidence
    max_esc = spec.escalation.max_escalations
    fallback_codes = np.array([ERROR_CODES[k] for k in spec.fallback.on] + [MISSING], dtype=np.int8)

    stakes_forced = _isin(examples.column("stakes"), spec.escalation.always_for_stakes)
    # Unknown (null) counts as PII: a table that skipped detection fails closed, never open.
    pii = np.asarray(pc.fill_null(examples.column("pii"), True).to_numpy(zero_copy_only=False), dtype=bool)
    arrival = examples.column("arrival_ms").to_numpy(zero_copy_only=False).astype(np.float64)
    budget = np.full(n, np.inf)
    if spec.sla:
        sla = examples.column("sla")
        for name, cls in spec.sla.items():
            budget[_isin(sla, (name,))] = cls.latency_budget_ms

    tier = plan.tier.copy()
    pos = np.zeros(n, dtype=np.int16)
    kind = np.zeros(n, dtype=np.int8)
    escalations = np.zeros(n, dtype=np.int16)
    n_attempts = np.zeros(n, dtype=np.int16)
    elapsed = np.zeros(n, dtype=np.float64)
    cost = np.zeros(n, dtype=np.float64)
    tokens_in = np.zeros(n, dtype=np.int64)
    tokens_out = np.zeros(n, dtype=np.int64)
    fell_back = np.zeros(n, dtype=bool)
    escalated = np.zeros(n, dtype=bool)
    failed = np.zeros(n, dtype=bool)
    last_error = np.zeros(n, dtype=np.int8)
    breach_attempt = np.full(n, -1, dtype=np.int16)
    conf_missing = np.zeros(n, dtype=bool)
    best = np.full(n, -1, dtype=np.int64)
    final = np.full(n, -1, dtype=np.int64)
    final_tier = plan.tier.copy()
    calls = _Calls(chunks=[], responses=[])
    quality_chunks: list[np.ndarray] = []

    pending = np.arange(n, dtype=np.int64)
    step_no = 0
    while pending.size:
        t = tier[pending]
        m = chain[t, pos[pending]]
        batch = CallBatch(
            request=pending,
            model=m,
            models=models,
            start_ms=arrival[pending] + elapsed[pending],
            attempt=n_attempts[pending].copy(),
            want_text=want_text or confidence_fn is not None,
        )
        res = provider.call(batch)
        _check_result(batch, res)
        factor = res.price_factor if res.price_factor is not None else 1.0
        call_cost = (res.input_tokens * price_in[m] + res.output_tokens * price_out[m]) * factor
        ids = calls.add(
            {
                "request": pending,
                "attempt": batch.attempt,
                "model": m,
                "tier": t,
                "kind": kind[pending],
                "error": res.error,
                "input_tokens": res.input_tokens,
                "output_tokens": res.output_tokens,
                "cost_usd": call_cost,
                "latency_ms": res.latency_ms,
                "start_ms": batch.start_ms,
                "source_row": res.source_row if res.source_row is not None else np.full(len(batch), -1, np.int64),
            },
            res.response,
        )
        quality_chunks.append(res.quality)
        cost[pending] += call_cost
        tokens_in[pending] += res.input_tokens
        tokens_out[pending] += res.output_tokens
        elapsed[pending] += res.latency_ms
        n_attempts[pending] += 1
        leaked = pii[pending] & external[m] & (breach_attempt[pending] < 0)
        breach_attempt[pending[leaked]] = batch.attempt[leaked]

        ok = res.error == OK
        within = elapsed[pending] < budget[pending]

        # Successful answers: final, or escalate.
        confidence = res.confidence
        if confidence_fn is not None and ok.any():
            unknown = ok & np.isnan(confidence)
            if unknown.any():
                judged = confidence_fn(res.response)
                confidence = np.where(unknown, judged, confidence)
        to = esc_to[t]
        has_step = ok & (to >= 0)
        forced = stakes_forced[pending]
        conf_missing[pending[has_step & ~forced & np.isnan(confidence)]] = True
        wants = has_step & (forced | (confidence < esc_below[t]))
        esc = wants & (escalations[pending] < max_esc) & within
        best[pending[ok]] = ids[ok]
        done_ok = ok & ~esc
        final[pending[done_ok]] = ids[done_ok]
        up = pending[esc]
        tier[up] = to[esc]
        pos[up] = 0
        kind[up] = ESCALATION
        escalations[up] += 1
        escalated[up] = True

        # Failed calls: fall back along the chain, or end.
        bad = ~ok
        last_error[pending[bad]] = res.error[bad]
        can_fall = bad & np.isin(res.error, fallback_codes) & (pos[pending] + 1 < chain_len[t]) & within
        down = pending[can_fall]
        pos[down] += 1
        kind[down] = FALLBACK
        fell_back[down] = True
        end = bad & ~can_fall
        ended = pending[end]
        rescued = best[ended] >= 0
        final[ended[rescued]] = best[ended[rescued]]
        failed[ended[~rescued]] = True
        final_tier[ended[~rescued]] = t[end][~rescued]

        pending = np.sort(np.concatenate([up, down]))
        step_no += 1
        if on_step is not None:
            on_step(step_no, int(pending.size))

    attempts_tier = calls.column("tier", np.int16)
    attempt_model = calls.column("model", np.int16)
    answered = final >= 0
    if answered.any():
        safe = np.where(answered, final, 0)
        final_tier = np.where(answered, attempts_tier[safe], final_tier).astype(np.int16)
        final_model = np.where(answered, attempt_model[safe], -1).astype(np.int16)
    else:
        final_model = np.full(n, -1, dtype=np.int16)
    attempts = pa.table(
        {
            "request": calls.column("request", np.int64),
            "attempt": calls.column("attempt", np.int16),
            "model": pa.DictionaryArray.from_arrays(
                pa.array(attempt_model.astype(np.int32)), pa.array(list(models), pa.string())
            ),
            "tier": pa.DictionaryArray.from_arrays(
                pa.array(attempts_tier.astype(np.int32)), pa.array(list(tiers), pa.string())
            ),
            "kind": pa.DictionaryArray.from_arrays(
                pa.array(calls.column("kind", np.int8).astype(np.int32)), pa.array(list(ATTEMPT_KINDS))
            ),
            "error": calls.column("error", np.int8),
            "input_tokens": calls.column("input_tokens", np.int64),
            "output_tokens": calls.column("output_tokens", np.int64),
            "cost_usd": calls.column("cost_usd", np.float64),
            "latency_ms": calls.column("latency_ms", np.float64),
            "start_ms": calls.column("start_ms", np.float64),
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
        source_rows=calls.column("source_row", np.int64),
        text_gathered=want_text or confidence_fn is not None,
        recorded_quality=np.concatenate(quality_chunks) if quality_chunks else np.zeros(0),
    )


def _isin(column: pa.ChunkedArray, values: tuple[str, ...]) -> np.ndarray:
    if not values:
        return np.zeros(len(column), dtype=bool)
    return np.asarray(pc.is_in(column, pa.array(list(values), pa.string())).to_numpy(zero_copy_only=False), dtype=bool)


def _check_result(batch: CallBatch, res: CallResult) -> None:
    """A provider that answers the wrong number of calls is a bug, not bad input."""
    n = len(batch)
    for name in ("error", "input_tokens", "output_tokens", "latency_ms", "confidence", "quality"):
        if getattr(res, name).shape != (n,):
            raise RuntimeError(f"provider returned {getattr(res, name).shape} for {name!r}; expected ({n},)")
    if len(res.response) != n:
        raise RuntimeError(f"provider returned {len(res.response)} responses; expected {n}")
