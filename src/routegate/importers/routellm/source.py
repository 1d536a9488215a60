"""What the three RouteLLM suites share: the source, its two models, the manifest and the recordings.

RouteLLM's recorded results (lm-sys/RouteLLM) have two models per prompt,
GPT-4 (strong) and Mixtral (weak); each suite's module (``mmlu``, ``gsm8k``,
``mtbench``) reads its own files and builds its examples with the helpers here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from routegate.errors import InputError
from routegate.importers.common import recordings_for, require_columns, require_file, source_block, string_array

REPOSITORY = "https://github.com/lm-sys/RouteLLM"
COMMIT = "0b64fdafe049"
"""The source commit the suites are built from."""
LICENSE_NAME = "Apache-2.0"
SUITE_VERSION = "1.0.0"
"""The version of every RouteLLM suite."""

STRONG = "gpt-4-1106-preview"
"""RouteLLM's strong model (its column name in the source)."""
WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
"""RouteLLM's weak model (its column name in the source)."""
MODEL_IDS: dict[str, str] = {STRONG: "gpt-4-1106-preview", WEAK: "mixtral-8x7b-instruct-v0.1"}
"""RouteLLM's model column -> catalog model id (lower-case, no organisation prefix)."""
SELFHOSTED_TWINS: dict[str, str] = {"mixtral-8x7b-instruct-v0.1": "mixtral-8x7b-instruct-v0.1-selfhosted"}
"""Open-weights models that also get a self-hosted deployment: same recorded answers, own latency and price."""

SELFHOSTED_NOTE = (
    "mixtral-8x7b-instruct-v0.1-selfhosted is a self-hosted deployment of the same open weights as the hosted "
    "mixtral-8x7b-instruct-v0.1: its recordings copy the hosted model's recorded answers and correctness "
    "(same weights), only the modelled latency differs (and the catalog price). It exists so that a policy "
    "with a private tier can run on this two-model source; it is not a separate measurement."
)
"""The note on the self-hosted twin in every RouteLLM suite's ``source.notes``."""


def map_labels(values: pd.Series, table: dict[str, str], default: str | None, display: str, what: str) -> pa.Array:
    """``values`` through ``table`` as strings; not in it: ``default``, or (no default) bad input naming them."""
    mapped = values.map(table)
    if default is None:
        unknown = sorted(set(values[mapped.isna()]))
        if unknown:
            raise InputError.single(
                display, f"unknown {what}: {', '.join(map(str, unknown))}; known: {', '.join(sorted(table))}"
            )
    return string_array(mapped.fillna(default) if default is not None else mapped)


def read_contaminated(path: Path) -> pd.Series:
    """The prompts RouteLLM lists as contaminated (``eval_prompt`` of each line of ``path``)."""
    frame = pd.read_json(require_file(path), lines=True, dtype=False)
    require_columns(frame, ["eval_prompt"], str(path))
    return frame["eval_prompt"].astype(str)


def build_manifest(
    name: str,
    description: str,
    path: str,
    notes: str,
    slices: list[str],
    scoring: dict[str, Any],
    measured: list[str],
    modelled: dict[str, str],
    seed: int,
    cluster: str | None = None,
) -> dict[str, Any]:
    """The suite.yaml of one RouteLLM suite (``cluster``: the column of related requests, if any)."""
    return {
        "name": name,
        "version": SUITE_VERSION,
        "description": description,
        "source": source_block(REPOSITORY, COMMIT, path, LICENSE_NAME, notes),
        "examples": "examples.parquet",
        "recordings": "recordings.parquet",
        "slices": slices,
        **({"cluster": cluster} if cluster else {}),
        "scoring": scoring,
        "columns": {"measured": measured, "modelled": {**modelled, "seed": f"Latency jitter seed: {seed}."}},
    }


def build_recordings(
    ids: pa.Array,
    input_tokens: np.ndarray,
    per_model: dict[str, tuple[pa.Array, np.ndarray, pa.Array]],
    seed: int,
) -> pa.Table:
    """Recordings of GPT-4, Mixtral and Mixtral's self-hosted twin, in a fixed order (model, then example)."""
    tables = []
    for source_model in (STRONG, WEAK):
        responses, output_tokens, quality = per_model[source_model]
        model = MODEL_IDS[source_model]
        tables.append(recordings_for(model, ids, responses, input_tokens, output_tokens, quality, seed))
        twin = SELFHOSTED_TWINS.get(model)
        if twin is not None:
            tables.append(recordings_for(twin, ids, responses, input_tokens, output_tokens, quality, seed))
    return pa.concat_tables(tables)
