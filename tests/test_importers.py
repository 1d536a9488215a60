"""The importers, run on the real source files, and the bundled suites, catalog and single-model policies.

The expected numbers are computed here from the raw sources the way their
authors compute them (RouteLLM's benchmarks.py, AlpacaEval's leaderboard), so
the tests check the importers against someone else's arithmetic.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner

from routegate.importers import alpacaeval, routellm
from routegate.importers.cli import import_group
from routegate.importers.common import keyword_stakes, keyword_task_type, seeded_normals
from routegate.load.policy import load_policy
from routegate.load.suite import Suite, load_suite, message_text

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ROUTEGATE_DATA", ROOT.parent / "shared" / "data"))
BUNDLED = ROOT / "eval_suites"
SUITES = ("routellm-mmlu", "routellm-gsm8k", "routellm-mtbench", "alpacaeval")
STRONG, WEAK = routellm.STRONG, routellm.WEAK

# Skipped only outside CI: CI lays shared/ beside the clone, so a missing folder there is a failure.
pytestmark = pytest.mark.skipif(
    not (DATA / "routellm").is_dir() and not os.environ.get("CI"), reason=f"source data not found at {DATA}"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every suite rebuilt from the sources into a fresh folder."""
    out = tmp_path_factory.mktemp("suites")
    folders = [*routellm.import_routellm(DATA, out), alpacaeval.import_alpacaeval(DATA, out)]
    return {f.name: f for f in folders}


@pytest.fixture(scope="module")
def suites(built: dict[str, Path]) -> dict[str, Suite]:
    return {name: load_suite(folder, defer=False) for name, folder in built.items()}


def _quality(suite: Suite, model: str) -> pd.Series:
    rec = suite.recordings.to_pandas()
    quality: pd.Series = rec[rec["model"] == model].set_index("example_id")["quality"]
    return quality


def _texts(suite: Suite) -> pd.Series:
    ex = suite.examples
    return pd.Series(
        message_text(ex.column("messages")).to_numpy(zero_copy_only=False), index=ex.column("id").to_numpy()
    )


# ------------------------------------------------------------------------------------------ counts


def test_row_counts(suites: dict[str, Suite]) -> None:
    assert {n: s.examples.num_rows for n, s in suites.items()} == {
        "routellm-mmlu": 14037,
        "routellm-gsm8k": 1307,
        "routellm-mtbench": 160,
        "alpacaeval": 805,
    }
    for name in ("routellm-mmlu", "routellm-gsm8k", "routellm-mtbench"):
        rec = suites[name].recordings.to_pandas()
        assert rec.groupby("model").size().to_dict() == dict.fromkeys(
            ["gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1", "mixtral-8x7b-instruct-v0.1-selfhosted"],
            suites[name].examples.num_rows,
        )


def test_mmlu_drops_exactly_the_contaminated_prompts(suites: dict[str, Suite]) -> None:
    raw = pd.concat(
        [pd.read_csv(f, keep_default_na=False) for f in sorted((DATA / "routellm/mmlu").glob("mmlu_*.csv"))]
    )
    listed = pd.read_json(DATA / "routellm/mmlu/contaminated_prompts.jsonl", lines=True)["eval_prompt"]
    kept = _texts(suites["routellm-mmlu"])
    assert not kept.isin(listed).any()
    assert len(raw) - len(kept) == int(raw["prompt"].isin(listed).sum()) > 0
    # every surviving source prompt is kept (duplicated prompts included)
    assert sorted(kept) == sorted(raw.loc[~raw["prompt"].isin(listed), "prompt"])


def test_gsm8k_decontaminated_and_reference_joined_on_question(suites: dict[str, Suite]) -> None:
    listed = pd.read_json(DATA / "routellm/gsm8k/contaminated_prompts.jsonl", lines=True)["eval_prompt"]
    test = pd.read_json(DATA / "routellm/gsm8k/test.jsonl", lines=True)
    ex = suites["routellm-gsm8k"].examples.to_pandas()
    texts = _texts(suites["routellm-gsm8k"])
    assert not texts.isin(listed).any()
    assert len(listed) == 1319 - len(ex)
    by_question = test.set_index("question")["answer"].str.split("####").str[-1].str.strip().str.replace(",", "")
    assert (ex["reference"].to_numpy() == by_question.loc[texts.to_numpy()].to_numpy()).all()
    # the id carries the question's position in test.jsonl
    positions = ex["id"].str.removeprefix("gsm8k-").astype(int)
    assert (test["question"].to_numpy()[positions] == texts.to_numpy()).all()


