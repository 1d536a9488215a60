"""Row indices per value of a column: the groups that slices, suites and the comparison share.

``group_rows`` is the one place a column's values become group keys (``true``/``false`` for
booleans, ``NO_VALUE`` for nulls, the text otherwise); the loader computes each suite's groups
once (``Suite.slice_rows``) and a run over several suites concatenates them (``concat_groups``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.labels import label_codes

NO_VALUE = "(none)"
"""Group key of requests with no value in a slice column (e.g. from a suite that lacks the column)."""


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return NO_VALUE
    return str(value)


def group_rows(column: pa.ChunkedArray | pa.Array) -> dict[str, np.ndarray]:
    """Row indices of each distinct value of ``column``, keyed by its text, in key order."""
    if pa.types.is_dictionary(column.type) and pa.types.is_string(column.type.value_type):
        codes, values = label_codes(column)  # a label column: its codes as they are
    else:
        encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
        codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        values = encoded.dictionary.to_pylist()
    labels = [_key(v) for v in values]
    # A stable sort of small codes is numpy's radix sort (~4x faster than on int64); same order.
    small = codes.astype(np.int16) if len(labels) < np.iinfo(np.int16).max else codes
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(small[order], np.arange(-1, len(labels) + 1))
    groups: dict[str, np.ndarray] = {}
    if bounds[1] > bounds[0]:
        groups[NO_VALUE] = order[bounds[0] : bounds[1]]
    for code, label in enumerate(labels):
        rows = order[bounds[code + 1] : bounds[code + 2]]
        if rows.size:
            groups[label] = rows
    return dict(sorted(groups.items()))


Groups = dict[str, dict[str, np.ndarray]]
"""Column name -> group key -> row indices: ``"suite"`` and every slice column."""


def column_groups(table: pa.Table, columns: Sequence[str]) -> Groups:
    """:func:`group_rows` of each of ``columns`` that ``table`` has (one suite's examples: see
    ``Suite.slice_rows``)."""
    return {name: group_rows(table.column(name)) for name in columns if name in table.column_names}


def concat_groups(parts: Sequence[tuple[str, int, Groups]], slices: list[str]) -> Groups:
    """What :func:`slice_groups` finds in the traces of a run over several suites, from each suite's
    own groups: ``parts`` holds (suite name, rows, :func:`column_groups` of its examples) in run order.

    The traces are the suites' rows one after the other, so a group is the suites' rows of that value,
    each shifted by the suite's offset, in order (ascending, as :func:`group_rows` gives them); a suite
    without the column puts all its rows under ``NO_VALUE``.
    """
    starts = np.cumsum([0, *(n for _, n, _ in parts)])
    names = ["suite", *[s for s in slices if s != "suite" and any(s in own for _, _, own in parts)]]
    out: Groups = {}
    for name in names:
        pieces: dict[str, list[np.ndarray]] = {}
        for (suite, n, own), start in zip(parts, starts[:-1].tolist(), strict=True):
            found = {suite: None} if name == "suite" else own.get(name, {NO_VALUE: None})
            for key, rows in found.items():
                if rows is None:
                    rows = np.arange(start, start + n)
                elif start:
                    rows = rows + start
                pieces.setdefault(key, []).append(rows)
        out[name] = {key: rows[0] if len(rows) == 1 else np.concatenate(rows) for key, rows in sorted(pieces.items())}
    return out


def slice_groups(traces: pa.Table, slices: list[str]) -> Groups:
    """Row indices per suite and per slice value. They depend only on the suites' requests, so a
    gate computes them once and shares them between both runs and the comparison."""
    names = ["suite", *[s for s in slices if s in traces.column_names and s != "suite"]]
    return {name: group_rows(traces.column(name)) for name in names}
