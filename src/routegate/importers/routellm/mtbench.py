"""RouteLLM's MT-Bench results -> the ``routellm-mtbench`` suite.

80 questions x 2 turns answered by GPT-4 and Mixtral, with GPT-4 judge scores
normalised to [0, 1]; the answers are cut out of the judge prompts. The
questions RouteLLM drops as contaminated are kept and tagged. Every rule here
is documented in docs/bundled-suites.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from routegate.errors import InputError
from routegate.importers.attributes import LONG_INPUT_TOKENS, keyword_stakes, sla_of, tags_of
from routegate.importers.common import (
    DEFAULT_SEED,
    MODELLED_COLUMNS,
    conversations,
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
    map_labels,
    read_contaminated,
)

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
    eval_prompts = read_contaminated(folder / "contaminated_prompts.jsonl")
    turns = questions["turns"]
    dirty = turns.str[0].isin(eval_prompts) | turns.str[1].isin(eval_prompts)
    return questions, judgements, set(questions.loc[dirty, "question_id"].astype(int))


def import_mtbench(data: Path, out: Path, seed: int = DEFAULT_SEED) -> Path:
    """Build ``routellm-mtbench`` from DATA/routellm/mt_bench into ``out``; return its folder."""
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
    task_type = map_labels(
        grid["category"], MTBENCH_TASK_TYPE, None, str(folder / "question.jsonl"), "MT-Bench category"
    )
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
    recordings = build_recordings(ids, input_tokens, per_model, seed)
    manifest = build_manifest(
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
        cluster="question_id",  # a question's two turns share a conversation: not independent
    )
    return write_suite(out, manifest, examples, recordings, data / "routellm" / "LICENSE")
