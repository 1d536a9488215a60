"""GitHub annotations for ``routegate check``: messages on the policy file's own lines in the diff.

GitHub reads workflow commands from a step's output (``::warning file=F,line=L,col=C::message``);
``routegate check`` prints these when it runs in GitHub Actions (``GITHUB_ACTIONS=true``):
- a warning at each validation warning of a gated policy (e.g. a shadowed rule), at its line;
- an error on a policy whose gates failed, at the line of its ``name:``, listing the failed gates;
- on a policy whose gates failed, a warning at the tier and one at the rule whose requests lost the
  most quality (paired, grouped by the tier the candidate started them on and by the rule that sent
  them there), at that tier's and that rule's line;
- a warning at each condition value of a rule that matches no request in any gated suite (e.g.
  ``task_type: [coding]`` where the suites say ``code``), at the value, with the closest known values.
Values are escaped as GitHub's toolkit escapes them, so a message cannot end the command early.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.engine.plan import DEFAULT_RULE
from routegate.errors import InputError, Problem
from routegate.load.policy import Policy
from routegate.load.suite import Suite
from routegate.load.yamlsource import parse_yaml

MAX_LISTED_GATES = 5
"""At most this many failed gates are named in one policy's error annotation."""


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, file: str, line: int, col: int, message: str) -> str:
    """One workflow command: ``::level file=...,line=...,col=...::message`` (line/col left out when 0)."""
    props = [f"file={_escape_property(file)}"]
    if line:
        props.append(f"line={line}")
    if col:
        props.append(f"col={col}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


def warning_annotations(policy: str, warnings: Sequence[Problem]) -> list[str]:
    """A warning annotation per validation warning of ``policy`` (a repository-relative path)."""
    return [annotation("warning", policy, w.line, w.col, f"{w.field}: {w.message}") for w in warnings]


def failure_annotation(policy: str, text: str, failed: Sequence[tuple[str, str]]) -> str:
    """The error annotation of a policy whose gates failed: at its ``name:`` line (``text`` is the
    file's content), naming the first failed gates and why (``failed``: (gate, reason) pairs)."""
    try:
        line, col = parse_yaml(text, policy).position(("name",), key=True)
    except InputError:  # a file that was gated always parses; the file-level annotation otherwise
        line = col = 0
    listed = "; ".join(f"{name}: {reason}" for name, reason in failed[:MAX_LISTED_GATES])
    more = f" (and {len(failed) - MAX_LISTED_GATES} more)" if len(failed) > MAX_LISTED_GATES else ""
    message = f"routegate check: {len(failed)} gate(s) failed: {listed}{more}"
    return annotation("error", policy, line, col, message)


def _quality_delta(base: pa.Table, cand: pa.Table) -> np.ndarray:
    """Candidate minus baseline quality per request (NaN where either is unscored)."""
    b = np.asarray(base.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(cand.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64) - b


def _worst_group(delta: np.ndarray, groups: np.ndarray) -> tuple[object, float, int] | None:
    """The group whose scored requests lost the most quality on average: (group, mean delta, n)."""
    worst: tuple[object, float, int] | None = None
    for group in sorted({g for g in groups.tolist() if g is not None}):
        rows = (groups == group) & ~np.isnan(delta)
        n = int(rows.sum())
        if n and (mean := float(delta[rows].mean())) < 0 and (worst is None or mean < worst[1]):
            worst = (group, mean, n)
    return worst


def worst_tier(base: pa.Table, cand: pa.Table) -> tuple[str, float, int] | None:
    """The candidate's starting tier whose requests lost the most quality, paired request by request:
    (tier, mean quality delta, scored requests), or ``None`` when no tier's requests lost any.
    ``base`` and ``cand`` are the two runs' traces over the same requests, in the same order."""
    tiers = np.asarray(cand.column("initial_tier").to_numpy(zero_copy_only=False), dtype=object)
    found = _worst_group(_quality_delta(base, cand), tiers)
    return None if found is None else (str(found[0]), found[1], found[2])


def worst_rule(base: pa.Table, cand: pa.Table, rules: np.ndarray) -> tuple[int, float, int] | None:
    """Like :func:`worst_tier`, grouped by the candidate's rule that routed each request (``rules``:
    the plan's rule index per request, ``DEFAULT_RULE`` for the default tier), row-aligned with the traces."""
    found = _worst_group(_quality_delta(base, cand), np.asarray(rules, dtype=np.int64))
    return None if found is None else (int(found[0]), found[1], found[2])  # type: ignore[call-overload]


def _position(policy: str, text: str, path: tuple[str | int, ...]) -> tuple[int, int]:
    try:
        return parse_yaml(text, policy).position(path, key=isinstance(path[-1], str))
    except InputError:  # a file that was gated always parses; the file-level annotation otherwise
        return 0, 0


def tier_annotation(policy: str, text: str, tier: str, mean: float, n: int) -> str:
    """A warning at ``tiers.<tier>`` of the policy file (``text``): its requests' quality change."""
    line, col = _position(policy, text, ("tiers", tier))
    message = (
        f"routegate check: the {n:,} scored requests that start on tier {tier!r} lost "
        f"{-100 * mean:.2f} pt of quality on average (the most of any tier)"
    )
    return annotation("warning", policy, line, col, message)


def rule_annotation(policy: str, text: str, candidate: Policy, rule: int, mean: float, n: int) -> str:
    """A warning at the rule (or at ``default_tier``) whose requests lost the most quality."""
    if rule == DEFAULT_RULE:
        line, col = _position(policy, text, ("default_tier",))
        what = f"the default tier ({candidate.spec.default_tier!r}, no rule matched)"
    else:
        line, col = _position(policy, text, ("rules", rule))
        what = f"rule {candidate.spec.rules[rule].name!r}"
    message = (
        f"routegate check: the {n:,} scored requests routed by {what} lost "
        f"{-100 * mean:.2f} pt of quality on average (the most of any rule)"
    )
    return annotation("warning", policy, line, col, message)


LISTED_CONDITIONS = {"task_type": "task_type", "stakes": "stakes", "sla": "sla", "tags_any": "tags", "tags_all": "tags"}
"""Rule conditions that list request labels: condition -> the examples column whose values they name."""


def _known_values(suites: Sequence[Suite], column: str) -> set[str]:
    known: set[str] = set()
    for suite in suites:
        values = suite.column("examples", column)
        if column == "tags":
            values = pc.list_flatten(values)
        known |= {v for v in pc.unique(values).to_pylist() if v is not None}
    return known


def unmatched_values(candidate: Policy, suites: Sequence[Suite]) -> list[tuple[int, str, int, str, list[str]]]:
    """Each condition value of a rule that no request of ``suites`` carries: (rule index, condition,
    position in its list, value, closest known values). Such a rule can never fire on the gated suites,
    which is usually a typo (``coding`` for ``code``) and always worth a look."""
    known = {column: _known_values(suites, column) for column in set(LISTED_CONDITIONS.values())}
    out = []
    for i, rule in enumerate(candidate.spec.rules):
        for condition, column in LISTED_CONDITIONS.items():
            values: tuple[str, ...] | None = getattr(rule.when, condition)
            for j, value in enumerate(values or ()):
                if value not in known[column]:
                    out.append((i, condition, j, value, difflib.get_close_matches(value, sorted(known[column]), n=3)))
    return out


def unmatched_annotations(policy: str, text: str, candidate: Policy, suites: Sequence[Suite]) -> list[str]:
    """A warning at each condition value that matches no request in the gated suites (:func:`unmatched_values`)."""
    names = ", ".join(s.name for s in suites)
    lines = []
    for rule, condition, j, value, close in unmatched_values(candidate, suites):
        line, col = _position(policy, text, ("rules", rule, "when", condition, j))
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        message = (
            f"routegate check: rule {candidate.spec.rules[rule].name!r}: {condition} value {value!r} matches "
            f"no request in the gated suites ({names}){hint}"
        )
        lines.append(annotation("warning", policy, line, col, message))
    return lines