# ------------------------------------------------------------------------------------------ published numbers


@pytest.mark.parametrize("dataset", ["mmlu", "gsm8k"])
def test_recorded_correctness_reproduces_routellm_accuracy(suites: dict[str, Suite], dataset: str) -> None:
    """RouteLLM's get_model_accuracy: mean correctness after dropping contaminated prompts (benchmarks.py)."""
    folder = DATA / "routellm" / dataset
    if dataset == "mmlu":
        raw = pd.concat([pd.read_csv(f) for f in sorted(folder.glob("mmlu_*.csv"))], ignore_index=True)
    else:
        raw = pd.read_csv(folder / "gsm8k_responses.csv")
    listed = pd.read_json(folder / "contaminated_prompts.jsonl", lines=True)["eval_prompt"].tolist()
    raw = raw[~raw["prompt"].isin(listed)]
    suite = suites[f"routellm-{dataset}"]
    for source, model in routellm.MODEL_IDS.items():
        published = len(raw[raw[source] == True]) / len(raw) * 100  # noqa: E712 - RouteLLM's own expression
        assert _quality(suite, model).mean() * 100 == pytest.approx(published, abs=1e-9)
    strong, weak = (_quality(suite, routellm.MODEL_IDS[m]).mean() for m in (STRONG, WEAK))
    assert strong > weak  # GPT-4 is the strong model on both


def test_selfhosted_twin_has_the_hosted_answers(suites: dict[str, Suite]) -> None:
    for name in ("routellm-gsm8k", "routellm-mtbench"):
        rec = suites[name].recordings.to_pandas().set_index("example_id")
        hosted = rec[rec["model"] == "mixtral-8x7b-instruct-v0.1"]
        twin = rec[rec["model"] == "mixtral-8x7b-instruct-v0.1-selfhosted"].loc[hosted.index]
        assert (twin["response"] == hosted["response"]).all()
        assert np.array_equal(twin["quality"].to_numpy(), hosted["quality"].to_numpy(), equal_nan=True)
        assert (twin["latency_ms"] != hosted["latency_ms"]).mean() > 0.9  # its own latency model


def test_alpacaeval_win_rates_match_leaderboard(suites: dict[str, Suite]) -> None:
    """mean(preference - 1) is exactly how the leaderboard's win_rate is computed: only float rounding differs."""
    board = pd.read_csv(DATA / "alpaca_eval/leaderboard.csv", index_col=0)
    for generator, model in alpacaeval.LINEUP.items():
        q = _quality(suites["alpacaeval"], model)
        assert q.mean() == pytest.approx(board["win_rate"].astype(float)[generator] / 100, abs=1e-9), generator
        assert len(q) == board.loc[generator, "n_total"]
    assert _quality(suites["alpacaeval"], "gpt-4-1106-preview").eq(0.5).all()  # the reference, by construction


def test_alpacaeval_joins_models_on_instruction_text(suites: dict[str, Suite]) -> None:
    raw = pd.read_parquet(DATA / "alpaca_eval/per_example.parquet")
    texts = _texts(suites["alpacaeval"])
    rec = suites["alpacaeval"].recordings.to_pandas()
    for generator in ("phi-2", "gpt35_turbo_instruct", "claude-2.1"):
        model = alpacaeval.LINEUP[generator]
        rows = rec[rec["model"] == model]
        source = raw[raw["generator"] == generator].set_index("instruction")
        instructions = texts.loc[rows["example_id"]].to_numpy()
        assert (rows["response"].to_numpy() == source.loc[instructions, "output"].to_numpy()).all()
        assert np.allclose(rows["quality"].to_numpy(), source.loc[instructions, "preference"].to_numpy() - 1)
    # for models missing rows the index shifts, so an index join would pair answers with the wrong instruction
    ref = raw[raw["generator"] == "gpt4_1106_preview"].set_index("instruction_index")["instruction"]
    phi = raw[raw["generator"] == "phi-2"]
    assert (ref.loc[phi["instruction_index"]].to_numpy() != phi["instruction"].to_numpy()).any()
    counts = rec.groupby("model").size()
    assert counts["phi-2"] == 803
    assert counts["gpt-3.5-turbo-instruct"] == 804
    assert counts["claude-2.1"] == 805


