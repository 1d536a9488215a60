"""RouteLLM's recorded results (lm-sys/RouteLLM) -> suites ``routellm-mmlu``, ``routellm-gsm8k``, ``routellm-mtbench``.

The source has two models per prompt, GPT-4 (strong) and Mixtral (weak), with
correctness labels (MMLU, GSM8K) or GPT-4 judge scores (MT-Bench). Prompts the
RouteLLM authors list as contaminated are dropped from MMLU and GSM8K by exact
text match, as RouteLLM's own ``benchmarks.py`` does. Every rule here is
documented in docs/bundled-suites.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from routegate.errors import InputError
from routegate.importers.common import (
    DEFAULT_SEED,
    LONG_INPUT_TOKENS,
    MMLU_OUTPUT_TOKENS,
    MODELLED_COLUMNS,
    conversations,
    input_tokens_of,
    keyword_stakes,
    output_tokens_of,
    recordings_for,
    require_columns,
    require_file,
    sla_of,
    source_block,
    string_array,
    tags_of,
    user_messages,
    write_suite,
)

REPOSITORY = "https://github.com/lm-sys/RouteLLM"
COMMIT = "0b64fdafe049"
LICENSE_NAME = "Apache-2.0"
SUITE_VERSION = "1.0.0"

STRONG = "gpt-4-1106-preview"
WEAK = "mistralai/Mixtral-8x7B-Instruct-v0.1"
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

# ---------------------------------------------------------------------------------------------- MMLU tables

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

MTBENCH_TASK_TYPE: dict[str, str] = {
    "writing": "creative_writing",
    "roleplay": "roleplay",
    "reasoning": "reasoning",
    "math": "math",
    "coding": "code",
    "extraction": "extract",
    "stem": "open_qa",
    "humanities": "open_qa",
}
"""MT-Bench category -> task type."""


def _mapped(values: pd.Series, table: dict[str, str], default: str | None, display: str, what: str) -> pa.Array:
    mapped = values.map(table)
    if default is None:
        unknown = sorted(set(values[mapped.isna()]))
        if unknown:
            raise InputError.single(
                display, f"unknown {what}: {', '.join(map(str, unknown))}; known: {', '.join(sorted(table))}"
            )
    return string_array(mapped.fillna(default) if default is not None else mapped)


def _contaminated(path: Path) -> pd.Series:
    frame = pd.read_json(require_file(path), lines=True, dtype=False)
    require_columns(frame, ["eval_prompt"], str(path))
    return frame["eval_prompt"].astype(str)


def _manifest(
    name: str,
    description: str,
    path: str,
    notes: str,
    slices: list[str],
    scoring: dict[str, Any],
    measured: list[str],
    modelled: dict[str, str],
    seed: int,
) -> dict[str, Any]:
    return {
        "name": name,
        "version": SUITE_VERSION,
        "description": description,
        "source": source_block(REPOSITORY, COMMIT, path, LICENSE_NAME, notes),
        "examples": "examples.parquet",
        "recordings": "recordings.parquet",
        "slices": slices,
        "scoring": scoring,
        "columns": {"measured": measured, "modelled": {**modelled, "seed": f"Latency jitter seed: {seed}."}},
    }


def _two_model_recordings(
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


# ---------------------------------------------------------------------------------------------- MMLU


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
    drop = data["prompt"].isin(_contaminated(folder / "contaminated_prompts.jsonl"))
    return data[~drop].reset_index(drop=True), int(drop.sum())


def import_mmlu(data: Path, out: Path, seed: int = DEFAULT_SEED) -> Path:
    folder = data / "routellm" / "mmlu"
    frame, dropped = load_mmlu(folder)
    display = str(folder)
    ids = string_array("mmlu-" + frame["subject"] + "-" + frame["row"].astype(str).str.zfill(4))
    messages = user_messages(string_array(frame["prompt"]))
    input_tokens = input_tokens_of(messages)
    task_type = _mapped(frame["subject"], MMLU_TASK_TYPE, "qa", display, "subject")
    subject = string_array(frame["subject"])
    examples = pa.table(
        {
            "id": ids,
            "messages": messages,
            "task_type": task_type,
            "pii": pa.array(np.zeros(len(frame), dtype=bool)),
            "stakes": _mapped(frame["subject"], MMLU_STAKES, "normal", display, "subject"),
            "sla": sla_of(task_type, input_tokens),
            "tags": tags_of(
                [("long_input", input_tokens >= LONG_INPUT_TOKENS)],
                fixed=[string_array("subject:" + frame["subject"])],
            ),
            "reference": pa.nulls(len(frame), pa.string()),
            "input_tokens": pa.array(input_tokens, pa.int64()),
            "subject": subject,
            "category": _mapped(frame["subject"], MMLU_CATEGORY, None, display, "MMLU subject"),
        }
    )
    output_tokens = np.full(len(frame), MMLU_OUTPUT_TOKENS, dtype=np.int64)
    no_text = pa.nulls(len(frame), pa.string())
    per_model = {m: (no_text, output_tokens, pa.array(frame[m].to_numpy(dtype=np.float64))) for m in (STRONG, WEAK)}
    recordings = _two_model_recordings(ids, input_tokens, per_model, seed)
    manifest = _manifest(
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


# ---------------------------------------------------------------------------------------------- GSM8K


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
    drop = joined["prompt"].isin(_contaminated(folder / "contaminated_prompts.jsonl"))
    kept = joined[~drop].sort_values("index", kind="stable").reset_index(drop=True)
    return kept, int(drop.sum())


def gsm8k_reference(answers: pd.Series) -> pd.Series:
    """The number after ``####`` in a GSM8K answer, thousands separators removed."""
    return answers.str.rsplit("####", n=1).str[-1].str.strip().str.replace(",", "", regex=False)


