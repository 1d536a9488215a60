"""Step 5 of the pipeline: aggregate traces overall, per suite, per tier and per slice.

Columns are pulled out of Arrow once as numpy arrays; each group is a set of
row indices (one stable argsort per grouping column), so the cost is a few
passes over the data whatever the number of groups.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.floats import float_values
from routegate.arrow.groups import Groups, slice_groups
from routegate.arrow.zeros import zeros
from routegate.stats.intervals import (
    DEFAULT_SEED,
    OrderStatistics,
    ci_ranks,
    mean_ci,
    percentile_ranks,
    percentiles_from,
)

Metrics = dict[str, Any]
T = TypeVar("T")
LATENCY_QS = (50, 95, 99)
"""Latency percentiles reported by a summary and compared by a gate."""
FLAG_NAMES = ("escalated", "fell_back", "error", "privacy_breach", "confidence_missing")
"""Boolean trace columns packed into the low bits of :meth:`Columns.states` (bit i: ``FLAG_NAMES[i]``)."""
_FLAGS = 1 << len(FLAG_NAMES)


def _flag_bit(name: str) -> int:
    return 1 << FLAG_NAMES.index(name)


def latency_ranks(n: int) -> set[int]:
    """Every latency order statistic anybody reads for a group of ``n``: a summary's percentiles and a
    comparison's order-statistic CIs, so that one partial sort serves both."""
    return percentile_ranks(n, LATENCY_QS) | ci_ranks(n, LATENCY_QS)


class Columns:
    """The numeric columns of one traces table, pulled out of Arrow once and shared by ``measure`` and
    ``compare_runs`` (a run keeps them in ``RunResult.columns``), with memoised per-tier codes and
    per-group latency order statistics (the partial sorts are most of the cost of both)."""

    def __init__(self, traces: pa.Table, final_tier: tuple[np.ndarray, tuple[str, ...]] | None = None) -> None:
        """``final_tier``: the ``final_tier`` column as (int codes, the names they index), when the caller
        has it (a run has the replay's codes); :meth:`tier` then remaps codes instead of matching strings."""

        def num(name: str) -> np.ndarray:
            column = traces.column(name)
            if column.null_count or column.type != pa.float64():
                return float_values(column)
            return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)  # no copy for one chunk

        self._traces = traces
        self._final_tier = final_tier
        self.n = traces.num_rows
        self.quality = num("quality")
        self.cost = num("cost_usd")
        self.latency = num("latency_ms")
        self.latency_finite = bool(np.isfinite(self.latency).all())
        # Packed in bytes (1 MB per pass at 1M rows), then int64 (np.intp here) once, so that
        # np.bincount over states derived from it needs no cast.
        packed = zeros(self.n, dtype=np.uint8)
        for bit, name in enumerate(FLAG_NAMES):
            flag = np.asarray(traces.column(name).to_numpy(zero_copy_only=False), dtype=bool)
            packed |= flag.view(np.uint8) << np.uint8(bit)
        self.flags = packed.astype(np.int64)
        self._flag: dict[str, np.ndarray] = {}
        self._tiers: dict[tuple[str, ...], np.ndarray] = {}
        self._states: dict[tuple[str, ...], np.ndarray] = {}
        self._groups: dict[tuple[Any, ...], tuple[np.ndarray | None, Any]] = {}
        self._lock = threading.Lock()

    def flag(self, name: str) -> np.ndarray:
        """Boolean column ``name`` (one of :data:`FLAG_NAMES`), memoised: a comparison reads ``error`` per group."""
        with self._lock:
            found = self._flag.get(name)
        if found is None:
            found = (self.flags & _flag_bit(name)) != 0
            with self._lock:
                self._flag[name] = found
        return found

    def tier(self, tiers: tuple[str, ...]) -> np.ndarray:
        """Per row, the index in ``tiers`` of ``final_tier`` (-1: none or not listed)."""
        with self._lock:
            if tiers not in self._tiers:
                if self._final_tier is not None:
                    codes, names = self._final_tier
                    position = np.array([tiers.index(t) if t in tiers else -1 for t in names], dtype=np.int64)
                    self._tiers[tiers] = position[codes]
                else:
                    idx = pc.index_in(self._traces.column("final_tier"), value_set=pa.array(list(tiers), pa.string()))
                    self._tiers[tiers] = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), np.int64)
            return self._tiers[tiers]

    def states(self, tiers: tuple[str, ...]) -> np.ndarray:
        """Per row, ``flags + 32 * (tier + 1)``: one small integer from which a single ``np.bincount`` per
        group yields every count a summary or comparison reports (flags, tier mix), instead of one
        fancy-indexing pass per column and group. Decode the counts with :func:`state_counts`."""
        with self._lock:
            found = self._states.get(tiers)
        if found is None:
            found = self.flags + _FLAGS * (self.tier(tiers) + 1)
            with self._lock:
                self._states[tiers] = found
        return found

    def latency_order(self, rows: np.ndarray | slice, *, share: bool) -> OrderStatistics:
        """Latency order statistics of a group (:func:`latency_ranks`), one partial sort per group
        (memoised as :meth:`_per_group` says)."""

        def compute(whole: bool) -> OrderStatistics:
            return OrderStatistics.of(self.latency if whole else self.latency[rows], latency_ranks)

        return self._per_group(("latency",), rows, compute, share=share)

    def counts(self, rows: np.ndarray | slice, tiers: tuple[str, ...], *, share: bool) -> np.ndarray:
        """:func:`state_counts` of a group by ``tiers`` (read-only; memoised as :meth:`_per_group` says):
        a gate's comparison reads the very counts both summaries took."""

        def compute(whole: bool) -> np.ndarray:
            counts = state_counts(self.states(tiers) if whole else self.states(tiers)[rows], len(tiers))
            counts.setflags(write=False)
            return counts

        return self._per_group(("counts", tiers), rows, compute, share=share)

    def _per_group(
        self, what: tuple[Hashable, ...], rows: np.ndarray | slice, compute: Callable[[bool], T], *, share: bool
    ) -> T:
        """``compute(whole)`` for a group, memoised under ``what`` and the group.

        ``share``: memoise under the group's row-index array (``rows`` is kept alive with the result, so
        its id cannot be reused); the groups of a gate's ``Groups`` are the same objects in both
        summaries and in the comparison. A group of every row (``whole``: its values in any order) is
        memoised once, whatever its key.
        """
        whole = isinstance(rows, slice) or rows.size == self.n
        key = (*what, -1 if whole else id(rows))
        with self._lock:
            found = self._groups.get(key)
        if found is not None:
            return cast(T, found[1])
        result = compute(whole)
        if share or whole:
            with self._lock:
                self._groups[key] = (rows if isinstance(rows, np.ndarray) else None, result)
        return result


