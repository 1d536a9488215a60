"""Step 4 of the pipeline: score the final answers and lay out the traces table.

Quality comes from the suite's scorer run on each request's final answer (the
``judge`` scorer passes a recorded, pre-judged score through). A request that
got no answer scores 0: its user got nothing. NaN means "not scored" (e.g. a
failed judgement in the source data) and is left out of quality means.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from routegate.arrow.labels import decoded
from routegate.engine.result import Replay
from routegate.load.suite import Suite
from routegate.providers.base import ERROR_NAMES
from routegate.scoring import ScoreInput, get_scorer, needs_response, passes_recorded_quality
from routegate.writer import write_parquet_atomic


def score_final_answers(suite: Suite, result: Replay) -> np.ndarray:
    """Quality in [0, 1] per request; 0 when the request failed; NaN when not scorable."""
    scoring = suite.manifest.scoring
    scorer = get_scorer(scoring.scorer)
    if passes_recorded_quality(scorer):
        recorded = result.final_recorded_quality()  # a new array, NaN where none was recorded
        recorded[result.failed] = 0.0
        return recorded
    n = len(result.final_attempt)
    inputs = ScoreInput(
        response=result.final_responses() if needs_response(scorer) else pa.nulls(n, pa.string()),
        reference=suite.examples.column("reference").combine_chunks(),
        recorded=pa.array(result.final_recorded_quality(), pa.float64(), from_pandas=True),
    )
    quality = np.asarray(scorer(inputs, scoring.options), dtype=np.float64)
    return np.where(result.failed, 0.0, quality)


def slice_columns(suite: Suite) -> list[str]:
    """Attribute columns carried into traces: the base attributes and the suite's slices."""
    return suite.slice_columns


def models_tried(result: Replay) -> pa.ListArray:
    """Per request, the model ids it called, in call order.

    A request's k-th call has ``attempt == k`` (0-based, no gaps: every step of the replay calls
    each pending request once), so its place in the flattened lists is the request's offset plus
    ``attempt``: one scatter, no sort.
    """
    attempts = result.attempts
    offsets = np.zeros(result.n_attempts.size + 1, dtype=np.int32)
    np.cumsum(result.n_attempts, out=offsets[1:])
    slot = offsets[attempts.column("request").to_numpy()] + attempts.column("attempt").to_numpy()
    model = attempts.column("model").combine_chunks()
    codes = np.empty(attempts.num_rows, dtype=np.int32)
    codes[slot] = model.indices.to_numpy(zero_copy_only=False)
    return pa.ListArray.from_arrays(pa.array(offsets), _coded(codes, model.dictionary))


def _coded(codes: np.ndarray, names: pa.Array, missing: np.ndarray | None = None) -> pa.DictionaryArray:
    """``names[codes]`` (null where ``missing``) as a dictionary array: no string is copied."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32, copy=False), mask=missing), names)


def build_traces(suite: Suite, result: Replay, quality: np.ndarray) -> pa.Table:
    """One row per request: what it is, where it went, what it cost, took and scored.

    The name columns (suite, tiers, models, error kind) are dictionary-encoded here, so that no
    per-request string is copied for a table that is mostly summarised; :func:`for_file` gives
    the documented plain types that traces.parquet holds.
    """
    n = suite.examples.num_rows
    tiers = pa.array(list(result.plan.tiers), pa.string())
    models = pa.array(list(result.models), pa.string())
    codes = np.where(result.failed, result.last_error, 0)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "suite": _coded(np.zeros(n, dtype=np.int32), pa.array([suite.name], pa.string())),
        "example_id": suite.examples.column("id"),
    }
    for name in slice_columns(suite):
        columns[name] = suite.examples.column(name)
    breach_attempt = np.where(result.breach_attempt >= 0, result.breach_attempt, 0)
    columns |= {
        "initial_tier": _coded(result.plan.tier, tiers),
        "final_tier": _coded(result.final_tier, tiers),
        "final_model": _coded(result.final_model, models, result.final_model < 0),  # null: none answered
        "models_tried": models_tried(result),
        "attempts": pa.array(result.n_attempts, pa.int16()),
        "fell_back": pa.array(result.fell_back),
        "escalated": pa.array(result.escalated),
        "error": pa.array(result.failed),
        "error_kind": _coded(codes, pa.array(list(ERROR_NAMES), pa.string())),
        "input_tokens": pa.array(result.input_tokens, pa.int64()),
        "output_tokens": pa.array(result.output_tokens, pa.int64()),
        "cost_usd": pa.array(result.cost_usd, pa.float64()),
        "latency_ms": pa.array(result.latency_ms, pa.float64()),
        "quality": pa.array(quality, pa.float64(), from_pandas=True),
        "privacy_breach": pa.array(result.privacy_breach),
        "breach_attempt": pa.array(breach_attempt, pa.int16(), mask=result.breach_attempt < 0),
        "confidence_missing": pa.array(result.confidence_missing),
    }
    return pa.table(columns)


def write_traces(path: Path, traces: pa.Table) -> None:
    """traces.parquet, atomically, with the documented plain types.

    The name columns are written straight from their dictionaries (no per-row string is hashed
    again), and without pyarrow's stored schema, so that every reader, pyarrow included, reads
    them as the plain strings the parquet schema declares (the same table as :func:`for_file`).
    No statistics for ``example_id``: unique per row, so its min/max prune nothing and cost the
    most. At 1M requests: 0.49 s -> 0.39 s, on the thread that writes while the summary is computed.
    """
    names = {f.name for f in traces.schema if pa.types.is_dictionary(f.type) or pa.types.is_list(f.type)}
    write_parquet_atomic(
        path,
        traces,
        store_schema=False,
        use_dictionary=sorted(names | ({"task_type", "stakes", "sla"} & set(traces.column_names))),
        write_statistics=[n for n in traces.column_names if n != "example_id"],
    )


def for_file(traces: pa.Table) -> pa.Table:
    """``traces`` with the documented plain types (dictionary-encoded names decoded), as traces.parquet holds it."""
    return decoded(traces)
