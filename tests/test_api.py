"""The public Python API (``import routegate``, docs/api.md): what it exports, and that the documented example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import routegate

ROOT = Path(__file__).resolve().parent.parent

PUBLIC = [
    "Comparison",
    "GateOutcome",
    "GateResult",
    "GatesSpec",
    "InputError",
    "Policy",
    "Problem",
    "RunOptions",
    "RunResult",
    "RunSummary",
    "Suite",
    "Verdict",
    "__version__",
    "compare_runs",
    "drill_policy",
    "evaluate_gates",
    "gate_policies",
    "load_gates",
    "load_policy",
    "load_suite",
    "load_suites",
    "render_html",
    "run_policy",
    "verdict_json",
]


def test_all_is_pinned() -> None:
    """Adding or removing a public name is a decision: change this list, docs/api.md and the CHANGELOG."""
    assert sorted(routegate.__all__) == sorted(PUBLIC)


def test_every_public_name_resolves_and_others_do_not() -> None:
    for name in routegate.__all__:
        assert getattr(routegate, name) is not None, name
    assert set(routegate.__all__) <= set(dir(routegate))
    with pytest.raises(AttributeError, match="no_such_name"):
        routegate.no_such_name  # noqa: B018


def test_docs_api_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first Python block of docs/api.md runs as written, from the repository root, and its
    figures are the ones the command line gives for the same inputs."""
    text = (ROOT / "docs" / "api.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)[:1]
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(block, "docs/api.md", "exec"), namespace)
    outcome = namespace["outcome"]
    assert isinstance(outcome, routegate.GateOutcome)
    assert bool(outcome.verdict) == outcome.verdict.passed
    verdict = namespace["verdict"]
    assert isinstance(verdict, dict)
    assert verdict["passed"] == outcome.verdict.passed
    assert [g["name"] for g in verdict["gates"]] == [g.name for g in outcome.verdict.gates]