def state_counts(states: np.ndarray, n_tiers: int) -> np.ndarray:
    """``counts[tier + 1, flags]`` of a group's :meth:`Columns.states` (row 0: no tier)."""
    return np.bincount(states, minlength=_FLAGS * (n_tiers + 1)).reshape(n_tiers + 1, _FLAGS)


def flag_count(counts: np.ndarray, name: str) -> int:
    """Rows of a :func:`state_counts` table with flag ``name`` set."""
    with_flag = (np.arange(_FLAGS) & _flag_bit(name)) != 0
    return int(counts[:, with_flag].sum())


def answered_by_tier(counts: np.ndarray) -> np.ndarray:
    """Per tier, the rows of a :func:`state_counts` table it answered (not failed)."""
    ok = (np.arange(_FLAGS) & _flag_bit("error")) == 0
    answered: np.ndarray = counts[1:, ok].sum(axis=1)
    return answered


def _metrics(c: Columns, rows: np.ndarray | slice, tiers: tuple[str, ...], seed: int, *, share: bool) -> Metrics:
    quality = mean_ci(c.quality[rows], seed=seed)
    counts = c.counts(rows, tiers, share=share)
    n = int(counts.sum())
    cost = float(c.cost[rows].sum())
    answered = answered_by_tier(counts)

    def rate(name: str) -> float:
        return float(flag_count(counts, name) / n) if n else 0.0

    return {
        "n": n,
        "quality": {
            "mean": quality.estimate,
            "ci95": [quality.low, quality.high],
            "ci_method": quality.method,
            "n_scored": quality.n,
        },
        "cost_usd": cost,
        "cost_per_1k_usd": cost / n * 1000 if n else float("nan"),
        "latency_ms": percentiles_from(c.latency_order(rows, share=share), LATENCY_QS),
        "tier_mix": {t: float(answered[i] / n) if n else 0.0 for i, t in enumerate(tiers)},
        "escalation_rate": rate("escalated"),
        "fallback_rate": rate("fell_back"),
        "error_rate": rate("error"),
        "privacy_breaches": flag_count(counts, "privacy_breach"),
        "privacy_breach_rate": rate("privacy_breach"),
        "confidence_missing": flag_count(counts, "confidence_missing"),
    }


def measure(
    traces: pa.Table,
    tiers: tuple[str, ...],
    slices: list[str],
    *,
    seed: int = DEFAULT_SEED,
    groups: Groups | None = None,
    cols: Columns | None = None,
) -> Metrics:
    """Overall, per-suite, per-tier (the tier that answered) and per-slice metrics (``cols``: the
    traces' columns when the caller keeps them for a comparison)."""
    groups = groups if groups is not None else slice_groups(traces, slices)
    c = cols if cols is not None else Columns(traces)
    tier = c.tier(tiers)
    overall = _metrics(c, slice(None), tiers, seed, share=True)

    def block(rows: np.ndarray, *, share: bool) -> Metrics:
        return copy.deepcopy(overall) if every_row(rows, c.n) else _metrics(c, rows, tiers, seed, share=share)

    out: Metrics = {"overall": overall}
    out["by_suite"] = {k: block(rows, share=True) for k, rows in groups["suite"].items()}
    out["by_tier"] = {
        t: block(rows, share=False) for i, t in enumerate(tiers) if (rows := np.flatnonzero(tier == i)).size
    }
    out["by_slice"] = {
        name: {k: block(rows, share=True) for k, rows in groups[name].items()}
        for name in slices
        if name in groups and name != "suite"
    }
    return out


def every_row(rows: np.ndarray, n: int) -> bool:
    """Whether a group's rows (sorted, distinct: ``group_rows``, ``np.flatnonzero``) are all ``n`` rows,
    as the one suite of a single-suite run is: its numbers are then the overall ones, computed once."""
    return rows.size == n
