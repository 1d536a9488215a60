"""The examples and recordings tables on disk: their columns, how they are read, and the deferred text columns.

Tables are read with pyarrow (parquet, or JSON Lines for hand-written suites) and stay Arrow
tables. A parquet file is held in memory as its bytes (``TableFile``), so that a bulky text
column left out of the first read can be read later from the very bytes that were hashed.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from routegate.arrow.take import take_rows
from routegate.errors import InputError

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
EXAMPLE_COLUMNS: dict[str, pa.DataType] = {
    "id": pa.string(),
    "messages": pa.list_(MESSAGE),
    "task_type": pa.string(),
    "pii": pa.bool_(),
    "stakes": pa.string(),
    "sla": pa.string(),
}
EXAMPLE_OPTIONAL: dict[str, pa.DataType] = {
    "tags": pa.list_(pa.string()),
    "reference": pa.string(),
    "input_tokens": pa.int64(),
    "arrival_ms": pa.float64(),
}
RECORDING_COLUMNS: dict[str, pa.DataType] = {
    "example_id": pa.string(),
    "model": pa.string(),
    "response": pa.string(),
    "input_tokens": pa.int64(),
    "output_tokens": pa.int64(),
    "latency_ms": pa.float64(),
    "error": pa.string(),
}
RECORDING_OPTIONAL: dict[str, pa.DataType] = {
    "confidence": pa.float64(),
    "quality": pa.float64(),
    "ttft_ms": pa.float64(),
    "finish_reason": pa.string(),
}
LABEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "examples": ("task_type", "stakes", "sla"),
    "recordings": ("model", "error", "finish_reason"),
}
"""Text columns of few distinct values, held as label columns (``routegate.arrow.labels``): read from
parquet as dictionaries, encoded when the file holds plain strings; their documented type stays string."""


@dataclass(frozen=True)
class TableFile:
    """A parquet table held in memory as its file's bytes, so a column left out of the first read
    (a bulky text column few steps need) can be read later from the very bytes that were hashed
    and validated, in whole or for a few rows (only the row groups holding them are decoded)."""

    display: str
    data: bytes = field(repr=False)
    parquet: pq.ParquetFile = field(repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """One reader at a time: a gate's two replays may both read texts, and a pyarrow reader keeps state."""

    @classmethod
    def open(cls, path: Path, display: str, labels: Collection[str] = ()) -> TableFile:
        """The file at ``path``; its string columns named in ``labels`` are read as dictionaries."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError.single(display, "file not found") from None
        except OSError as exc:
            raise InputError.single(display, f"cannot read table: {exc}") from None
        try:
            meta = pq.read_metadata(pa.BufferReader(data))
            schema = meta.schema.to_arrow_schema()
            dictionary = [n for n in labels if n in schema.names and pa.types.is_string(schema.field(n).type)]
            parquet = pq.ParquetFile(pa.BufferReader(data), metadata=meta, read_dictionary=dictionary or None)
            return cls(display, data, parquet)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError.single(display, f"cannot read table: {exc}") from None

    def read(self, skip: Collection[str] = ()) -> pa.Table:
        names = [n for n in self.parquet.schema_arrow.names if n not in skip]
        try:
            return self.parquet.read(columns=names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError.single(self.display, f"cannot read table: {exc}") from None

    def column(self, name: str, kind: pa.DataType) -> pa.ChunkedArray:
        with self.lock:
            return self.parquet.read(columns=[name]).column(name).cast(kind)

    def take(self, name: str, kind: pa.DataType, rows: np.ndarray) -> pa.Array:
        """``column[rows]``, decoding only the row groups that hold ``rows``, each only up to the
        last row wanted from it (batch by batch): a report's ten listed prompts decode a few
        thousand rows, not the file."""
        with self.lock:
            return self._take(name, kind, rows)

    def _take(self, name: str, kind: pa.DataType, rows: np.ndarray) -> pa.Array:
        meta = self.parquet.metadata
        starts = np.zeros(meta.num_row_groups + 1, dtype=np.int64)
        np.cumsum([meta.row_group(i).num_rows for i in range(meta.num_row_groups)], out=starts[1:])
        group_of = np.searchsorted(starts, rows, side="right") - 1
        pieces: list[pa.Array] = []
        base: dict[int, int] = {}  # row group -> position of its first decoded row among the pieces
        decoded = 0
        for group in np.unique(group_of).tolist():
            base[group] = decoded
            last = int((rows[group_of == group] - starts[group]).max())
            seen = 0
            batches = self.parquet.iter_batches(
                batch_size=TAKE_BATCH_ROWS, row_groups=[group], columns=[name], use_threads=False
            )
            for batch in batches:
                pieces.append(batch.column(0))
                seen += batch.num_rows
                if seen > last:
                    break
            decoded += seen
        positions = np.array([base[g] for g in group_of.tolist()], dtype=np.int64) + rows - starts[group_of]
        whole = (
            pa.chunked_array(pieces, pieces[0].type)
            if pieces
            else pa.chunked_array([], self.parquet.schema_arrow.field(name).type)
        )
        return take_rows(whole, positions).cast(kind)

    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


DEFERRED: dict[str, tuple[str, pa.DataType]] = {
    "messages": ("examples", pa.list_(MESSAGE)),
    "response": ("recordings", pa.string()),
}
"""Text columns read on demand (column -> its table, its type): a replay over recorded answers
needs neither the prompts nor the answer texts unless a scorer reads them, PII detection has
to run, or a report lists them; at 1M requests they are ~60% of the suite's bytes."""
TAKE_BATCH_ROWS = 4096
"""Rows decoded at a time by ``TableFile.take``, which stops after the last row it needs."""
TAKE_WHOLE = 8
"""``Suite.take`` of more than 1/``TAKE_WHOLE`` of a deferred column reads the whole column (kept)."""


