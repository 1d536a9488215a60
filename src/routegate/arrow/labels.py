"""Label columns: low-cardinality text columns (task type, stakes, SLA class, model, error kind)
kept dictionary-encoded from the parquet file onwards.

A loaded suite holds each of them as ``dictionary<int32, string>`` chunks (:func:`as_labels`), so
that every check, rule, join key and grouping works on the small integer codes instead of on one
string per row. Parquet stores these columns dictionary-encoded already: reading them as
dictionaries skips building 1M (or 4M) strings that would only be hashed back into codes
(docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LABEL = pa.dictionary(pa.int32(), pa.string())
"""The in-memory type of a label column."""


def as_labels(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """``column`` (strings, or a dictionary of strings) as chunks of :data:`LABEL`.

    A parquet reader gives one dictionary per row group; they are kept as they are (no string is
    decoded, no code copied): :func:`label_codes` and :func:`label_map` read each chunk through its
    own dictionary. A column of plain strings (or of values cast to strings) is encoded.
    """
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    if pa.types.is_dictionary(column.type) and pa.types.is_string(column.type.value_type):
        return column if column.type == LABEL else column.cast(LABEL)
    return pa.chunked_array([pc.dictionary_encode(chunk) for chunk in column.cast(pa.string()).chunks], LABEL)


def _codes(labels: pa.DictionaryArray) -> np.ndarray:
    indices = labels.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int32)


def _through_dictionaries(
    column: pa.ChunkedArray | pa.Array, lookup: Callable[[list[str]], list[Any]], default: Any, dtype: Any
) -> np.ndarray:
    """Per row, ``lookup(values of its chunk's dictionary)[code]`` (null: ``default``), as ``dtype``: one
    lookup table per chunk's few values, then one gather by code (a plain column is encoded first)."""
    out = np.empty(len(column), dtype=dtype)
    start = 0
    for chunk in as_labels(column).chunks:
        table = np.array([*lookup(chunk.dictionary.to_pylist()), default], dtype=dtype)
        out[start : start + len(chunk)] = table[_codes(chunk)]  # code -1 (null) picks the trailing default
        start += len(chunk)
    return out


def label_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[str]]:
    """(int32 code per row, -1 where null; the distinct values the codes index, in order of first
    appearance in the chunks' dictionaries)."""
    values: dict[str, int] = {}
    codes = _through_dictionaries(
        column, lambda names: [values.setdefault(n, len(values)) for n in names], -1, np.int32
    )
    return codes, list(values)


def label_in(column: pa.ChunkedArray | pa.Array, values: Collection[str]) -> np.ndarray:
    """Per row, whether the value is one of ``values`` (null: no): each chunk's dictionary is looked up
    once and the answer gathered by code."""
    return label_map(column, dict.fromkeys(values, True), False, dtype=bool)


def label_map(
    column: pa.ChunkedArray | pa.Array, table: Mapping[str, Any], default: Any, *, dtype: type | np.dtype
) -> np.ndarray:
    """Per row, ``table.get(value, default)`` (null: ``default``), as a numpy array of ``dtype``."""
    return _through_dictionaries(column, lambda names: [table.get(n, default) for n in names], default, dtype)


def decoded(table: pa.Table) -> pa.Table:
    """``table`` with every dictionary column (and list of dictionary) decoded to its value type: the
    plain types a file holds (traces.parquet, a suite's tables)."""
    for i, field in enumerate(table.schema):
        kind = field.type
        if pa.types.is_dictionary(kind):
            table = table.set_column(i, field.name, table.column(i).cast(kind.value_type))
        elif pa.types.is_list(kind) and pa.types.is_dictionary(kind.value_type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.list_(kind.value_type.value_type)))
    return table
