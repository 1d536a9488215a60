"""Step 2 of the pipeline: the initial tier of every request, by vectorised rules.

Rules are evaluated in order over whole columns; a request takes the tier of
the first rule it matches, else the policy's default tier. No per-request
Python: each condition is one Arrow/numpy expression over the column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.labels import label_in
from routegate.arrow.memo import Memo, MemoKind, shared_array
from routegate.arrow.strbytes import bytes_at, low_bytes, string_words
from routegate.arrow.zeros import zeros
from routegate.engine.detection import detected_kinds, effective_pii
from routegate.load.policy import Condition, PolicySpec

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

    SipHash-2-4 of the id's UTF-8 bytes keyed by the seed, then pandas' 64-bit mix: exactly
    pandas' ``hash_array(ids, hash_key=key, categorize=False)``, computed here over the Arrow
    buffers (no 1M Python strings, no pandas import); the top 53 bits become the fraction.
    Stable across runs and machines. ``tests/test_plan.py`` checks it against pandas.
    """
    key = f"routegate{seed:07d}"[-16:].rjust(16, "0")
    array = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    if array.null_count:  # never for a loaded suite (ids are required); pandas hashes nulls its own way
        import pandas as pd

        values = np.asarray(array.to_numpy(zero_copy_only=False), dtype=object)
        hashed = pd.util.hash_array(values, hash_key=key, categorize=False)
    else:
        hashed = _pandas_mix(_siphash24(array, key.encode()))
    return (hashed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


_SIP_INIT = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)
_SIP_CHUNK = 1 << 15
"""Strings hashed together: the state arrays of one chunk stay in the CPU's 1 MiB L2 cache (~10%
faster than 64Ki at 1M ids)."""


def _siphash24(strings: pa.Array, key: bytes) -> np.ndarray:
    """SipHash-2-4 (Aumasson and Bernstein) of each string's UTF-8 bytes, vectorised over strings."""
    words, start, length = string_words(strings)
    k0, k1 = (int(k) for k in np.frombuffer(key, dtype="<u8"))
    out = np.empty(len(strings), dtype=np.uint64)
    for lo in range(0, len(strings), _SIP_CHUNK):
        part = slice(lo, lo + _SIP_CHUNK)
        out[part] = _siphash_chunk(words, start[part], length[part], k0, k1)
    return out


def _siphash_chunk(words: np.ndarray, start: np.ndarray, length: np.ndarray, k0: int, k1: int) -> np.ndarray:
    n = start.size
    v = [np.full(n, np.uint64(k ^ c)) for k, c in zip((k0, k1, k0, k1), _SIP_INIT, strict=True)]
    full = length >> 3
    for block in range(int(full.max()) if n else 0):
        rows = np.flatnonzero(full > block)
        m = bytes_at(words, start[rows] + 8 * block)
        state = [x[rows] for x in v]
        state[3] ^= m
        _sip_rounds(state, 2)
        state[0] ^= m
        for x, y in zip(v, state, strict=True):
            x[rows] = y
    m = low_bytes(bytes_at(words, start + 8 * full), length & 7)
    m |= (length.astype(np.uint64) & np.uint64(0xFF)) << np.uint64(56)
    v[3] ^= m
    _sip_rounds(v, 2)
    v[0] ^= m
    v[2] ^= np.uint64(0xFF)
    _sip_rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def _rotl(x: np.ndarray, bits: int, tmp: np.ndarray) -> None:
    """``x`` rotated left by ``bits``, in place."""
    np.right_shift(x, np.uint64(64 - bits), out=tmp)
    np.left_shift(x, np.uint64(bits), out=x)
    np.bitwise_or(x, tmp, out=x)


def _sip_rounds(v: list[np.ndarray], count: int) -> None:
    """``count`` SipRounds on the state (v0, v1, v2, v3), in place (uint64 additions wrap, as specified)."""
    v0, v1, v2, v3 = v
    tmp = np.empty_like(v0)
    for _ in range(count):
        v0 += v1
        _rotl(v1, 13, tmp)
        v1 ^= v0
        _rotl(v0, 32, tmp)
        v2 += v3
        _rotl(v3, 16, tmp)
        v3 ^= v2
        v0 += v3
        _rotl(v3, 21, tmp)
        v3 ^= v0
        v2 += v1
        _rotl(v1, 17, tmp)
        v1 ^= v2
        _rotl(v2, 32, tmp)


