"""Scoring: quality per request from a pluggable scorer (see docs/scoring.md).

``get_scorer("numeric")(ScoreInput(response, reference, recorded), {"rel_tol": 1e-6})``
gives one float64 per row in [0, 1], NaN where a row could not be scored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from routegate.scoring.base import OptionsScorer, ScoreInput, Scorer, needs_response, passes_recorded_quality
from routegate.scoring.registry import Registry, get_scorer, scorer_names

__all__ = [
    "OptionsScorer",
    "Registry",
    "ScoreInput",
    "Scorer",
    "get_scorer",
    "needs_response",
    "passes_recorded_quality",
    "score",
    "scorer_names",
]


def score(name: str, inp: ScoreInput, options: Mapping[str, Any] | None = None) -> np.ndarray:
    """Validate ``options`` for scorer ``name`` and score ``inp`` with it."""
    scorer = get_scorer(name)
    scorer.validate_options(options or {})
    return scorer(inp, options or {})
