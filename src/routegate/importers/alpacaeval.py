"""AlpacaEval's 805 instructions answered by many models (tatsu-lab/alpaca_eval) -> the ``alpacaeval`` suite.

Quality is the judge's preference minus one: the probability that the output
beats the reference model's (gpt4_1106_preview) output, so the reference model
scores exactly 0.5. Models are joined on the instruction text, never on
``instruction_index`` (it shifts for models that lack some rows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from routegate.errors import InputError
from routegate.importers.attributes import (
    LONG_INPUT_TOKENS,
    TASK_TYPE_RULES,
    keyword_stakes,
    keyword_task_type,
    sla_of,
    tags_of,
)
from routegate.importers.common import (
    DEFAULT_SEED,
    MODELLED_COLUMNS,
    input_tokens_of,
    output_tokens_of,
    recordings_for,
    require_columns,
    require_file,
    source_block,
    string_array,
    user_messages,
    write_suite,
)

REPOSITORY = "https://github.com/tatsu-lab/alpaca_eval"
COMMIT = "cd543a149df8"
LICENSE_NAME = "Apache-2.0"
SUITE_VERSION = "1.0.0"
REFERENCE_GENERATOR = "gpt4_1106_preview"

LINEUP: dict[str, str] = {
    "gpt-3.5-turbo-1106": "gpt-3.5-turbo-1106",
    "gpt35_turbo_instruct": "gpt-3.5-turbo-instruct",
    "claude-instant-1.2": "claude-instant-1.2",
    "claude-2.1": "claude-2.1",
    "claude-2": "claude-2",
    "gpt4_1106_preview": "gpt-4-1106-preview",
    "vicuna-13b-v1.5-togetherai": "vicuna-13b-v1.5",
    "OpenHermes-2.5-Mistral-7B": "openhermes-2.5-mistral-7b",
    "Qwen-14B-Chat": "qwen-14b-chat",
    "phi-2": "phi-2",
}
"""AlpacaEval generator -> catalog model id: the bundled four-tier line-up (docs/bundled-suites.md).

