"""Per-model outcomes of a suite: what each fully recorded catalog model would score and cost on every request, alone.

Columnar: one join per suite, one scorer call per model, the same arithmetic
as replaying the single-model policy. Computed once per loaded suite and
catalog (memoised on the suite), for the literature metrics
(``routegate.stats.literature``) and the single-model points
(``routegate.stats.frontier``). No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.memo import MemoKind
from routegate.load.catalog import Catalog
from routegate.load.policy import canonical_sha256
from routegate.load.suite import Suite
from routegate.providers.base import OK
from routegate.providers.recorded import RecordedProvider
from routegate.scoring import ScoreInput, get_scorer, needs_response, passes_recorded_quality


@dataclass(frozen=True)
class ModelOutcomes:
    """What each fully recorded model would score and cost on every request of a suite, alone."""

    models: tuple[str, ...]
    """The fully recorded catalog models, sorted: the rows of the arrays."""
    quality: np.ndarray
    """float64 [model, request]: the suite's scorer on the recording (0 for a failed call, NaN unscored)."""
    cost: np.ndarray
    """float64 [model, request]: recorded tokens x the catalog's prices."""
    latency: Sequence[np.ndarray]
    """Per model, float64 per request: the recorded latency of the call (read-only views of the
    recordings where they are in model blocks: no copy)."""


MODEL_OUTCOMES: MemoKind[ModelOutcomes] = MemoKind("outcomes.model_outcomes")
"""``model_outcomes``: a suite's per-model outcomes; parts: the catalog's ``canonical_sha256``."""


def model_outcomes(suite: Suite, catalog: Catalog) -> ModelOutcomes:
    """Per-request quality and cost of every catalog model that has a recording for every request.

    The same arithmetic as replaying the single-model policy: the recorded
    provider's join, the suite's scorer with its options, failed calls score 0.
    They depend on the suite and the catalog only, so they are computed once per
    loaded suite and catalog (a gate's two runs share them).
    """
    return suite.memoised(MODEL_OUTCOMES.key(canonical_sha256(catalog)), lambda: _model_outcomes(suite, catalog))


def _model_outcomes(suite: Suite, catalog: Catalog) -> ModelOutcomes:
    """Each fully recorded model's recordings, row by row of the [model, request] arrays.

    With the recordings in model blocks (the layout routegate writes), a model's recordings are one
    contiguous run of rows, read as slices; otherwise they are gathered by the join keys. The
    numeric columns come from the recorded provider (memoised per suite, so a gate's replays have
    usually converted them already); only the scorer runs once per model.
    """
    n = suite.examples.num_rows
    rows = suite.recording_keys().rows_of(n, tuple(sorted(catalog.models)))
    models = tuple(rows)
    if not models:
        return ModelOutcomes(models, np.full((0, n), np.nan), np.zeros((0, n)), [])
    recorded = RecordedProvider.from_suite(suite, ())
    reference = suite.examples.column("reference").combine_chunks()
    quality, cost = np.empty((len(models), n)), np.empty((len(models), n))
    latency = []
    for k, model in enumerate(models):
        at = rows[model]
        price = catalog.models[model].price
        bad = recorded.error[at] != OK
        # Same arithmetic as the replay's (in * price_in + out * price_out), in place.
        np.multiply(recorded.input_tokens[at], price.input_per_1m / 1e6, out=cost[k])
        cost[k] += recorded.output_tokens[at] * (price.output_per_1m / 1e6)
        latency.append(recorded.latency_ms[at])
        pre_judged = recorded.quality_at(at)
        pre_judged[bad] = np.nan
        quality[k] = _score_model(suite, reference, at, bad, pre_judged)
        quality[k][bad] = 0.0  # a failed call scores 0, whatever the scorer says of its (null) answer
    return ModelOutcomes(models, quality, cost, latency)


def _score_model(
    suite: Suite, reference: pa.Array, at: slice | np.ndarray, bad: np.ndarray, pre_judged: np.ndarray
) -> np.ndarray:
    """The suite's scorer on one model's recordings (``at``: its recording rows, request by request)."""
    scoring = suite.manifest.scoring
    scorer = get_scorer(scoring.scorer)
    if passes_recorded_quality(scorer):
        return pre_judged
    n = bad.size
    if needs_response(scorer):
        take = np.arange(at.start, at.stop) if isinstance(at, slice) else at
        resp = suite.take("recordings", "response", take)
        if bad.any():
            resp = pc.if_else(pa.array(~bad), resp, pa.nulls(n, resp.type))
    else:
        resp = pa.nulls(n, pa.string())
    inputs = ScoreInput(
        response=resp if resp.type == pa.string() else resp.cast(pa.string()),
        reference=reference,
        recorded=pa.array(pre_judged, pa.float64(), from_pandas=True),
    )
    return np.asarray(scorer(inputs, scoring.options), dtype=np.float64)


def answer_groups(outcomes: ModelOutcomes) -> list[list[int]]:
    """Models grouped by identical per-request quality (e.g. a self-hosted copy of the same recordings).

    Two models whose (NaN count, sum of the rest) differ cannot be identical: only models that agree
    on that one pass each are compared element by element."""
    digest = [(int(np.isnan(q).sum()), float(np.nansum(q))) for q in outcomes.quality]
    groups: list[list[int]] = []
    for i in range(len(outcomes.models)):
        for group in groups:
            if digest[group[0]] != digest[i]:
                continue
            if np.array_equal(outcomes.quality[group[0]], outcomes.quality[i], equal_nan=True):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups
