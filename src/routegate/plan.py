"""Step 2 of the pipeline: the initial tier of every request, by vectorised rules.

Rules are evaluated in order over whole columns; a request takes the tier of
the first rule it matches, else the policy's default tier. No per-request
Python: each condition is one Arrow/numpy expression over the column.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.pii import detected_kinds, effective_pii
from routegate.policy import Condition, PolicySpec

DEFAULT_RULE = -1
"""Rule index recorded for requests that matched no rule (they take the default tier)."""


@dataclass(frozen=True)
class Plan:
    """The initial decision for each request."""

    tiers: tuple[str, ...]
    """Tier names; ``tier`` indexes into this."""
    tier: np.ndarray
    """int16 per request: index into ``tiers``."""
    rule: np.ndarray
    """int16 per request: index of the matching rule, or ``DEFAULT_RULE``."""


def traffic_draw(ids: pa.ChunkedArray | pa.Array, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per request id, a pure function of (seed, id).

    SipHash-2-4 (pandas' ``hash_array``) keyed by the seed; the top 53 bits of
    the 64-bit hash become the fraction. Stable across runs and machines.
    """
    import pandas as pd  # ~0.15 s to import: paid only by runs whose policies split traffic

    values = np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)
    key = f"routegate{seed:07d}"[-16:].rjust(16, "0")
    hashed = pd.util.hash_array(values, hash_key=key, categorize=False)
    return (hashed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


_DRAW_LOCK = threading.Lock()
"""Serialises memoised draws: two runs planned in parallel threads compute a suite's draw once."""


def suite_traffic_draw(ids: pa.ChunkedArray | pa.Array, seed: int, memo: dict[str, Any] | None) -> np.ndarray:
    """``traffic_draw`` of a suite's ids, computed once per (suite, seed) when given the suite's ``memo``.

    ``memo`` must be the memo of the suite whose ``id`` column ``ids`` is (``Suite.memo``); the
    result is read-only because every later run over that suite shares it.
    """
    if memo is None:
        return traffic_draw(ids, seed)
    key = f"traffic_draw:{seed}"
    with _DRAW_LOCK:
        draw: np.ndarray | None = memo.get(key)
        if draw is None:
            draw = traffic_draw(ids, seed)
            draw.flags.writeable = False
            memo[key] = draw
    return draw


def _in(column: pa.ChunkedArray, allowed: tuple[str, ...]) -> np.ndarray:
    return np.asarray(pc.is_in(column, pa.array(list(allowed), pa.string())).to_numpy(zero_copy_only=False), dtype=bool)


def _has_tag(tags: pa.ChunkedArray, tag: str) -> np.ndarray:
    flat = pc.list_flatten(tags)
    parents = pc.list_parent_indices(tags).to_numpy(zero_copy_only=False)
    match = np.asarray(pc.equal(flat, tag).to_numpy(zero_copy_only=False), dtype=bool)
    out = np.zeros(len(tags), dtype=bool)
    out[parents[match]] = True
    return out


def _has_any(lists: pa.ListArray | pa.ChunkedArray, values: tuple[str, ...]) -> np.ndarray:
    """Per row: the list holds at least one of ``values``."""
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    out = np.zeros(len(lists), dtype=bool)
    out[parents[np.asarray(pc.is_in(flat, pa.array(list(values), pa.string())).to_numpy(zero_copy_only=False))]] = True
    return out


def match_condition(examples: pa.Table, when: Condition, memo: dict[str, Any] | None = None) -> np.ndarray:
    """Boolean mask of the requests that satisfy every given condition (``memo``: see ``plan_tiers``)."""
    n = examples.num_rows
    mask = np.ones(n, dtype=bool)
    if when.task_type is not None:
        mask &= _in(examples.column("task_type"), when.task_type)
    if when.stakes is not None:
        mask &= _in(examples.column("stakes"), when.stakes)
    if when.sla is not None:
        mask &= _in(examples.column("sla"), when.sla)
    if when.pii is not None:
        pii = effective_pii(examples)  # the label where set, else detected
        mask &= pii if when.pii else ~pii
    if when.pii_kinds_any is not None:
        mask &= _has_any(detected_kinds(examples), when.pii_kinds_any)
    if when.input_tokens_min is not None or when.input_tokens_max is not None:
        tokens = examples.column("input_tokens").to_numpy(zero_copy_only=False)
        if when.input_tokens_min is not None:
            mask &= tokens >= when.input_tokens_min
        if when.input_tokens_max is not None:
            mask &= tokens <= when.input_tokens_max
    if when.tags_any is not None:
        tags = examples.column("tags")
        anyhit = np.zeros(n, dtype=bool)
        for tag in when.tags_any:
            anyhit |= _has_tag(tags, tag)
        mask &= anyhit
    if when.tags_all is not None:
        tags = examples.column("tags")
        for tag in when.tags_all:
            mask &= _has_tag(tags, tag)
    if when.traffic is not None:
        mask &= suite_traffic_draw(examples.column("id"), when.traffic.seed, memo) < when.traffic.share
    return mask


def plan_tiers(examples: pa.Table, spec: PolicySpec, *, memo: dict[str, Any] | None = None) -> Plan:
    """Initial tier per request: the first matching rule's tier, else the default tier.

    ``memo``: the memo of the suite ``examples`` belongs to (``Suite.memo``), so that every policy
    planned over that suite shares its traffic draws (a gate's two runs hash the ids once).
    """
    tiers = tuple(spec.tiers)
    index = {name: i for i, name in enumerate(tiers)}
    n = examples.num_rows
    tier = np.full(n, index[spec.default_tier], dtype=np.int16)
    rule = np.full(n, DEFAULT_RULE, dtype=np.int16)
    undecided = np.ones(n, dtype=bool)
    for i, r in enumerate(spec.rules):
        if not undecided.any():
            break
        hit = undecided & match_condition(examples, r.when, memo)
        tier[hit] = index[r.tier]
        rule[hit] = i
        undecided &= ~hit
    return Plan(tiers=tiers, tier=tier, rule=rule)
