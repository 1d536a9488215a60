"""RouteLLM's MMLU results -> the ``routellm-mmlu`` suite.

57 subjects answered by GPT-4 and Mixtral with RouteLLM's correctness labels
and no response text. Prompts the RouteLLM authors list as contaminated are
dropped by exact text match, as RouteLLM's own ``benchmarks.py`` does. Every
rule here is documented in docs/bundled-suites.md.
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
    require_columns,
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
    map_labels,
    read_contaminated,
)

MMLU_OUTPUT_TOKENS = 2
"""MMLU answers are one letter: the letter plus an end-of-turn token. MMLU has no response text to count."""

MMLU_CATEGORY: dict[str, str] = {
    **dict.fromkeys(
        [
            "abstract_algebra",
            "anatomy",
            "astronomy",
            "college_biology",
            "college_chemistry",
            "college_computer_science",
            "college_mathematics",
            "college_physics",
            "computer_security",
            "conceptual_physics",
            "electrical_engineering",
            "elementary_mathematics",
            "high_school_biology",
            "high_school_chemistry",
            "high_school_computer_science",
            "high_school_mathematics",
            "high_school_physics",
            "high_school_statistics",
            "machine_learning",
        ],
        "stem",
    ),
    **dict.fromkeys(
        [
            "formal_logic",
            "high_school_european_history",
            "high_school_us_history",
            "high_school_world_history",
            "international_law",
            "jurisprudence",
            "logical_fallacies",
            "moral_disputes",
            "moral_scenarios",
            "philosophy",
            "prehistory",
            "professional_law",
            "world_religions",
        ],
        "humanities",
    ),
    **dict.fromkeys(
        [
            "econometrics",
            "high_school_geography",
            "high_school_government_and_politics",
            "high_school_macroeconomics",
            "high_school_microeconomics",
            "high_school_psychology",
            "human_sexuality",
            "professional_psychology",
            "public_relations",
            "security_studies",
            "sociology",
            "us_foreign_policy",
        ],
        "social_sciences",
    ),
    **dict.fromkeys(
        [
            "business_ethics",
            "clinical_knowledge",
            "college_medicine",
            "global_facts",
            "human_aging",
            "management",
            "marketing",
            "medical_genetics",
            "miscellaneous",
            "nutrition",
            "professional_accounting",
            "professional_medicine",
            "virology",
        ],
        "other",
    ),
}
"""The four MMLU categories of Hendrycks et al. (2021), by subject."""

MMLU_TASK_TYPE: dict[str, str] = {
    **dict.fromkeys(
        [
            "abstract_algebra",
            "college_mathematics",
            "elementary_mathematics",
            "high_school_mathematics",
            "high_school_statistics",
            "econometrics",
        ],
        "math",
    ),
    **dict.fromkeys(
        [
            "formal_logic",
            "logical_fallacies",
            "moral_scenarios",
            "college_physics",
            "high_school_physics",
            "college_chemistry",
            "high_school_chemistry",
        ],
        "reasoning",
    ),
    **dict.fromkeys(
        ["college_computer_science", "high_school_computer_science", "machine_learning", "computer_security"], "code"
    ),
}
"""MMLU subject -> task type; every subject not listed is ``qa`` (knowledge recall)."""

MMLU_STAKES: dict[str, str] = {
    **dict.fromkeys(
        [
            "anatomy",
            "clinical_knowledge",
            "college_medicine",
            "medical_genetics",
            "professional_medicine",
            "nutrition",
            "virology",
            "professional_psychology",
            "professional_law",
            "international_law",
            "jurisprudence",
            "professional_accounting",
        ],
        "high",
    ),
    **dict.fromkeys(["miscellaneous", "global_facts"], "low"),
}
"""MMLU subject -> stakes: medicine, law and accounting are ``high``; trivia is ``low``; the rest ``normal``."""


def load_mmlu(folder: Path) -> tuple[pd.DataFrame, int]:
    """All MMLU rows (subject order, then file order) minus the contaminated prompts; and the number dropped."""
    files = sorted(folder.glob("mmlu_*.csv"))
    if not files:
        raise InputError.single(str(folder), "no mmlu_<subject>.csv files found")
    frames = []
    for file in files:
        frame = pd.read_csv(file, keep_default_na=False, dtype={"prompt": str})
        require_columns(frame, ["prompt", STRONG, WEAK], str(file))
        subject = file.stem.removeprefix("mmlu_")
        frames.append(frame.assign(subject=subject, row=np.arange(len(frame))))
    data = pd.concat(frames, ignore_index=True)
    for model in (STRONG, WEAK):
        if data[model].dtype != bool:
            raise InputError.single(str(folder), f"column {model!r} must hold True/False in every file")
    drop = data["prompt"].isin(read_contaminated(folder / "contaminated_prompts.jsonl"))
    return data[~drop].reset_index(drop=True), int(drop.sum())


def import_mmlu(data: Path, out: Path, seed: int = DEFAULT_SEED) -> Path:
    """Build ``routellm-mmlu`` from DATA/routellm/mmlu into ``out``; return its folder."""
    folder = data / "routellm" / "mmlu"
    frame, dropped = load_mmlu(folder)
    display = str(folder)
    ids = string_array("mmlu-" + frame["subject"] + "-" + frame["row"].astype(str).str.zfill(4))
    messages = user_messages(string_array(frame["prompt"]))
    input_tokens = input_tokens_of(messages)
    task_type = map_labels(frame["subject"], MMLU_TASK_TYPE, "qa", display, "subject")
    subject = string_array(frame["subject"])
    examples = pa.table(
        {
            "id": ids,
            "messages": messages,
            "task_type": task_type,
            "pii": pa.array(np.zeros(len(frame), dtype=bool)),
            "stakes": map_labels(frame["subject"], MMLU_STAKES, "normal", display, "subject"),
            "sla": sla_of(task_type, input_tokens),
            "tags": tags_of(
                [("long_input", input_tokens >= LONG_INPUT_TOKENS)],
                fixed=[string_array("subject:" + frame["subject"])],
            ),
            "reference": pa.nulls(len(frame), pa.string()),
            "input_tokens": pa.array(input_tokens, pa.int64()),
            "subject": subject,
            "category": map_labels(frame["subject"], MMLU_CATEGORY, None, display, "MMLU subject"),
        }
    )
    output_tokens = np.full(len(frame), MMLU_OUTPUT_TOKENS, dtype=np.int64)
    no_text = pa.nulls(len(frame), pa.string())
    per_model = {m: (no_text, output_tokens, pa.array(frame[m].to_numpy(dtype=np.float64))) for m in (STRONG, WEAK)}
    recordings = build_recordings(ids, input_tokens, per_model, seed)
    manifest = build_manifest(
        "routellm-mmlu",
        "MMLU (57 subjects) answered by GPT-4-1106-preview and Mixtral-8x7B-Instruct, with RouteLLM's recorded "
        f"correctness; {dropped} contaminated prompts dropped (RouteLLM's list), {len(frame)} remain. "
        "No response text: quality is the recorded correctness (1 or 0), scored by `judge`.",
        "routellm/evals/mmlu/responses/mmlu_<subject>.csv, routellm/evals/mmlu/contaminated_prompts.jsonl",
        "Correctness labels copied unchanged. " + SELFHOSTED_NOTE,
        ["task_type", "category"],
        {"scorer": "judge"},
        ["quality"],
        {
            **{k: v for k, v in MODELLED_COLUMNS.items() if k != "output_tokens"},
            "output_tokens": f"Constant {MMLU_OUTPUT_TOKENS} (a one-letter answer plus end-of-turn); "
            "MMLU has no response text.",
            "task_type": "From the MMLU subject by a fixed table (math/reasoning/code subjects, else qa).",
            "stakes": "From the MMLU subject: medicine, law, accounting and professional psychology high; "
            "miscellaneous and global_facts low; else normal.",
            "sla": f"batch when input_tokens >= {LONG_INPUT_TOKENS} (long documents), else interactive.",
            "pii": "false for every row: the source contains no personal data.",
            "tags": f"subject:<subject>, and long_input when input_tokens >= {LONG_INPUT_TOKENS}.",
        },
        seed,
    )
    return write_suite(out, manifest, examples, recordings, data / "routellm" / "LICENSE")