fast: gpt-3.5-turbo-1106, claude-instant-1.2, gpt-3.5-turbo-instruct; balanced: claude-2.1, claude-2,
vicuna-13b-v1.5 (hosted open weights); reasoning: gpt-4-1106-preview (the judge's reference);
private (self-hosted open weights): openhermes-2.5-mistral-7b, qwen-14b-chat, phi-2.
"""


def load_per_example(path: Path) -> pd.DataFrame:
    require_file(path)
    frame = pd.read_parquet(path)
    require_columns(
        frame,
        ["instruction_index", "dataset", "instruction", "generator", "reference", "preference", "output"],
        str(path),
    )
    return frame


def instructions_of(frame: pd.DataFrame, display: str) -> pd.DataFrame:
    """The 805 instructions as the reference model has them: id from its instruction_index, dataset, text."""
    ref = frame[frame["generator"] == REFERENCE_GENERATOR][["instruction_index", "dataset", "instruction"]]
    if ref.empty:
        raise InputError.single(display, f"no rows for the reference generator {REFERENCE_GENERATOR!r}")
    if ref["instruction"].duplicated().any():
        raise InputError.single(display, "the reference generator answers an instruction twice")
    ref = ref.sort_values("instruction_index", kind="stable").reset_index(drop=True)
    return ref.assign(id="alpacaeval-" + ref["instruction_index"].astype(str).str.zfill(3))


def join_generator(frame: pd.DataFrame, instructions: pd.DataFrame, generator: str, display: str) -> pd.DataFrame:
    """One generator's rows joined to the instructions on the instruction text (example order kept)."""
    rows = frame[frame["generator"] == generator][["instruction", "preference", "output"]]
    if rows.empty:
        raise InputError.single(display, f"no rows for generator {generator!r}")
    rows = rows.drop_duplicates()
    if rows["instruction"].duplicated().any():
        raise InputError.single(display, f"generator {generator!r} has conflicting rows for one instruction")
    unknown = ~rows["instruction"].isin(instructions["instruction"])
    if unknown.any():
        raise InputError.single(
            display, f"generator {generator!r} answers {int(unknown.sum())} instructions the reference does not have"
        )
    pref = rows["preference"].astype(float)
    if not ((pref >= 1) & (pref <= 2)).all():
        raise InputError.single(display, f"generator {generator!r}: preference must be in [1, 2]", "preference")
    return instructions[["id", "instruction"]].merge(rows, on="instruction", how="inner", validate="one_to_one")


def import_alpacaeval(data: Path, out: Path, seed: int = DEFAULT_SEED) -> Path:
    folder = data / "alpaca_eval"
    path = folder / "per_example.parquet"
    display = str(path)
    frame = load_per_example(path)
    wrong_ref = frame["reference"] != REFERENCE_GENERATOR
    if wrong_ref.any():
        raise InputError.single(display, f"every row must be judged against {REFERENCE_GENERATOR}", "reference")
    instructions = instructions_of(frame, display)
    n = len(instructions)
    texts = string_array(instructions["instruction"])
    messages = user_messages(texts)
    input_tokens = input_tokens_of(messages)
    task_type = keyword_task_type(texts)
    examples = pa.table(
        {
            "id": string_array(instructions["id"]),
            "messages": messages,
            "task_type": task_type,
            "pii": pa.array(np.zeros(n, dtype=bool)),
            "stakes": keyword_stakes(texts, task_type),
            "sla": sla_of(task_type, input_tokens),
            "tags": tags_of([("long_input", input_tokens >= LONG_INPUT_TOKENS)]),
            "reference": pa.nulls(n, pa.string()),
            "input_tokens": pa.array(input_tokens, pa.int64()),
            "dataset": string_array(instructions["dataset"]),
        }
    )
    tokens_by_id = pd.Series(input_tokens, index=instructions["id"])
    tables = []
    counts: dict[str, int] = {}
    for generator, model in LINEUP.items():
        rows = join_generator(frame, instructions, generator, display)
        counts[model] = len(rows)
        responses = string_array(rows["output"])
        tables.append(
            recordings_for(
                model,
                string_array(rows["id"]),
                responses,
                tokens_by_id.loc[rows["id"]].to_numpy(dtype=np.int64),
                output_tokens_of(responses),
                pa.array(rows["preference"].to_numpy(dtype=np.float64) - 1.0),
                seed,
            )
        )
    recordings = pa.concat_tables(tables)
    partial = {m: c for m, c in counts.items() if c < n}
    partial_text = ", ".join(f"{m} {c}" for m, c in partial.items()) or "none"
    rules = "; ".join(f"{label}" for label, _ in TASK_TYPE_RULES)
    manifest = {
        "name": "alpacaeval",
        "version": SUITE_VERSION,
        "description": (
            f"AlpacaEval's {n} instructions answered by {len(LINEUP)} models (a four-tier line-up), judged against "
            "gpt-4-1106-preview by the weighted_alpaca_eval_gpt4_turbo annotator; quality = preference - 1 "
            "(the reference model scores 0.5 by construction). Models lacking some rows have no recording there "
            f"(rows per model below 805: {partial_text})."
        ),
        "source": source_block(
            REPOSITORY,
            COMMIT,
            "results/<generator>/weighted_alpaca_eval_gpt4_turbo/annotations.json (flattened to per_example.parquet)",
            LICENSE_NAME,
            "Outputs and preferences copied unchanged; models joined on the instruction text. Generator -> model id: "
            + ", ".join(f"{g} -> {m}" for g, m in LINEUP.items())
            + ".",
        ),
        "examples": "examples.parquet",
        "recordings": "recordings.parquet",
        "slices": ["dataset", "task_type"],
        "scoring": {"scorer": "judge"},
        "columns": {
            "measured": ["response", "quality"],
            "modelled": {
                **MODELLED_COLUMNS,
                "task_type": f"Keyword rules over the instruction, first match wins ({rules}); else chat.",
                "stakes": "high on a medical/legal/financial keyword; low for chat, brainstorm and creative_writing; "
                "else normal.",
                "sla": f"batch for summarize/extract/classify or when input_tokens >= {LONG_INPUT_TOKENS}; "
                "else interactive.",
                "pii": "false for every row: the source contains no personal data.",
                "tags": f"long_input when input_tokens >= {LONG_INPUT_TOKENS}.",
                "seed": f"Latency jitter seed: {seed}.",
            },
        },
    }
    return write_suite(out, manifest, examples, recordings, folder / "LICENSE")