def _pandas_mix(hashed: np.ndarray) -> np.ndarray:
    """The final mixing step of pandas' ``hash_array`` (a splitmix64 finaliser), in place."""
    hashed ^= hashed >> np.uint64(30)
    hashed *= np.uint64(0xBF58476D1CE4E5B9)
    hashed ^= hashed >> np.uint64(27)
    hashed *= np.uint64(0x94D049BB133111EB)
    hashed ^= hashed >> np.uint64(31)
    return hashed


TRAFFIC_DRAW: MemoKind[np.ndarray] = MemoKind("plan.traffic_draw")
"""``suite_traffic_draw``: a suite's traffic draw (read-only); parts: the seed."""


def suite_traffic_draw(ids: pa.ChunkedArray | pa.Array, seed: int, memo: Memo | None) -> np.ndarray:
    """``traffic_draw`` of a suite's ids, computed once per (suite, seed) when given the suite's ``memo``.

    ``memo`` must be the memo of the suite whose ``id`` column ``ids`` is (``Suite.memo``); the
    result is read-only because every later run over that suite shares it.
    """
    return shared_array(memo, TRAFFIC_DRAW.key(seed), lambda: traffic_draw(ids, seed))


def _has_tag(tags: pa.ChunkedArray, tag: str) -> np.ndarray:
    flat = pc.list_flatten(tags)
    parents = pc.list_parent_indices(tags).to_numpy(zero_copy_only=False)
    match = np.asarray(pc.equal(flat, tag).to_numpy(zero_copy_only=False), dtype=bool)
    out = zeros(len(tags), dtype=bool)
    out[parents[match]] = True
    return out


def _has_any(lists: pa.ListArray | pa.ChunkedArray, values: tuple[str, ...]) -> np.ndarray:
    """Per row: the list holds at least one of ``values``."""
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    out = zeros(len(lists), dtype=bool)
    out[parents[np.asarray(pc.is_in(flat, pa.array(list(values), pa.string())).to_numpy(zero_copy_only=False))]] = True
    return out


def match_condition(examples: pa.Table, when: Condition, memo: Memo | None = None) -> np.ndarray:
    """Boolean mask of the requests that satisfy every given condition (``memo``: see ``plan_tiers``)."""
    n = examples.num_rows
    mask = np.ones(n, dtype=bool)
    if when.task_type is not None:
        mask &= label_in(examples.column("task_type"), when.task_type)
    if when.stakes is not None:
        mask &= label_in(examples.column("stakes"), when.stakes)
    if when.sla is not None:
        mask &= label_in(examples.column("sla"), when.sla)
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
        anyhit = zeros(n, dtype=bool)
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


PLAN: MemoKind[Plan] = MemoKind("plan.plan")
"""``plan_tiers``: a plan (read-only arrays); parts: the JSON of the tiers, default tier and rules."""


def plan_tiers(examples: pa.Table, spec: PolicySpec, *, memo: Memo | None = None) -> Plan:
    """Initial tier per request: the first matching rule's tier, else the default tier.

    ``memo``: the memo of the suite ``examples`` belongs to (``Suite.memo``), so that every policy
    planned over that suite shares its traffic draws (a gate's two runs hash the ids once), and
    policies whose tiers, rules and default tier are the same (a change to escalation thresholds,
    chains or prices) share one plan (its arrays are then read-only).
    """
    if memo is None:
        return _plan(examples, spec, None)
    decides = [list(spec.tiers), spec.default_tier, [(r.when.model_dump(mode="json"), r.tier) for r in spec.rules]]
    key = PLAN.key(json.dumps(decides, sort_keys=True))
    return memo.get_or_compute(key, lambda: _frozen(_plan(examples, spec, memo)))


def _frozen(plan: Plan) -> Plan:
    plan.tier.flags.writeable = False
    plan.rule.flags.writeable = False
    return plan


def _plan(examples: pa.Table, spec: PolicySpec, memo: Memo | None) -> Plan:
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