# ------------------------------------------------------------------------------------------ MT-Bench


def test_mtbench_scores_normalised(suites: dict[str, Suite]) -> None:
    raw = pd.read_json(DATA / "routellm/mt_bench/judgements.jsonl", lines=True)
    for source, model in routellm.MODEL_IDS.items():
        j = raw[raw["model"] == source]
        expected = pd.Series(
            ((j["score"] - 1) / 9).to_numpy(),
            index="mtbench-" + j["question_id"].astype(str) + "-t" + j["turn"].astype(str),
        )
        got = _quality(suites["routellm-mtbench"], model)
        assert np.allclose(got.loc[expected.index].to_numpy(), expected.to_numpy())
        assert got.between(0, 1).all()
    assert routellm.normalise_score(pd.Series([1, 10, 5.5, -1])).tolist()[:3] == [0.0, 1.0, 0.5]
    assert np.isnan(routellm.normalise_score(pd.Series([-1])).iloc[0])


def _data_copy(tmp_path: Path) -> Path:
    """A writable copy of the source tree (links for everything) for tests that alter one file."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data, copy_function=os.symlink)
    return data


def test_failed_judgement_is_missing_not_zero(tmp_path: Path) -> None:
    data = _data_copy(tmp_path)
    path = data / "routellm/mt_bench/judgements.jsonl"
    j = pd.read_json(DATA / "routellm/mt_bench/judgements.jsonl", lines=True)
    hit = (j["model"] == WEAK) & (j["question_id"] == j["question_id"].iloc[0]) & (j["turn"] == 2)
    j.loc[hit, "score"] = -1
    path.unlink()
    j.to_json(path, orient="records", lines=True)
    suite = load_suite(routellm.import_mtbench(data, tmp_path / "out"), defer=False)
    q = _quality(suite, "mixtral-8x7b-instruct-v0.1")
    failed = f"mtbench-{j['question_id'].iloc[0]}-t2"
    assert np.isnan(q[failed])
    assert q.drop(failed).notna().all()
    assert (
        q.drop(failed)
        .eq(_quality(load_suite(BUNDLED / "routellm-mtbench", defer=False), "mixtral-8x7b-instruct-v0.1").drop(failed))
        .all()
    )


def test_mtbench_examples_carry_turns_and_contamination(suites: dict[str, Suite]) -> None:
    ex = suites["routellm-mtbench"].examples.to_pandas()
    assert (ex.groupby("question_id").size() == 2).all()
    assert len(ex["question_id"].unique()) == 80
    n_messages = ex["messages"].map(len)
    assert ((ex["turn"] == "1") == (n_messages == 1)).all()
    assert ((ex["turn"] == "2") == (n_messages == 3)).all()
    questions = pd.read_json(DATA / "routellm/mt_bench/question.jsonl", lines=True)
    listed = pd.read_json(DATA / "routellm/mt_bench/contaminated_prompts.jsonl", lines=True)["eval_prompt"]
    dirty = questions[questions["turns"].str[0].isin(listed) | questions["turns"].str[1].isin(listed)]["question_id"]
    assert set(ex.loc[ex["routellm_contaminated"], "question_id"]) == set(dirty)
    assert ex["tags"].map(lambda t: "routellm_contaminated" in t).sum() == 2 * len(dirty)


# ------------------------------------------------------------------------------------------ determinism


def test_rebuild_is_byte_identical_to_the_committed_suites(built: dict[str, Path]) -> None:
    for name in SUITES:
        committed = sorted(p.name for p in (BUNDLED / name).iterdir())
        rebuilt = sorted(p.name for p in built[name].iterdir())
        assert committed == rebuilt, name
        for file in committed:
            assert (BUNDLED / name / file).read_bytes() == (built[name] / file).read_bytes(), f"{name}/{file}"


def test_latency_jitter_is_seeded_per_request_not_per_row_order() -> None:
    keys = pa.array([f"ex-{i}\x00m" for i in range(2000)])
    z = seeded_normals(keys, 7)
    order = np.random.default_rng(0).permutation(2000)
    assert np.array_equal(seeded_normals(keys.take(pa.array(order)), 7), z[order])
    assert not np.array_equal(seeded_normals(keys, 8), z)
    assert abs(z.mean()) < 0.1
    assert 0.9 < z.std() < 1.1


def test_modelled_columns_are_labelled(suites: dict[str, Suite]) -> None:
    for suite in suites.values():
        modelled = suite.manifest.columns.modelled
        for column in ("input_tokens", "output_tokens", "latency_ms", "task_type", "stakes", "sla", "pii"):
            assert column in modelled, (suite.name, column)
        assert "seed" in modelled
        assert suite.manifest.source.commit
        assert suite.manifest.source.license == "Apache-2.0"
        source = DATA / ("alpaca_eval" if suite.name == "alpacaeval" else "routellm") / "LICENSE"
        assert (suite.folder / "LICENSE").read_bytes() == source.read_bytes()
        assert suite.recordings.column("confidence").null_count == suite.recordings.num_rows


# ------------------------------------------------------------------------------------------ attribute rules


def test_keyword_rules() -> None:
    texts = pa.array(
        [
            "Write a Python function that reverses a list.",
            "Summarize this article in three sentences.",
            "Classify the tweet into event, demo or news.",
            "Write a poem about autumn.",
            "Give me some ideas for a birthday party.",
            "Why is the sky blue?",
            "I want to get better at networking",
            "What dose of ibuprofen is safe for my child?",
        ]
    )
    types = keyword_task_type(texts)
    assert types.to_pylist() == [
        "code",
        "summarize",
        "classify",
        "creative_writing",
        "brainstorm",
        "open_qa",
        "chat",
        "open_qa",
    ]
    assert keyword_stakes(texts, types).to_pylist() == [
        "normal",
        "normal",
        "normal",
        "low",
        "low",
        "normal",
        "low",
        "high",
    ]


def test_mmlu_attributes_follow_the_subject_tables(suites: dict[str, Suite]) -> None:
    ex = suites["routellm-mmlu"].examples.to_pandas()
    assert set(ex["subject"]) == set(routellm.MMLU_CATEGORY)
    assert (ex["task_type"] == ex["subject"].map(routellm.MMLU_TASK_TYPE).fillna("qa")).all()
    assert (ex["stakes"] == ex["subject"].map(routellm.MMLU_STAKES).fillna("normal")).all()
    assert ((ex["sla"] == "batch") == (ex["input_tokens"] >= 512)).all()
    assert not ex["pii"].any()


# ------------------------------------------------------------------------------------------ policies and CLI


def test_single_model_policy_for_every_bundled_model(suites: dict[str, Suite]) -> None:
    models = set().union(*(set(s.recordings.column("model").to_pylist()) for s in suites.values()))
    files = {p.stem for p in (ROOT / "policies/single").glob("*.yaml")}
    assert models == files
    for model in models:
        policy = load_policy(str(ROOT / "policies/single" / f"{model}.yaml"))
        assert [t.models for t in policy.spec.tiers.values()] == [(model,)]
        assert policy.spec.escalation.steps == ()
        private = policy.catalog.models[model].privacy == "private"
        assert policy.spec.tiers[policy.spec.default_tier].private == private


def test_validate_bundled_policies_and_suites(monkeypatch: pytest.MonkeyPatch) -> None:
    from routegate.cli import main

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["validate", "policies", "eval_suites"])
    assert result.exit_code == 0, result.output


def test_import_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(import_group, ["routellm", "--data", str(DATA), "--out", str(tmp_path), "--only", "mtbench"])
    assert ok.exit_code == 0, ok.output
    assert "routellm-mtbench (160 examples, 480 recordings)" in ok.output
    assert (tmp_path / "routellm-mtbench/examples.parquet").read_bytes() == (
        BUNDLED / "routellm-mtbench/examples.parquet"
    ).read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = runner.invoke(import_group, ["alpacaeval", "--data", str(empty), "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "per_example.parquet" in bad.output
    assert "Traceback" not in bad.output
