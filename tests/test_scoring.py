"""Scorers and the scorer registry (docs/scoring.md)."""

from __future__ import annotations

import json
import math
import re
import sys
import tomllib
from collections.abc import Sequence
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

import routegate.scoring as scoring
from routegate.errors import InputError
from routegate.scoring import Registry, ScoreInput, Scorer, get_scorer, score, scorer_names
from routegate.scoring import registry as registry_module
from routegate.scoring.numeric import final_number

ROOT = Path(__file__).resolve().parents[1]
GSM8K = Path("/work/shared/data/routellm/gsm8k")
BUILTIN_NAMES = ["contains", "exact_match", "judge", "mcq", "numeric", "regex", "valid_json"]


def run(
    name: str, response: Sequence[str | None], reference: Sequence[str | None] | None = None, **options: object
) -> list[float]:
    inp = ScoreInput(pa.array(response, pa.string()), None if reference is None else pa.array(reference, pa.string()))
    values = score(name, inp, options)
    assert values.dtype == np.float64
    assert values.shape == (len(response),)
    return [float(v) for v in values]


def same(values: list[float], expected: list[float]) -> bool:
    return all((math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(values, expected, strict=True))


def test_public_api_is_pinned() -> None:
    assert sorted(scoring.__all__) == sorted(
        [
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
    )


def test_judge_declares_it_does_not_read_responses() -> None:
    assert scoring.needs_response(get_scorer("judge")) is False
    assert scoring.needs_response(get_scorer("numeric")) is True


# --- judge --------------------------------------------------------------------------------------------


def test_judge_passes_recorded_quality_through_and_null_is_nan() -> None:
    inp = ScoreInput(pa.array(["a", None, "c"]), None, pa.array([0.25, 0.5, None], pa.float64()))
    assert same(get_scorer("judge")(inp, {}).tolist(), [0.25, 0.5, math.nan])
    assert np.isnan(get_scorer("judge")(ScoreInput(pa.array(["a", "b"])), {})).all()


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_only_judge_declares_it_passes_the_recorded_quality(name: str) -> None:
    assert scoring.passes_recorded_quality(get_scorer(name)) is (name == "judge")


def test_judges_scores_are_the_recorded_quality_bit_for_bit() -> None:
    """What ``passes_recorded_quality`` promises, and the engine relies on: handing the NaN-for-none
    column over as the scores gives what judge computes from it through Arrow, bit for bit."""
    rng = np.random.default_rng(3)
    recorded = rng.random(10_000)
    recorded[rng.random(10_000) < 0.1] = np.nan
    recorded[:3] = [0.0, 1.0, 5e-324]
    inp = ScoreInput(pa.nulls(recorded.size, pa.string()), None, pa.array(recorded, pa.float64(), from_pandas=True))
    scored = get_scorer("judge")(inp, {})
    assert scored.dtype == np.float64
    assert scored.tobytes() == recorded.tobytes()


# --- exact_match ----------------------------------------------------------------------------------------


def test_exact_match_normalises_space_and_case() -> None:
    response = ["  Paris\n", "PARIS", "new   york\tcity", "Paris.", "ä\u00a0B", None, "x"]
    reference = ["paris", "paris", "New York City", "paris", "Ä b", "paris", None]
    assert same(run("exact_match", response, reference), [1, 1, 1, 0, 1, 0, math.nan])
    assert same(run("exact_match", response, reference, normalize=False), [0, 0, 0, 0, 0, 0, math.nan])
    assert run("exact_match", ["Paris"], ["Paris"], normalize=False) == [1.0]


# --- mcq ------------------------------------------------------------------------------------------------

MCQ_CASES = [
    ("Answer: C", "C", 1),
    ("(C)", "C", 1),
    ("C. Paris", "C", 1),
    ("The answer is C", "C", 1),
    ("C", "(C)", 1),
    ("The answer is (B).", "B", 1),
    ("The correct answer is: **D**", "D", 1),
    ("B) because of the tides", "B", 1),
    ("Paris is in France, so (D) is right.", "D", 1),
    ("A. 3\nB. 4\nThe answer is B.", "B", 1),
    ("A. 3\nB. 4\nThe answer is B.", "A", 0),
    ("Let me think. A cat is not a dog.", "A", 0),  # "A" as a word is not a choice
    ("None of these", "A", 0),
    ("answer: J", "j. last option", 1),
    (None, "A", 0),
    ("A", None, math.nan),
    ("A", "no letter here", math.nan),
]


@pytest.mark.parametrize(("response", "reference", "expected"), MCQ_CASES)
def test_mcq_reads_the_chosen_letter(response: str | None, reference: str | None, expected: float) -> None:
    assert same(run("mcq", [response], [reference]), [expected])


# --- numeric --------------------------------------------------------------------------------------------

NUMBER_CASES = [
    ("#### 18", 18.0),
    ("She makes 9 * $2 = $<<9*2=18>>18.\n#### 18", 18.0),
    ("It costs $1,234.50.", 1234.5),
    ("The answer is 18.", 18.0),
    ("The answer is 18 (3 + 15).", 18.0),
    ("The answer is 5. No wait, the answer is 6 (2+4).", 6.0),
    ("It is -5 degrees", -5.0),
    ("He is -$4 short", -4.0),
    ("#### -7\n", -7.0),
    ("16-3=13", 13.0),
    ("from 3 - 5", 5.0),
    ("in 2023-2024", 2024.0),
    ("#### $1,000", 1000.0),
    ("#### 7 packs and 2 extra glue sticks", 7.0),
    ("#### 5\n## Note: see step 3", 5.0),
    (r"so $\boxed{42}$ and 7 more", 42.0),
    ("**Answer: 12**", 12.0),
    ("#### $20.00", 20.0),
    ("no number here", math.nan),
    ("", math.nan),
]


@pytest.mark.parametrize(("text", "expected"), NUMBER_CASES)
def test_final_number(text: str, expected: float) -> None:
    assert same(final_number(pa.array([text])).tolist(), [expected])


def test_numeric_compares_with_tolerance_and_handles_nulls() -> None:
    response = ["#### 18", "The answer is 72.", "$20.00", "100001", "no idea", None, "5", "0.30000000000000004"]
    reference = ["Janet sells 9 eggs.\n#### 18", "72", "#### 20", "100000", "4", "4", "#### unknown", "0.3"]
    assert same(run("numeric", response, reference), [1, 1, 1, 0, 0, 0, math.nan, 1])
    assert run("numeric", ["100001"], ["100000"], rel_tol=1e-5) == [1.0]
    assert run("numeric", ["0.001"], ["0"]) == [0.0]
    assert run("numeric", ["0.001"], ["0"], abs_tol=0.01) == [1.0]


def test_numeric_accepts_chunked_columns() -> None:
    response = pa.chunked_array([["#### 1", "2"], ["x 3"]])
    reference = pa.chunked_array([["1"], ["2", "4"]])
    assert get_scorer("numeric")(ScoreInput(response, reference), {}).tolist() == [1.0, 1.0, 0.0]


def _gsm8k() -> tuple[pa.Table, pa.Array]:
    if not GSM8K.exists():
        pytest.skip("RouteLLM GSM8K data not available")
    table = pcsv.read_csv(GSM8K / "gsm8k_responses.csv", parse_options=pcsv.ParseOptions(newlines_in_values=True))
    with (GSM8K / "test.jsonl").open(encoding="utf-8") as lines:
        references = pa.array([json.loads(line)["answer"] for line in lines])
    return table, references


def _routellm_grader(response: str, reference: str) -> bool:
    """What RouteLLM's recorded correctness behaves like: the last run of digits, compared as text."""
    found = re.findall(r"\d+", response.replace(",", ""))
    return bool(found) and found[-1] == reference.split("####")[-1].strip().replace(",", "")


# Agreement of `numeric` with RouteLLM's recorded correctness, measured on all 1,319 rows (docs/scoring.md).
MEASURED_AGREEMENT = {"mistralai/Mixtral-8x7B-Instruct-v0.1": 0.9917, "gpt-4-1106-preview": 0.9682}


@pytest.mark.parametrize("model", sorted(MEASURED_AGREEMENT))
def test_numeric_agrees_with_routellm_recorded_correctness(model: str) -> None:
    table, references = _gsm8k()
    assert table.num_rows == len(references) == 1319
    values = get_scorer("numeric")(ScoreInput(table.column(f"{model}_response"), references), {})
    assert not np.isnan(values).any()
    recorded = np.asarray(table.column(model).to_numpy(), dtype=bool)
    agreement = float(np.mean((values == 1) == recorded))
    assert agreement >= MEASURED_AGREEMENT[model] - 0.005
    # Every disagreement is explained by the recorded grader comparing the last run of digits as text
    # ("$20.00" -> "00" is wrong there, "0.5" -> "5" is right there), not by a number we failed to read.
    responses = table.column(f"{model}_response").to_pylist()
    answers = references.to_pylist()
    for row in np.flatnonzero((values == 1) != recorded):
        assert _routellm_grader(responses[row], answers[row]) == recorded[row], row


# --- regex, contains ------------------------------------------------------------------------------------


def test_regex_searches_and_respects_case_option() -> None:
    response = ["order id: AB-123", "order ab-9", "nothing", None]
    assert run("regex", response, pattern=r"[A-Z]{2}-\d+") == [1, 0, 0, 0]
    assert run("regex", response, pattern=r"[A-Z]{2}-\d+", case_sensitive=False) == [1, 1, 0, 0]
    assert run("regex", response, pattern=r"^order") == [1, 1, 0, 0]


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"pattern": "(unclosed"}, "scoring.options.pattern", "not a valid RE2"),
        ({"pattern": r"(?<=x)y"}, "scoring.options.pattern", "not a valid RE2"),  # Python re accepts, RE2 does not
        ({}, "scoring.options.pattern", "required"),
        ({"pattern": "x", "flags": 1}, "scoring.options.flags", "allowed: case_sensitive, pattern"),
    ],
)
def test_regex_options_are_validated(options: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        get_scorer("regex").validate_options(options)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert words in problem.message


def test_contains_text_or_reference() -> None:
    response = ["The capital is Paris.", "the capital is PARIS", "London", None]
    assert run("contains", response, text="Paris") == [1, 1, 0, 0]
    assert run("contains", response, text="Paris", case_sensitive=True) == [1, 0, 0, 0]
    reference = ["paris", "Paris", "Paris", "Paris"]
    assert run("contains", response, reference) == [1, 1, 0, 0]
    assert run("contains", response, reference, case_sensitive=True) == [0, 0, 0, 0]
    assert same(run("contains", ["a", "ab"], [None, "b"]), [math.nan, 1])


# --- valid_json -----------------------------------------------------------------------------------------


def test_valid_json() -> None:
    response = [
        '{"a": 1}',
        '```json\n{"a": [1, 2]}\n```',
        "  [1, 2]  ",
        '"text"',
        "{'a': 1}",  # Python, not JSON
        '{"a": NaN}',  # Python's json accepts NaN; JSON does not
        'Sure! {"a": 1}',
        '{"a": 1}',  # a duplicate: parsed once, scored per row
        "",
        None,
    ]
    assert run("valid_json", response) == [1, 1, 1, 1, 0, 0, 0, 1, 0, 0]
    assert run("valid_json", response, require_object=True) == [1, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    assert run("valid_json", response[:2], strip_fence=False) == [1, 0]


# --- every scorer -------------------------------------------------------------------------------------

OPTIONS = {"regex": {"pattern": "a"}, "contains": {"text": "a"}}


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_every_builtin_scores_in_unit_interval_and_null_response(name: str) -> None:
    inp = ScoreInput(
        pa.array(["a", "#### 3", None, '{"x": 1}', "B"]),
        pa.array(["a", "3", "3", None, "B"]),
        pa.array([1.0, 0.0, None, 0.5, 0.5]),
    )
    scorer = get_scorer(name)
    assert isinstance(scorer, Scorer)
    values = scorer(inp, OPTIONS.get(name, {}))
    assert values.shape == (5,)
    finite = values[~np.isnan(values)]
    assert ((finite >= 0) & (finite <= 1)).all()
    assert math.isnan(values[2]) if name == "judge" else values[2] == 0.0


def test_unknown_option_is_an_input_error_listing_allowed_options() -> None:
    with pytest.raises(InputError) as caught:
        score("numeric", ScoreInput(pa.array(["1"]), pa.array(["1"])), {"tolerance": 0.1})
    assert caught.value.problems[0].field == "scoring.options.tolerance"
    assert "abs_tol, rel_tol" in caught.value.problems[0].message
    with pytest.raises(InputError, match=r"scoring\.options\.rel_tol"):
        get_scorer("numeric").validate_options({"rel_tol": -1})
    with pytest.raises(InputError, match="allowed: none"):
        get_scorer("judge").validate_options({"x": 1})


def test_score_input_rejects_columns_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="reference has 1 rows"):
        ScoreInput(pa.array(["a", "b"]), pa.array(["a"]))


# --- registry -----------------------------------------------------------------------------------------


def test_unknown_scorer_names_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        get_scorer("bleu")
    (problem,) = caught.value.problems
    assert (problem.file, problem.field) == ("-", "scoring.scorer")
    assert "unknown scorer 'bleu'" in problem.message
    for name in BUILTIN_NAMES:
        assert name in problem.message


def test_builtins_are_the_pyproject_entry_points() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["project"]["entry-points"]["routegate.scorers"]
    assert declared == {p.name: p.value for p in registry_module.BUILTINS}
    assert set(BUILTIN_NAMES) <= set(scorer_names())


PLUGIN = '''
import numpy as np
import pyarrow.compute as pc

class Length:
    """1 when the response is at most `limit` characters."""
    def validate_options(self, options):
        if not isinstance(options.get("limit", 100), int):
            raise ValueError("limit must be an integer")
    def __call__(self, inp, options):
        n = pc.fill_null(pc.utf8_length(inp.response), 10**9).to_numpy()
        return (n <= options.get("limit", 100)).astype(np.float64)

length = Length()
not_a_scorer = 42
'''


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "routegate_test_plugin"
    (tmp_path / f"{name}.py").write_text(PLUGIN, encoding="utf-8")
    (tmp_path / "routegate_broken_plugin.py").write_text("raise RuntimeError('boom at import')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_third_party_scorer_through_an_entry_point(plugin_module: str) -> None:
    registry = Registry([EntryPoint("length", f"{plugin_module}:length", "routegate.scorers")])
    assert "length" in registry.names()
    assert "numeric" in registry.names()  # built-ins are always there
    scorer = registry.get("length")
    assert registry.get("length") is scorer
    assert scorer(ScoreInput(pa.array(["abc", "abcdef", None])), {"limit": 4}).tolist() == [1.0, 0.0, 0.0]


def test_default_registry_reads_installed_entry_points(plugin_module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    points = [EntryPoint("length", f"{plugin_module}:length", "routegate.scorers")]
    monkeypatch.setattr(registry_module, "entry_points", lambda group: points if group == "routegate.scorers" else [])
    monkeypatch.setattr(registry_module, "_default", None)
    assert "length" in scorer_names()
    assert get_scorer("length")(ScoreInput(pa.array(["x"])), {}).tolist() == [1.0]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("routegate_broken_plugin:scorer", "failed to load: RuntimeError: boom at import"),
        ("routegate_missing_module:scorer", "failed to load: ModuleNotFoundError"),
        ("routegate_test_plugin:not_a_scorer", "is not a scorer"),
    ],
)
def test_broken_plugin_error_names_it(plugin_module: str, value: str, words: str) -> None:
    registry = Registry([EntryPoint("shiny", value, "routegate.scorers")])
    assert "shiny" in registry.names()  # listing names loads no plugin, so a broken one is listed too
    assert registry.get("numeric") is get_scorer("numeric")  # one broken plugin does not break the others
    with pytest.raises(InputError) as caught:
        registry.get("shiny")
    message = caught.value.problems[0].message
    assert f"scorer 'shiny' (entry point {value}" in message
    assert words in message


def test_a_name_registered_twice_is_an_error(plugin_module: str) -> None:
    registry = Registry([EntryPoint("numeric", f"{plugin_module}:length", "routegate.scorers")])
    with pytest.raises(InputError, match="registered more than once"):
        registry.get("numeric")
    same_value = Registry([EntryPoint("numeric", "routegate.scoring.numeric:numeric", "routegate.scorers")])
    assert same_value.get("numeric") is get_scorer("numeric")
