"""Safe, positioned YAML: positions of values and keys, and every way a file can be refused."""

from __future__ import annotations

import pytest

from routegate.errors import InputError, Problem
from routegate.load.yamlsource import parse_yaml

TEXT = """\
name: demo
tiers:
  fast:
    models: [a, b]
  slow:
    models:
      - c
"""


def _problem(text: str) -> Problem:
    with pytest.raises(InputError) as info:
        parse_yaml(text, "f.yaml")
    (problem,) = info.value.problems
    return problem


def test_values_and_keys_have_positions() -> None:
    doc = parse_yaml(TEXT, "f.yaml")
    assert doc.data == {"name": "demo", "tiers": {"fast": {"models": ["a", "b"]}, "slow": {"models": ["c"]}}}
    assert doc.position(("name",)) == (1, 7)
    assert doc.position(("name",), key=True) == (1, 1)
    assert doc.position(("tiers", "fast", "models", 1)) == (4, 17)
    assert doc.position(("tiers", "slow"), key=True) == (5, 3)
    assert doc.position(("tiers", "slow", "models", 0)) == (7, 9)


def test_missing_path_falls_back_to_nearest_ancestor() -> None:
    doc = parse_yaml(TEXT, "f.yaml")
    assert doc.position(("tiers", "fast", "private")) == doc.position(("tiers", "fast"))
    assert doc.position(("tiers", "fast", "private")) == (4, 5)
    assert doc.position(("nowhere", "deep")) == (1, 1)
    problem = doc.problem(("tiers", "fast", "models", 1), "bad model")
    assert problem.format() == "f.yaml:4:17: tiers.fast.models[1]: bad model"
    warning = doc.problem(("name",), "odd", severity="warning")
    assert warning.format() == "f.yaml:1:7: name: warning: odd"


def test_duplicate_keys_at_any_depth() -> None:
    problem = _problem("a:\n  b: 1\n  c: 2\n  b: 3\n")
    assert problem.format() == "f.yaml:4:3: a.b: duplicate key 'b' (first defined at line 2); each key may appear once"
    problem = _problem("x: 1\nx: 1\n")
    assert (problem.line, problem.col, problem.field) == (2, 1, "x")


def test_duplicate_keys_in_flow_mappings() -> None:
    problem = _problem("a: {k: 1, k: 2}\n")
    assert (problem.line, problem.col, problem.field) == (1, 11, "a.k")


def test_tab_in_indentation_is_refused_but_tab_in_a_value_is_fine() -> None:
    problem = _problem("a:\n\tb: 1\n")
    assert problem.format() == "f.yaml:2:1: -: tab character in indentation; indent with spaces"
    problem = _problem("a:\n  \tb: 1\n")
    assert (problem.line, problem.col) == (2, 3)
    assert parse_yaml('a: "x\\ty"\nb: "c\td"\n', "f.yaml").data == {"a": "x\ty", "b": "c\td"}


def test_syntax_error_position_and_context() -> None:
    problem = _problem("a: [1, 2\nb: 3\n")
    assert (problem.line, problem.col) == (2, 2)
    assert (
        problem.message
        == "YAML syntax error: expected ',' or ']', but got ':' (while parsing a flow sequence at line 1, column 4)"
    )


def test_bad_indentation_is_a_syntax_error() -> None:
    problem = _problem("a:\n  b: 1\n c: 2\n")
    assert problem.line == 3
    assert problem.message.startswith("YAML syntax error: ")


@pytest.mark.parametrize("text", ["", "   \n\n", "\n"])
def test_empty_file(text: str) -> None:
    assert _problem(text).format() == "f.yaml:1:1: -: file is empty; expected a YAML mapping"


def test_comments_only() -> None:
    assert _problem("# nothing\n").message == "file holds no YAML document; expected a mapping"


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int")])
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    assert _problem(text).message == f"top level must be a mapping, got {kind}"


def test_several_documents_are_refused() -> None:
    problem = _problem("a: 1\n---\nb: 2\n")
    assert problem.line == 2
    assert "expected a single document" in problem.message


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system ['echo pwned']\n", "tag:yaml.org,2002:python/object/apply:os.system"),
        ("a: !!python/object:os.Popen {args: x}\n", "tag:yaml.org,2002:python/object:os.Popen"),
        ("a: !!set {x: null}\n", "tag:yaml.org,2002:set"),
    ],
)
def test_tags_on_collections_are_refused_not_dropped(text: str, tag: str) -> None:
    assert _problem(text).format() == f"f.yaml:1:4: a: unsupported YAML tag {tag!r}; use plain values"


def test_python_tags_on_scalars_are_refused() -> None:
    problem = _problem("a: !!python/name:os.system ''\n")
    assert problem.format().startswith("f.yaml:1:4: -: YAML error: could not determine a constructor")


def test_unknown_local_tag_is_refused() -> None:
    problem = _problem("a: !secret value\n")
    assert (problem.line, problem.col) == (1, 4)
    assert "could not determine a constructor for the tag '!secret'" in problem.message


def test_non_string_keys_are_refused() -> None:
    problem = _problem("tiers:\n  1: x\n")
    assert problem.format() == "f.yaml:2:3: tiers: keys must be strings, got 1"


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "On", "YES"])
def test_yaml11_boolean_words_as_keys_stay_words(word: str) -> None:
    """``fallback: {on: [...]}`` must mean the key "on", not the boolean True."""
    doc = parse_yaml(f"fallback:\n  {word}: [timeout]\n", "f.yaml")
    assert doc.data == {"fallback": {word: ["timeout"]}}
    assert doc.position(("fallback", word), key=True) == (2, 3)


def test_boolean_words_as_values_are_still_booleans() -> None:
    assert parse_yaml("a: yes\nb: off\nc: 'on'\n", "f.yaml").data == {"a": True, "b": False, "c": "on"}


def test_anchors_aliases_and_merge_keys() -> None:
    text = "base: &b {models: [a], private: false}\nfast:\n  <<: *b\n  description: x\nslow: *b\n"
    data = parse_yaml(text, "f.yaml").data
    assert data["fast"] == {"models": ["a"], "private": False, "description": "x"}
    assert data["slow"] == {"models": ["a"], "private": False}


def test_special_floats_are_read_so_the_schema_can_refuse_them() -> None:
    data = parse_yaml("a: .nan\nb: .inf\nc: -.inf\n", "f.yaml").data
    assert data["a"] != data["a"]
    assert data["b"] == float("inf")
    assert data["c"] == float("-inf")


def test_dates_and_numbers_are_typed() -> None:
    import datetime as dt

    data = parse_yaml("d: 2024-06-01\ni: 12\nf: 0.5\ns: '12'\n", "f.yaml").data
    assert data == {"d": dt.date(2024, 6, 1), "i": 12, "f": 0.5, "s": "12"}


def test_loader_is_never_the_unsafe_one() -> None:
    import inspect

    import routegate.load.yamlsource as module

    source = inspect.getsource(module)
    assert "SafeLoader" in source
    for unsafe in ("yaml.load(", "FullLoader", "UnsafeLoader", "yaml.Loader", "unsafe_load"):
        assert unsafe not in source