def import_gsm8k(data: Path, out: Path, seed: int = DEFAULT_SEED) -> Path:
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
    recordings = _two_model_recordings(ids, input_tokens, per_model, seed)
    manifest = _manifest(
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


# ---------------------------------------------------------------------------------------------- MT-Bench

_TURN1 = r"\[The Start of Assistant's Answer\]\n(?P<answer>.*)\n\[The End of Assistant's Answer\]"
_TURN2 = (
    r"<\|The Start of Assistant A's Conversation with User\|>\n\n### User:\n(?P<q1>.*?)\n\n### Assistant A:\n"
    r"(?P<a1>.*?)\n\n### User:\n(?P<q2>.*?)\n\n### Assistant A:\n(?P<answer>.*)\n\n"
    r"<\|The End of Assistant A's Conversation with User\|>"
)


def normalise_score(scores: pd.Series) -> pd.Series:
    """MT-Bench judge score 1-10 -> (score - 1) / 9 in [0, 1]; -1 (a failed judgement) -> missing, never 0."""
    values = pd.to_numeric(scores, errors="coerce").astype(float)
    failed = values == -1
    bad = ~failed & ~((values >= 1) & (values <= 10))
    if bad.any():
        raise InputError.single(
            "mt_bench/judgements.jsonl", f"score must be 1-10 or -1; found {values[bad].iloc[0]!r}", "score"
        )
    return ((values - 1.0) / 9.0).where(~failed)


def load_mtbench(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, set[int]]:
    """(questions, judgements with extracted answers, contaminated question ids)."""
    q_path = require_file(folder / "question.jsonl")
    questions = pd.read_json(q_path, lines=True, dtype=False)
    require_columns(questions, ["question_id", "category", "turns"], str(q_path))
    if "reference" not in questions.columns:
        questions["reference"] = None
    j_path = require_file(folder / "judgements.jsonl")
    judgements = pd.read_json(j_path, lines=True, dtype=False)
    require_columns(judgements, ["question_id", "model", "turn", "score", "user_prompt"], str(j_path))
    judgements = judgements[judgements["model"].isin([STRONG, WEAK])]
    if judgements.duplicated(["question_id", "model", "turn"]).any():
        raise InputError.single(str(j_path), "more than one judgement for a (question_id, model, turn)")
    one = judgements["user_prompt"].str.extract(_TURN1, flags=16)["answer"]  # 16 = re.DOTALL
    two = judgements["user_prompt"].str.extract(_TURN2, flags=16)["answer"]
    judgements = judgements.assign(
        answer=one.where(judgements["turn"] == 1, two), quality=normalise_score(judgements["score"])
    )
    missing = judgements["answer"].isna()
    if missing.any():
        row = judgements[missing].iloc[0]
        raise InputError.single(
            str(j_path), f"cannot find the answer in the judge prompt of question {row.question_id} turn {row.turn}"
        )
    expected = len(questions) * 2 * 2
    if len(judgements) != expected:
        raise InputError.single(
            str(j_path), f"expected {expected} judgements (questions x 2 turns x 2 models), found {len(judgements)}"
        )
    eval_prompts = _contaminated(folder / "contaminated_prompts.jsonl")
    turns = questions["turns"]
    dirty = turns.str[0].isin(eval_prompts) | turns.str[1].isin(eval_prompts)
    return questions, judgements, set(questions.loc[dirty, "question_id"].astype(int))


def import_mtbench(data: Path, out: Path, seed: int = DEFAULT_SEED) -> Path:
    folder = data / "routellm" / "mt_bench"
    questions, judgements, dirty = load_mtbench(folder)
    questions = questions.sort_values("question_id", kind="stable").reset_index(drop=True)
    # one example per (question, turn), in question order, turn 1 before turn 2
    grid = pd.concat([questions.assign(turn=1), questions.assign(turn=2)]).sort_values(
        ["question_id", "turn"], kind="stable"
    )
    grid = grid.reset_index(drop=True)
    n = len(grid)
    ids = string_array("mtbench-" + grid["question_id"].astype(str) + "-t" + grid["turn"].astype(str))
    first = string_array(grid["turns"].str[0])
    second = string_array(grid["turns"].str[1])
    context = grid[["question_id"]].merge(
        judgements.loc[(judgements["model"] == STRONG) & (judgements["turn"] == 1), ["question_id", "answer"]],
        on="question_id",
        how="left",
    )["answer"]
    turn1_rows = np.flatnonzero(grid["turn"].to_numpy() == 1)
    turn2_rows = np.flatnonzero(grid["turn"].to_numpy() == 2)
    single = user_messages(first.take(pa.array(turn1_rows)))
    multi = conversations(
        [
            ("user", first.take(pa.array(turn2_rows))),
            ("assistant", string_array(context.to_numpy()[turn2_rows])),
            ("user", second.take(pa.array(turn2_rows))),
        ]
    )
    # interleave back into grid order (turn 1 and turn 2 alternate per question)
    order = np.argsort(np.concatenate([turn1_rows, turn2_rows]), kind="stable")
    messages = pa.concat_arrays([single, multi]).take(pa.array(order))
    input_tokens = input_tokens_of(messages)
    task_type = _mapped(grid["category"], MTBENCH_TASK_TYPE, None, str(folder / "question.jsonl"), "MT-Bench category")
    asked = pc.binary_join_element_wise(first, pc.if_else(pa.array(grid["turn"].to_numpy() == 2), second, ""), "\n")
    refs = np.asarray(grid["reference"].to_numpy(), dtype=object)
    has_ref = np.asarray([isinstance(r, list) and len(r) >= 2 for r in refs], dtype=bool)  # a loop over 80 questions
    turn_idx = grid["turn"].to_numpy() - 1
    reference = np.full(n, None, dtype=object)
    reference[has_ref] = [refs[i][turn_idx[i]] for i in np.flatnonzero(has_ref)]
    contaminated = grid["question_id"].isin(sorted(dirty)).to_numpy()
    examples = pa.table(
        {
            "id": ids,
            "messages": messages,
            "task_type": task_type,
            "pii": pa.array(np.zeros(n, dtype=bool)),
            "stakes": keyword_stakes(asked, task_type),
            "sla": sla_of(task_type, input_tokens),
            "tags": tags_of(
                [
                    ("multi_turn", grid["turn"].to_numpy() == 2),
                    ("long_input", input_tokens >= LONG_INPUT_TOKENS),
                    ("routellm_contaminated", contaminated),
                ],
                fixed=[string_array("category:" + grid["category"])],
            ),
            "reference": pa.array(reference, pa.string()),
            "input_tokens": pa.array(input_tokens, pa.int64()),
            "question_id": pa.array(grid["question_id"].to_numpy(dtype=np.int64)),
            "turn": string_array(grid["turn"].astype(str)),
            "category": string_array(grid["category"]),
            "routellm_contaminated": pa.array(contaminated),
        }
    )
    per_model = {}
    keys = grid[["question_id", "turn"]]
    for m in (STRONG, WEAK):
        rows = keys.merge(
            judgements[judgements["model"] == m], on=["question_id", "turn"], how="left", validate="one_to_one"
        )
        responses = string_array(rows["answer"])
        quality = pa.array(rows["quality"].to_numpy(dtype=np.float64), from_pandas=True)
        per_model[m] = (responses, output_tokens_of(responses), quality)
    recordings = _two_model_recordings(ids, input_tokens, per_model, seed)
    manifest = _manifest(
        "routellm-mtbench",
        "MT-Bench: 80 questions x 2 turns = 160 examples answered by GPT-4-1106-preview and Mixtral-8x7B-Instruct, "
        "quality = the GPT-4 judge score normalised to (score - 1) / 9; a failed judgement (-1) is missing, never 0. "
        f"RouteLLM drops {len(dirty)} contaminated questions; they are kept here and tagged routellm_contaminated.",
        "routellm/evals/mt_bench/judgements.jsonl, routellm/evals/mt_bench/question.jsonl, "
        "routellm/evals/mt_bench/contaminated_prompts.jsonl",
        "Answers are cut out of the judge prompts (user_prompt) unchanged; scores copied and normalised. A turn-2 "
        "example's messages carry GPT-4's recorded turn-1 answer as the assistant context; each model's recorded "
        "turn-2 answer was produced after its own turn-1 answer. " + SELFHOSTED_NOTE,
        ["category", "turn"],
        {"scorer": "judge"},
        ["response", "quality"],
        {
            **MODELLED_COLUMNS,
            "task_type": "From the MT-Bench category by a fixed table (writing->creative_writing, coding->code, "
            "extraction->extract, stem/humanities->open_qa, others unchanged).",
            "stakes": "high on a medical/legal/financial keyword in the user turns; low for creative_writing and "
            "roleplay; else normal.",
            "sla": f"batch for extract, or when input_tokens >= {LONG_INPUT_TOKENS}; else interactive.",
            "pii": "false for every row: the source contains no personal data.",
            "tags": "category:<category>; multi_turn on turn 2; long_input; routellm_contaminated on the "
            "questions RouteLLM drops.",
        },
        seed,
    )
    return write_suite(out, manifest, examples, recordings, data / "routellm" / "LICENSE")


def import_routellm(data: Path, out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Build all three RouteLLM suites; return their folders."""
    return [import_mmlu(data, out, seed), import_gsm8k(data, out, seed), import_mtbench(data, out, seed)]
