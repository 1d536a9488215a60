"""GitHub annotations for ``routegate check``: messages on the policy file's own lines in the diff.

GitHub reads workflow commands from a step's output (``::warning file=F,line=L,col=C::message``);
``routegate check`` prints these when it runs in GitHub Actions (``GITHUB_ACTIONS=true``):
- a warning at each validation warning of a gated policy (e.g. a shadowed rule), at its line;
- an error on a policy whose gates failed, at the line of its ``name:``, listing the failed gates;
- on a policy whose gates failed, a warning at the tier whose requests lost the most quality
  (paired, grouped by the tier the candidate started them on), at that tier's line.
Values are escaped as GitHub's toolkit escapes them, so a message cannot end the command early.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from routegate.errors import InputError, Problem
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


def worst_tier(base: pa.Table, cand: pa.Table) -> tuple[str, float, int] | None:
    """The candidate's starting tier whose requests lost the most quality, paired request by request:
    (tier, mean quality delta, scored requests), or ``None`` when no tier's requests lost any.
    ``base`` and ``cand`` are the two runs' traces over the same requests, in the same order."""
    delta = np.asarray(cand.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64) - np.asarray(
        base.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64
    )
    tiers = np.asarray(cand.column("initial_tier").to_numpy(zero_copy_only=False), dtype=object)
    worst: tuple[str, float, int] | None = None
    for tier in sorted({t for t in tiers.tolist() if t is not None}):
        rows = (tiers == tier) & ~np.isnan(delta)
        n = int(rows.sum())
        if n and (mean := float(delta[rows].mean())) < 0 and (worst is None or mean < worst[1]):
            worst = (tier, mean, n)
    return worst


def tier_annotation(policy: str, text: str, tier: str, mean: float, n: int) -> str:
    """A warning at ``tiers.<tier>`` of the policy file (``text``): its requests' quality change."""
    try:
        line, col = parse_yaml(text, policy).position(("tiers", tier), key=True)
    except InputError:
        line = col = 0
    message = (
        f"routegate check: the {n:,} scored requests that start on tier {tier!r} lost "
        f"{-100 * mean:.2f} pt of quality on average (the most of any tier)"
    )
    return annotation("warning", policy, line, col, message)