def estimate_tokens(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Token estimate of texts: ceil(characters / 4), the documented rule of thumb."""
    lengths = pc.fill_null(pc.utf8_length(texts), 0).to_numpy(zero_copy_only=False)
    return pa.array(np.ceil(lengths / 4).astype(np.int64))


def message_text(messages: pa.ChunkedArray | pa.Array) -> pa.Array:
    """All message contents of each request joined by newlines (for size estimates and scanning)."""
    arr = messages.combine_chunks() if isinstance(messages, pa.ChunkedArray) else messages
    flat = pc.fill_null(pc.struct_field(arr.flatten(), "content"), "")
    offsets = arr.offsets
    joined = pa.ListArray.from_arrays(offsets, flat)
    return pc.binary_join(joined, "\n")


def never_empty(meta: pq.FileMetaData, name: str) -> bool:
    """Whether parquet statistics prove that list column ``name`` has no null or empty list.

    A leaf's null count counts every level that is not a value, including a null or empty list
    above it: 0 for every leaf in every row group proves every row holds at least one element.
    """
    leaves = [j for j in range(meta.num_columns) if meta.schema.column(j).path.startswith(name + ".")]
    if not leaves:
        return False
    for group in range(meta.num_row_groups):
        for j in leaves:
            stats = meta.row_group(group).column(j).statistics
            if stats is None or not stats.has_null_count or stats.null_count != 0:
                return False
    return True


def deferrable(file: TableFile, table: Literal["examples", "recordings"]) -> set[str]:
    """The ``DEFERRED`` columns of ``table`` that loading can leave out without skipping a check.

    Their type must already be the documented one (else the eager path reports or casts it). The
    one row check on ``messages`` (no request without messages) must be proven by the file's
    statistics, and ``input_tokens`` must be present (else it is estimated from the messages).
    """
    schema = file.parquet.schema_arrow
    out = set()
    for name, (owner, kind) in DEFERRED.items():
        if owner != table or name not in schema.names or schema.field(name).type != kind:
            continue
        if name == "messages" and ("input_tokens" not in schema.names or not never_empty(file.parquet.metadata, name)):
            continue
        out.add(name)
    return out


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class TableRead:
    """One table as read from its file, before any check."""

    table: pa.Table
    """The table, without the ``DEFERRED`` columns the read could leave out."""
    file: TableFile | None
    """The parquet file the deferred columns are read from later; ``None`` for JSON Lines."""
    columns: list[str]
    """The file's columns, in order (positions in problems)."""
    sha256: str
    """sha256 of the file's bytes."""

    @property
    def deferred(self) -> dict[str, TableFile]:
        """Columns of the file left out of ``table``, each with the file it is read from on demand."""
        return {name: self.file for name in self.columns if self.file and name not in self.table.column_names}


def read_table(path: Path, display: str, table: Literal["examples", "recordings"], defer: bool) -> TableRead:
    """Read the examples or recordings file at ``path`` (``.parquet`` or ``.jsonl``); with ``defer``,
    without the ``DEFERRED`` columns no check needs (see :func:`deferrable`)."""
    if path.suffix == ".parquet":
        file = TableFile.open(path, display, LABEL_COLUMNS[table])
        skip = deferrable(file, table) if defer else set()
        return TableRead(file.read(skip), file, list(file.parquet.schema_arrow.names), file.sha256())
    if path.suffix == ".jsonl":
        try:
            read = pajson.read_json(path)
        except FileNotFoundError:
            raise InputError.single(display, "file not found") from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError.single(display, f"cannot read table: {exc}") from None
        return TableRead(read, None, read.column_names, file_sha256(path))
    raise InputError.single(display, "tables must end in .parquet or .jsonl")
