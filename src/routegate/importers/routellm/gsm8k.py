"""RouteLLM's GSM8K results -> the ``routellm-gsm8k`` suite.

GSM8K test questions answered by GPT-4 and Mixtral with RouteLLM's recorded
response text and correctness, joined on the question text to test.jsonl for
the index and reference answer. Questions the RouteLLM authors list as
contaminated are dropped by exact text match. Every rule here is documented in
docs/bundled-suites.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from routegate.errors import InputError
from routegate.importers.attributes import LONG_INPUT_TOKENS, sla_of, tags_of
from routegate.importers.common import (
    DEFAULT_SEED,
    MODELLED_COLUMNS,
    input_tokens_of,
    output_tokens_of,
    require_columns,
    require_file,
    string_array,
    user_messages,
    write_suite,
)
from routegate.importers.routellm.source import (
    SELFHOSTED_NOTE,
    STRONG,
    WEAK,
    build_manifest,
    build_recordings,
    read_contaminated,
)


def load_gsm8k(folder: Path) -> tuple[pd.DataFrame, int]:
    """GSM8K responses joined on the question text to test.jsonl (for the index and reference), decontaminated."""
    responses_path = require_file(folder / "gsm8k_responses.csv")
    responses = pd.read_csv(responses_path, keep_default_na=False, dtype=str)
    needed = ["prompt", STRONG, WEAK, f"{STRONG}_response", f"{WEAK}_response"]
    require_columns(responses, needed, str(responses_path))
    test_path = require_file(folder / "test.jsonl")
    test = pd.read_json(test_path, lines=True, dtype=False)
    require_columns(test, ["question", "answer"], str(test_path))
    test = test.assign(index=np.arange(len(test)))
    if test["question"].duplicated().any():
        raise InputError.single(str(test_path), "duplicate questions: cannot join on the question text")
    joined = responses.merge(test, left_on="prompt", right_on="question", how="left", validate="many_to_one")
    missing = joined["index"].isna()
    if missing.any():
        raise InputError.single(str(responses_path), f"{int(missing.sum())} prompts are not questions of test.jsonl")
    for model in (STRONG, WEAK):
        bad = ~joined[model].isin(["True", "False"])
        if bad.any():
            raise InputError.single(
                str(responses_path), f"column {model!r} must hold True/False", model, int(np.flatnonzero(bad)[0]) + 2
            )
    drop = joined["prompt"].isin(read_contaminated(folder / "contaminated_prompts.jsonl"))
    kept = joined[~drop].sort_values("index", kind="stable").reset_index(drop=True)
    return kept, int(drop.sum())


def gsm8k_reference(answers: pd.Series) -> pd.Series:
    """The number after ``####`` in a GSM8K answer, thousands separators removed."""
    return answers.str.rsplit("####", n=1).str[-1].str.strip().str.replace(",", "", regex=False)


def import_gsm8k(data: Path, out: Path, seed: int = DEFAULT_SEED) -> Path:
    """Build ``routellm-gsm8k`` from DATA/routellm/gsm8k into ``out``; return its folder."""
    folder = data / "routellm" / "gsm8k"
    frame, dropped = load_gsm8k(folder)
    n = len(frame)
    ids = string_array("gsm8k-" + frame["index"].astype(int).astype(str).str.zfill(4))
    messages = user_messages(string_array(frame["prompt"]))
    input_tokens = input_tokens_of(messages)
    task_type = string_array(np.full(n, "math", dtype=object))
    examples = pa.table(
        {
            "id": ids,
            "messages": messages,
            "task_type": task_type,
            "pii": pa.array(np.zeros(n, dtype=bool)),
            "stakes": string_array(np.full(n, "normal", dtype=object)),
            "sla": sla_of(task_type, input_tokens),
            "tags": tags_of([("long_input", input_tokens >= LONG_INPUT_TOKENS)]),
            "reference": string_array(gsm8k_reference(frame["answer"])),
            "input_tokens": pa.array(input_tokens, pa.int64()),
        }
    )
    per_model = {}
    for m in (STRONG, WEAK):
        responses = string_array(frame[f"{m}_response"])
        per_model[m] = (
            responses,
            output_tokens_of(responses),
            pa.array((frame[m] == "True").to_numpy(dtype=np.float64)),
        )
    recordings = build_recordings(ids, input_tokens, per_model, seed)
    manifest = build_manifest(
        "routellm-gsm8k",
        "GSM8K test questions answered by GPT-4-1106-preview and Mixtral-8x7B-Instruct: RouteLLM's recorded "
        f"response text and correctness; {dropped} contaminated questions dropped, {n} remain. The default "
        "scorer `judge` reproduces RouteLLM's correctness labels; the `numeric` scorer against `reference` "
        "re-grades the response text (docs/bundled-suites.md).",
        "routellm/evals/gsm8k/gsm8k_responses.csv, routellm/evals/gsm8k/test.jsonl, "
        "routellm/evals/gsm8k/contaminated_prompts.jsonl",
        "Responses and correctness copied unchanged; reference = the number after '####' in test.jsonl, joined "
        "on the question text. " + SELFHOSTED_NOTE,
        ["task_type"],
        {"scorer": "judge"},
        ["response", "quality"],
        {
            **MODELLED_COLUMNS,
            "task_type": "math for every row.",
            "stakes": "normal for every row.",
            "sla": f"batch when input_tokens >= {LONG_INPUT_TOKENS}, else interactive.",
            "pii": "false for every row: the source contains no personal data.",
            "tags": f"long_input when input_tokens >= {LONG_INPUT_TOKENS}.",
        },
        seed,
    )
    return write_suite(out, manifest, examples, recordings, data / "routellm" / "LICENSE")
