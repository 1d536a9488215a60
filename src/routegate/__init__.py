"""routegate: gate routing-policy changes like deployments.

The public Python API, for notebooks and scripts (docs/api.md)::

    import routegate

    baseline = routegate.load_policy("git:HEAD:policies/assistant.yaml")
    candidate = routegate.load_policy("policies/assistant.yaml")
    suites = routegate.load_suites(["eval_suites/routellm-gsm8k"])
    gates, source = routegate.load_gates(None)  # the documented defaults
    outcome = routegate.gate_policies(baseline, candidate, suites, gates, gates_source=source)
    outcome.verdict.passed, [g.name for g in outcome.verdict.failed]

Names are resolved on first use (PEP 562 ``__getattr__``), so ``import routegate`` stays cheap
and the command line imports only what a command needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from routegate._version import __version__

if TYPE_CHECKING:
    from routegate.errors import InputError, Problem
    from routegate.gates.evaluate import evaluate_gates
    from routegate.gates.outcome import GateOutcome
    from routegate.gates.result import GateResult, Verdict
    from routegate.gates.spec import GatesSpec, load_gates
    from routegate.load.policy import Policy, load_policy
    from routegate.load.suite import Suite, load_suite
    from routegate.pipeline import RunOptions, drill_policy, gate_policies, load_suites, run_policy
    from routegate.report.html import render_html
    from routegate.report.verdict import verdict_json
    from routegate.stats.compare import Comparison, compare_runs
    from routegate.stats.summary import RunResult, RunSummary

_EXPORTS = {
    "InputError": "routegate.errors",
    "Problem": "routegate.errors",
    "Policy": "routegate.load.policy",
    "load_policy": "routegate.load.policy",
    "Suite": "routegate.load.suite",
    "load_suite": "routegate.load.suite",
    "load_suites": "routegate.pipeline",
    "RunOptions": "routegate.pipeline",
    "run_policy": "routegate.pipeline",
    "gate_policies": "routegate.pipeline",
    "drill_policy": "routegate.pipeline",
    "RunResult": "routegate.stats.summary",
    "RunSummary": "routegate.stats.summary",
    "Comparison": "routegate.stats.compare",
    "compare_runs": "routegate.stats.compare",
    "GatesSpec": "routegate.gates.spec",
    "GateResult": "routegate.gates.result",
    "Verdict": "routegate.gates.result",
    "load_gates": "routegate.gates.spec",
    "evaluate_gates": "routegate.gates.evaluate",
    "GateOutcome": "routegate.gates.outcome",
    "verdict_json": "routegate.report.verdict",
    "render_html": "routegate.report.html",
}

__all__ = [
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


def __getattr__(name: str) -> Any:
    """The public names of ``__all__``, imported from their modules on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routegate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
