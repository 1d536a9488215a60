"""``judge``: pass the recording's pre-judged quality through (NaN where none was recorded)."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from routegate.scoring.base import NoOptions, OptionsScorer, ScoreInput


class JudgeScorer(OptionsScorer[NoOptions]):
    """The recorded ``quality`` column, unchanged; a null (or absent) recording is NaN, not 0.

    The engine itself sets requests that got no answer (exhausted chain) to 0.
    """

    options_model = NoOptions
    reads_response = False
    passes_recorded_quality = True

    def score(self, inp: ScoreInput, options: NoOptions) -> np.ndarray:
        if inp.recorded is None:
            return np.full(len(inp), np.nan)
        values = pc.fill_null(pc.cast(inp.recorded, "float64"), np.nan)
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


judge = JudgeScorer()
