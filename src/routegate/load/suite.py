"""Eval suites: a folder with ``suite.yaml``, an examples table and a recordings table.

docs/suites.md documents the format. Tables are read with pyarrow (parquet, or
JSON Lines for hand-written suites) and stay Arrow tables: nothing here
iterates rows in Python except to describe the first few problems found.
For table problems, ``line`` is the 1-based row and ``col`` the 1-based column.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq
from pydantic import Field

from routegate.arrow.labels import LABEL, as_labels, label_codes, label_in
from routegate.arrow.memo import Memo
from routegate.arrow.strbytes import string_keys
from routegate.arrow.take import take_rows
from routegate.errors import InputError, Problem, errors_only
from routegate.load.policy import ERROR_KINDS, STAKES, Name, canonical_sha256
from routegate.load.schema import Frozen, pattern, validate_document
from routegate.load.sources import resolve_inside
from routegate.load.yamlsource import YamlDocument, parse_yaml
from routegate.pii.redact import redact_text
from routegate.scoring import get_scorer
from routegate.stats.measure import Groups, column_groups

SUITE_FILE = "suite.yaml"
MAX_LISTED = 10
"""At most this many offending rows are listed per problem."""

SemVer = Annotated[
    str,
    Field(
        pattern=pattern(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$", "a semantic version MAJOR.MINOR.PATCH, e.g. 1.2.0")
    ),
]


class Provenance(Frozen):
    """Where the suite's data came from."""

    repository: str = Field(min_length=1)
    commit: str = ""
    path: str = ""
    license: str = Field(min_length=1)
    notes: str = ""


class Scoring(Frozen):
    """How quality (and, optionally, confidence) is computed for a response."""

    scorer: Name = "judge"
    """Registered scorer name: ``judge`` passes the recorded ``quality`` column through."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Scorer options (e.g. ``pattern`` for ``regex``)."""
    confidence: Name | None = None
    """Scorer whose 0/1 verdict on a response serves as its confidence when the recording has none."""
    confidence_options: dict[str, Any] = {}
    """Options of the confidence scorer (it never sees the reference answer)."""


class Columns(Frozen):
    """Which recorded columns were measured and which were modelled (and how)."""

    measured: tuple[str, ...] = ()
    modelled: dict[str, str] = Field(default_factory=dict)
    """Column name -> one sentence on how it was derived."""


class SuiteManifest(Frozen):
    """The contents of ``suite.yaml``."""

    name: Name
    version: SemVer
    description: str = ""
    source: Provenance
    examples: str = "examples.parquet"
    """Examples table, relative to the suite folder (``.parquet`` or ``.jsonl``)."""
    recordings: str = "recordings.parquet"
    """Recordings table, relative to the suite folder (``.parquet`` or ``.jsonl``)."""
    slices: tuple[str, ...] = ("task_type",)
    """Example columns that reports break results down by."""
    scoring: Scoring = Scoring()
    columns: Columns = Columns()


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
class RecordingKeys:
    """Each recording's example row and model, as integers: the join key of every replay.

    Computed once per suite (one hash pass over the example ids), then shared by
    validation, coverage and the recorded provider, which only index numpy arrays.
    """

    example: np.ndarray | None
    """int64 per recording: row of its example in the examples table, -1 when unknown; ``None`` for
    recordings in model blocks (``_model_blocks``), where row i of every block is example i
    (:meth:`example_rows` spells it out)."""
    model: np.ndarray
    """int32 per recording: index into ``models``, -1 when empty."""
    models: tuple[str, ...]
    """Distinct model ids of the recordings, in order of first appearance (``labels.label_codes``)."""
    cache: dict[tuple[int, tuple[str, ...]], np.ndarray] = field(default_factory=dict, compare=False, repr=False)
    """Index matrices already built (read-only), by (examples, models)."""

    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)
    unique_pairs: bool = False
    """Known, from the layout, that no (example, model) pair repeats (``duplicates`` then has nothing to find)."""
    block_rows: int = 0
    """Rows of each model block (the examples table's), when :attr:`example` is ``None``."""

    @classmethod
    def of(cls, recordings: pa.Table, examples: pa.Table) -> RecordingKeys:
        ids = examples.column("id").combine_chunks()
        model, names = label_codes(recordings.column("model"))
        models = tuple(str(m) for m in names)
        if _model_blocks(recordings.column("example_id"), ids, model):
            return cls(example=None, model=model, models=models, unique_pairs=True, block_rows=len(ids))
        example = pc.index_in(recordings.column("example_id"), value_set=ids)
        return cls(
            example=np.asarray(pc.fill_null(example, -1).to_numpy(zero_copy_only=False), dtype=np.int64),
            model=model,
            models=models,
        )

    def example_rows(self) -> np.ndarray:
        """:attr:`example`, spelt out for model blocks (32 MB at 4M recordings: only writers need it)."""
        if self.example is not None:
            return self.example
        return np.tile(np.arange(self.block_rows, dtype=np.int64), self.model.size // self.block_rows)

    def in_blocks(self, n_examples: int) -> bool:
        """Whether the recordings are in model blocks of ``n_examples`` rows each."""
        return self.example is None and n_examples > 0 and n_examples == self.block_rows

    def index(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray:
        """int64 matrix [example row, position in ``models``] -> recording row, or -1 where none (read-only)."""
        with self.lock:  # two runs in parallel threads build it once
            cached = self.cache.get((n_examples, models))
            if cached is None:
                cached = self._index(n_examples, models)
                cached.flags.writeable = False
                self.cache[(n_examples, models)] = cached
            return cached

    def block_starts(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray | None:
        """When the recordings are in model blocks (``_model_blocks``): int64 per position in ``models``,
        the first row of that model's block (-1: no recordings of it), so that the recording of
        (example i, model j) is row ``starts[j] + i``. ``None`` for any other layout."""
        if not self.in_blocks(n_examples):
            return None
        position = {m: j for j, m in enumerate(models)}
        starts = np.full(len(models), -1, dtype=np.int64)
        for start in range(0, self.model.size, n_examples):
            code = self.model[start]
            j = position.get(self.models[code], -1) if code >= 0 else -1
            if j >= 0:
                starts[j] = start
        return starts

    def rows_of(self, n_examples: int, models: tuple[str, ...]) -> dict[str, slice | np.ndarray]:
        """The recording row of each example, for each of ``models`` recorded for every example: a
        slice when the recordings are in model blocks (``block_starts``: one contiguous run of rows
        per model, read as views), else an index array. Models missing some example are left out (all
        of them, for an empty examples table)."""
        if not n_examples:
            return {}
        starts = self.block_starts(n_examples, models)
        if starts is not None:
            return {
                m: slice(int(s), int(s) + n_examples) for m, s in zip(models, starts.tolist(), strict=True) if s >= 0
            }
        matrix = self.index(n_examples, models)
        complete = np.asarray((matrix >= 0).all(axis=0), dtype=bool)
        return {m: np.ascontiguousarray(matrix[:, j]) for j, m in enumerate(models) if complete[j]}

    def _index(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray:
        matrix = np.full((n_examples, len(models)), -1, dtype=np.int64)
        starts = self.block_starts(n_examples, models)
        if starts is not None:  # model j's recording of example i is row starts[j] + i
            for j, start in enumerate(starts.tolist()):
                if start >= 0:
                    matrix[:, j] = np.arange(start, start + n_examples)
            return matrix
        position = np.full(len(self.models) + 1, -1, dtype=np.int64)
        wanted = {m: j for j, m in enumerate(models)}
        for code, model in enumerate(self.models):
            position[code] = wanted.get(model, -1)
        column = position[self.model]  # code -1 (empty model) picks the trailing -1
        example = self.example_rows()
        keep = (example >= 0) & (column >= 0)
        matrix[example[keep], column[keep]] = np.flatnonzero(keep)
        return matrix

    def duplicates(self) -> np.ndarray:
        """Mask of recordings that repeat an earlier (example, model) pair."""
        n = self.model.size
        mask = np.zeros(n, dtype=bool)
        if self.unique_pairs:
            return mask
        example = self.example_rows()
        valid = (example >= 0) & (self.model >= 0)
        key = example * (len(self.models) + 1) + self.model
        if not valid.any():
            return mask
        span = int(key[valid].max()) + 1
        if span <= 64_000_000:  # a counting pass: O(n), no sort
            counts = np.bincount(key[valid], minlength=span)
            if not (counts > 1).any():
                return mask
            repeated = valid & (counts[np.where(valid, key, 0)] > 1)
        else:
            uniq = np.unique_counts(key[valid])
            if not (uniq.counts > 1).any():
                return mask
            repeated = valid & np.isin(key, uniq.values[uniq.counts > 1])
        rows = np.flatnonzero(repeated)
        _, first = np.unique(key[rows], return_index=True)
        mask[rows] = True
        mask[rows[first]] = False
        return mask


def _model_blocks(example_id: pa.ChunkedArray, ids: pa.Array, model: np.ndarray) -> bool:
    """Whether the recordings are laid out in model blocks.

    The layout ``routegate import``, ``routegate record`` and ``routegate.importers.synthetic`` write: one block
    per model, each holding that model's recording of every example in the examples table's order.
    Recognising it costs one string comparison per recording instead of a hash join (~20x
    faster at 4M recordings), and proves that no (example, model) pair repeats. Any other layout
    (or a null anywhere) takes the hash join.
    """
    n = len(ids)
    if n == 0 or len(example_id) % n or ids.null_count or example_id.null_count:
        return False
    k = len(example_id) // n
    codes = model.reshape(k, n)
    first = codes[:, 0]
    if (first < 0).any() or np.unique(first).size != k or not bool((codes == first[:, None]).all()):
        return False
    return all(pc.all(pc.equal(example_id.slice(block * n, n), ids)).as_py() for block in range(k))


def in_model_blocks(recordings: pa.Table, examples: pa.Table) -> pa.Table:
    """``recordings`` reordered into the layout ``_model_blocks`` recognises: by model (in first-seen
    order), then by the example's row (recordings of unknown examples last, in their own order)."""
    keys = RecordingKeys.of(recordings, examples)
    rows = keys.example_rows()
    example = np.where(rows < 0, examples.num_rows, rows)
    order = np.lexsort((np.arange(recordings.num_rows), example, keys.model))
    return recordings.take(pa.array(order))


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


BASE_SLICES: tuple[str, ...] = ("task_type", "pii", "stakes", "sla")
"""Request attributes every summary groups by (``Suite.slice_columns`` adds the suite's own slices)."""


def manifest_slice_columns(manifest: SuiteManifest) -> list[str]:
    """``BASE_SLICES``, then the manifest's own slices."""
    return list(BASE_SLICES) + [c for c in manifest.slices if c not in BASE_SLICES]


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


T = TypeVar("T")


@dataclass(frozen=True)
class Suite:
    """A loaded, validated suite. ``examples`` and ``recordings`` have every optional column filled."""

    manifest: SuiteManifest
    folder: Path
    examples: pa.Table
    recordings: pa.Table
    sha256: str
    warnings: tuple[Problem, ...] = ()
    deferred: Mapping[str, TableFile] = field(default_factory=dict, compare=False, repr=False)
    """Columns of ``DEFERRED`` left out of the tables, and the file each one is read from on demand
    (``column`` and ``take``); empty when the tables hold every column."""
    memo: Memo = field(default_factory=Memo, init=False, compare=False, repr=False)
    """Data derived from the tables once per suite object and shared by every replay over it (the
    recordings' join keys, the recorded provider's numpy columns). ``dataclasses.replace`` gives a
    new suite an empty memo, so derived data never outlives the tables it came from."""

    def memoised(self, key: str, compute: Callable[[], T]) -> T:
        """``self.memo[key]``, computed by ``compute()`` on first use (thread-safe: see ``routegate.arrow.memo``)."""
        return self.memo.get_or_compute(key, compute)

    @property
    def slice_columns(self) -> list[str]:
        """Attribute columns carried into traces and summarised by: the base attributes, then the suite's slices."""
        return manifest_slice_columns(self.manifest)

    def slice_rows(self) -> Groups:
        """Row indices per value of each slice column (``measure.column_groups``; computed by the loader
        while the recordings are decoded). Only meaningful while every ``pii`` label is set: detection
        would change that column (``pipeline.suite_groups`` knows)."""
        return self.memoised("slice_rows", lambda: column_groups(self.examples, self.slice_columns))

    def recording_keys(self) -> RecordingKeys:
        """The recordings' join keys (computed on first use, or handed over by the loader)."""
        return self.memoised("keys", lambda: RecordingKeys.of(self.recordings, self.examples))

    def column(self, table: Literal["examples", "recordings"], name: str) -> pa.ChunkedArray:
        """A column of the examples or recordings, read now (once) if it was deferred."""
        held = self.examples if table == "examples" else self.recordings
        if name in held.column_names:
            return held.column(name)
        return self.memoised(f"column:{table}:{name}", lambda: self.deferred[name].column(name, DEFERRED[name][1]))

    def take(self, table: Literal["examples", "recordings"], name: str, rows: np.ndarray) -> pa.Array:
        """``column(table, name)[rows]``; for a deferred column, only the row groups holding ``rows`` are read."""
        rows = np.asarray(rows, dtype=np.int64)
        held = self.examples if table == "examples" else self.recordings
        whole = name in held.column_names or f"column:{table}:{name}" in self.memo
        if whole or rows.size * TAKE_WHOLE > held.num_rows:
            return take_rows(self.column(table, name), rows)
        return self.deferred[name].take(name, DEFERRED[name][1], rows)

    def whole(self, table: Literal["examples", "recordings"]) -> pa.Table:
        """The examples or recordings table with every column: deferred ones are read now and appended."""
        held = self.examples if table == "examples" else self.recordings
        for name, (owner, _) in DEFERRED.items():
            if owner == table and name not in held.column_names and name in self.deferred:
                held = held.append_column(name, self.column(table, name))
        return held

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version


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


def _read_table(
    path: Path, display: str, table: Literal["examples", "recordings"], defer: bool, pool: Executor
) -> tuple[pa.Table, TableFile | None, list[str], Future[str]]:
    """The table (without the ``DEFERRED`` columns it can do without, with ``defer``), its file when it
    is parquet, the file's columns in order, and the file's sha256 (hashed on the ``pool`` while the
    table decodes: hashlib and the decoder both release the GIL)."""
    if path.suffix == ".parquet":
        file = TableFile.open(path, display, LABEL_COLUMNS[table])
        digest = pool.submit(file.sha256)
        skip = _deferrable(file, table) if defer else set()
        return file.read(skip), file, list(file.parquet.schema_arrow.names), digest
    if path.suffix == ".jsonl":
        try:
            read = pajson.read_json(path)
        except FileNotFoundError:
            raise InputError.single(display, "file not found") from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError.single(display, f"cannot read table: {exc}") from None
        return read, None, read.column_names, pool.submit(file_sha256, path)
    raise InputError.single(display, "tables must end in .parquet or .jsonl")


def _read_recordings(
    path: Path, display: str, defer: bool, pool: Executor, examples: Future[pa.Table | None]
) -> tuple[pa.Table, TableFile | None, list[str], Future[str], tuple[RecordingKeys | None, list[Problem]] | None]:
    """``_read_table`` of the recordings, then, as soon as the examples are read, their checks (this
    thread) and join keys (the ``pool``): the checked table and (keys, problems). ``None`` instead of
    (keys, problems) when the examples could not be read or lack their ids: the examples' problems
    are reported first, and alone."""
    table, file, columns, digest = _read_table(path, display, "recordings", defer, pool)
    ids = examples.result()
    if ids is None or "id" not in ids.column_names or ids.schema.field("id").type != pa.string():
        return table, file, columns, digest, None
    checked, keys, problems = check_recordings_keyed(table, ids, display, columns, pool)
    return checked, file, columns, digest, (keys, problems)


def _deferrable(file: TableFile, table: Literal["examples", "recordings"]) -> set[str]:
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
        if name == "messages" and ("input_tokens" not in schema.names or not _never_empty(file.parquet.metadata, name)):
            continue
        out.add(name)
    return out


def _never_empty(meta: pq.FileMetaData, name: str) -> bool:
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


def _conform(
    table: pa.Table,
    required: dict[str, pa.DataType],
    optional: dict[str, pa.DataType],
    display: str,
    columns: Sequence[str],
    labels: Collection[str] = (),
) -> tuple[pa.Table, list[Problem]]:
    """Check required columns and cast known columns to their documented types.

    ``columns``: the file's columns, in order (positions in problems); one missing from ``table``
    was deferred: present in the file with its documented type, read on demand. ``labels``: string
    columns held as label columns (``LABEL_COLUMNS``; a dictionary of strings is one already).
    """
    problems: list[Problem] = []
    names = table.column_names
    for name, kind in required.items():
        if name not in columns:
            problems.append(
                Problem(
                    display, 0, 0, name, f"missing required column {name!r} ({kind}); required: {', '.join(required)}"
                )
            )
    if problems:
        return table, problems
    for name, kind in {**required, **optional}.items():
        if name not in names:
            continue
        col = names.index(name)
        column = table.column(name)
        try:
            column = as_labels(column) if name in labels else column.cast(kind)  # a label's kind is string
            table = table.set_column(col, name, column)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            problems.append(
                Problem(
                    display,
                    0,
                    columns.index(name) + 1,
                    name,
                    f"column {name!r} has type {table.column(name).type}; expected {kind}",
                )
            )
    return table, problems


def _rows_problem(
    display: str,
    columns: Sequence[str],
    table: pa.Table,
    column: str,
    mask: np.ndarray,
    message: str,
    shown: pa.ChunkedArray | pa.Array | None = None,
) -> Problem | None:
    """One problem at the first offending row of ``mask``, listing the first few rows and its value.

    ``shown`` is the column whose value at the first offending row is quoted
    (default: ``column`` itself). Only that one value leaves Arrow.
    """
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return None
    first = int(rows[0])
    values = table.column(column) if shown is None else shown
    value = values[first].as_py()
    what = "is empty" if value is None else f"has {redact_text(repr(value))}"  # never quote raw PII
    if rows.size == 1:
        where = f"row {first + 1} {what}"
    else:
        listed = ", ".join(str(int(r) + 1) for r in rows[:MAX_LISTED])
        more = f" and {rows.size - MAX_LISTED} more" if rows.size > MAX_LISTED else ""
        where = f"{rows.size} rows: {listed}{more} (row {first + 1} {what})"
    col = columns.index(column) + 1 if column in columns else 0
    return Problem(display, first + 1, col, column, f"{message}; {where}")


def _null_mask(col: pa.ChunkedArray) -> np.ndarray:
    if col.null_count == 0:
        return np.zeros(len(col), dtype=bool)
    return np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)


def _has_nan(col: pa.ChunkedArray) -> bool:
    return pa.types.is_floating(col.type) and bool(pc.any(pc.is_nan(col)).as_py())


def _bounds(col: pa.ChunkedArray) -> tuple[Any, Any]:
    """(min, max) of the values that are neither null nor NaN (NaN when every value is NaN, ``None``
    when every value is null), as ``pc.min_max`` gives them. numpy reduces each numeric chunk's values
    in place (a null is NaN there, which ``fmin``/``fmax`` skip): ~10x faster than Arrow's kernel."""
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        bounds = pc.min_max(col)
        return bounds["min"].as_py(), bounds["max"].as_py()
    lows, highs = [], []
    for chunk in col.chunks:
        if len(chunk) > chunk.null_count:
            values = chunk.to_numpy(zero_copy_only=False)  # a view unless the chunk has nulls
            lows.append(np.fmin.reduce(values))
            highs.append(np.fmax.reduce(values))
    if not lows:
        return None, None
    return np.fmin.reduce(lows).item(), np.fmax.reduce(highs).item()


def _within(col: pa.ChunkedArray, low: float, high: float, *, nulls: bool = False) -> bool:
    """Whether every value is a number in [low, high], not NaN, and (unless ``nulls``) not null:
    a min/max pass without copying, so the masks that locate bad rows are built only when some are."""
    if len(col) == col.null_count:
        return nulls or len(col) == 0
    if col.null_count and not nulls:
        return False
    lo, hi = _bounds(col)
    if lo is None or hi is None or not (low <= lo and hi <= high):
        return False
    if not pa.types.is_floating(col.type):
        return True
    if math.isfinite(lo):
        # No -inf among the values, so their sum is NaN only where a NaN is (a +inf sum is not): one
        # reduction instead of a NaN mask over the column.
        return not math.isnan(pc.sum(col).as_py())
    return not _has_nan(col)


def _not_non_negative(col: pa.ChunkedArray) -> np.ndarray:
    """Mask of values that are not numbers >= 0 (negative, NaN or empty)."""
    if _within(col, 0, np.inf):
        return np.zeros(len(col), dtype=bool)
    values = col.to_numpy(zero_copy_only=False).astype(float)
    return np.asarray(~(values >= 0), dtype=bool)


def check_examples(
    table: pa.Table, display: str, columns: Sequence[str] | None = None
) -> tuple[pa.Table, list[Problem]]:
    """Check the examples table. ``columns``: the file's columns in order, when the loader deferred
    some (their checks were proven from the file's statistics, see ``_deferrable``)."""
    columns = list(columns) if columns is not None else table.column_names
    table, problems = _conform(table, EXAMPLE_COLUMNS, EXAMPLE_OPTIONAL, display, columns, LABEL_COLUMNS["examples"])
    if problems:
        return table, problems
    found: list[Problem | None] = []
    ids = table.column("id")
    no_id = _null_mask(ids) | (pc.utf8_length(pc.fill_null(ids, "")).to_numpy(zero_copy_only=False) == 0)
    found.append(_rows_problem(display, columns, table, "id", no_id, "every example needs a non-empty id"))
    dup = _duplicate_strings(ids)
    found.append(_rows_problem(display, columns, table, "id", dup, "duplicate id; every example id must be unique"))
    for name in ("messages", "task_type", "stakes", "sla"):  # pii may be null: unknown, detection decides
        if name not in table.column_names:  # deferred
            continue
        found.append(
            _rows_problem(display, columns, table, name, _null_mask(table.column(name)), "required value is empty")
        )
    stakes = table.column("stakes")
    bad_stakes = ~label_in(stakes, STAKES) & ~_null_mask(stakes)  # empty is reported above
    found.append(
        _rows_problem(display, columns, table, "stakes", bad_stakes, f"unknown stakes; allowed: {', '.join(STAKES)}")
    )
    for name in ("input_tokens", "arrival_ms"):
        if name in table.column_names:
            found.append(
                _rows_problem(
                    display, columns, table, name, _not_non_negative(table.column(name)), "must be a number >= 0"
                )
            )
    return _fill_examples(table), [p for p in found if p is not None]


def _fill_examples(table: pa.Table) -> pa.Table:
    n = table.num_rows
    if "tags" not in table.column_names:
        table = table.append_column("tags", pa.array([[]] * n, pa.list_(pa.string())))
    if "reference" not in table.column_names:
        table = table.append_column("reference", pa.nulls(n, pa.string()))
    if "input_tokens" not in table.column_names:
        table = table.append_column("input_tokens", estimate_tokens(message_text(table.column("messages"))))
    if "arrival_ms" not in table.column_names:
        table = table.append_column("arrival_ms", pa.array(np.arange(n, dtype=np.float64) * 1000.0))
    return table


def check_recordings(table: pa.Table, examples: pa.Table, display: str) -> tuple[pa.Table, list[Problem]]:
    table, _, problems = check_recordings_keyed(table, examples, display)
    return table, problems


def check_recordings_keyed(
    table: pa.Table,
    examples: pa.Table,
    display: str,
    columns: Sequence[str] | None = None,
    pool: Executor | None = None,
) -> tuple[pa.Table, RecordingKeys | None, list[Problem]]:
    """Check the recordings table; also return its join keys (``None`` when columns are missing).

    ``pool``: a thread that computes the join keys while this one checks the values."""
    columns = list(columns) if columns is not None else table.column_names
    table, problems = _conform(
        table, RECORDING_COLUMNS, RECORDING_OPTIONAL, display, columns, LABEL_COLUMNS["recordings"]
    )
    if problems:
        return table, None, problems
    keying = pool.submit(RecordingKeys.of, table, examples) if pool is not None else None
    found: list[Problem | None] = []
    for name in ("example_id", "model"):
        found.append(
            _rows_problem(display, columns, table, name, _null_mask(table.column(name)), "required value is empty")
        )
    for name in ("input_tokens", "output_tokens", "latency_ms"):
        bad = _not_non_negative(table.column(name))
        found.append(
            _rows_problem(display, columns, table, name, bad, "must be a number >= 0 (not NaN, negative or empty)")
        )
    for name in ("confidence", "quality"):
        if name in table.column_names and not _within(table.column(name), 0.0, 1.0, nulls=True):
            values = table.column(name).to_numpy(zero_copy_only=False).astype(float)
            bad = (~np.isnan(values) & ~((values >= 0) & (values <= 1))) | _nan_not_null(table.column(name))
            found.append(_rows_problem(display, columns, table, name, bad, "must be empty or a number in [0, 1]"))
    errors = table.column("error")
    bad_error = ~label_in(errors, ("", *ERROR_KINDS)) & ~_null_mask(errors)  # empty: a success
    kinds = ", ".join(ERROR_KINDS)
    message = f"unknown error kind; allowed: empty (success), {kinds}"
    found.append(_rows_problem(display, columns, table, "error", bad_error, message))
    keys = keying.result() if keying is not None else RecordingKeys.of(table, examples)
    if keys.example is not None:  # in model blocks every recording's example was found
        unknown = (keys.example < 0) & ~_null_mask(table.column("example_id"))
        message = "recording for an example id the examples table lacks"
        found.append(_rows_problem(display, columns, table, "example_id", unknown, message))
    dup = keys.duplicates()
    if dup.any():
        example_id = pc.fill_null(table.column("example_id"), "")
        model = pc.fill_null(table.column("model").cast(pa.string()), "")
        pairs = pc.binary_join_element_wise(example_id, model, " on ")
        message = "duplicate recording of one (example_id, model) pair"
        found.append(_rows_problem(display, columns, table, "model", dup, message, pairs))
    return _fill_recordings(table), keys, [p for p in found if p is not None]


def _nan_not_null(col: pa.ChunkedArray) -> np.ndarray:
    """NaN values that are not nulls (an explicit NaN is an error; a null means 'not recorded')."""
    return np.asarray(pc.fill_null(pc.is_nan(col), False).to_numpy(zero_copy_only=False), dtype=bool)


def _fill_recordings(table: pa.Table) -> pa.Table:
    n = table.num_rows
    for name, kind in RECORDING_OPTIONAL.items():
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(n, LABEL if name in LABEL_COLUMNS["recordings"] else kind))
    error = table.column("error")
    if not error.null_count:
        return table
    return table.set_column(table.column_names.index("error"), "error", as_labels(pc.fill_null(error, "")))


def _duplicate_strings(column: pa.ChunkedArray) -> np.ndarray:
    """Mask of every value after its first occurrence (a null counts as ""). When all are distinct,
    as they should be, a 64-bit key per value proves it (``strbytes.string_keys``: distinct keys,
    distinct values) after one numeric sort: ~15 ms for 1M ids, against ~43 ms for Arrow's sort of
    the strings and ~5x that for a hash pass. Equal keys (a duplicate, or rarely two values whose
    keys collide) take the exact path."""
    if len(column) <= 1:
        return np.zeros(len(column), dtype=bool)
    values = pc.fill_null(column, "") if column.null_count else column
    keys = np.sort(string_keys(values.combine_chunks()))
    if not (keys[1:] == keys[:-1]).any():
        return np.zeros(len(column), dtype=bool)
    return _duplicates(values.to_numpy(zero_copy_only=False))


def _duplicates(values: np.ndarray) -> np.ndarray:
    """Mask of every value after its first occurrence."""
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    _, first = np.unique(values, return_index=True)
    mask = np.ones(values.size, dtype=bool)
    mask[first] = False
    return mask


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def suite_sha256(manifest: SuiteManifest, files: dict[str, Path]) -> str:
    """sha256 over the manifest's canonical hash and the bytes of every data file."""
    return _combined_sha256(manifest, {k: file_sha256(v) for k, v in files.items()})


def _combined_sha256(manifest: SuiteManifest, digests: Mapping[str, str]) -> str:
    parts = {"manifest": canonical_sha256(manifest), **dict(sorted(digests.items()))}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def check_scoring(manifest: SuiteManifest, doc: YamlDocument) -> None:
    """The scorer and confidence scorer exist and their options are valid; problems point into suite.yaml."""
    checks = [(manifest.scoring.scorer, manifest.scoring.options, "scorer", "options")]
    if manifest.scoring.confidence is not None:
        checks.append(
            (manifest.scoring.confidence, manifest.scoring.confidence_options, "confidence", "confidence_options")
        )
    problems: list[Problem] = []
    for name, options, name_field, options_field in checks:
        try:
            get_scorer(name).validate_options(options)
        except InputError as exc:
            for p in exc.problems:
                parts = p.field.split(".")
                if parts[:2] == ["scoring", "options"]:
                    path: tuple[str | int, ...] = ("scoring", options_field, *parts[2:])
                else:
                    path = ("scoring", name_field)
                problems.append(doc.problem(path, p.message))
    if problems:
        raise InputError(problems)


def load_suite(
    folder: str | Path, *, defer: bool = True, prepare: Callable[[pa.Table, Memo], None] | None = None
) -> Suite:
    """Load and validate a suite folder (or its ``suite.yaml``); raise ``InputError`` on any problem.

    With ``defer``, the ``DEFERRED`` text columns of parquet tables are left out of the tables when
    no check needs them, and read on demand (``Suite.column``, ``Suite.take``). The data files are
    hashed in a second thread while they are decoded (hashlib releases the GIL). ``prepare(examples,
    memo)`` runs once the examples are checked, while the recordings still are, and may store more
    derived data in ``memo``, which becomes the suite's (``pipeline.plan_while_loading``).
    """
    folder = Path(folder)
    if folder.name == SUITE_FILE:
        folder = folder.parent
    manifest_path = folder / SUITE_FILE
    display = str(manifest_path)
    if not folder.is_dir():
        raise InputError.single(str(folder), "suite folder not found")
    if not manifest_path.is_file():
        raise InputError.single(display, f"a suite folder must hold {SUITE_FILE}")
    try:
        text = manifest_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError.single(display, "not valid UTF-8") from None
    doc = parse_yaml(text, display)
    manifest = validate_document(SuiteManifest, doc)
    check_scoring(manifest, doc)
    files: dict[str, Path] = {}
    for key in ("examples", "recordings"):
        line, col = doc.position((key,))
        files[key] = resolve_inside(folder, getattr(manifest, key), file=display, field=key, line=line, col=col)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="load") as pool:
        suite = _load_tables(manifest, doc, folder, files, defer, pool, prepare)
    return suite


def _load_tables(
    manifest: SuiteManifest,
    doc: YamlDocument,
    folder: Path,
    files: dict[str, Path],
    defer: bool,
    pool: ThreadPoolExecutor,
    prepare: Callable[[pa.Table, Memo], None] | None = None,
) -> Suite:
    """Read, check and hash the two tables. One ``pool`` thread reads the recordings and, once the
    examples are read, checks them while the other hashes both files and derives the recordings'
    join keys; this thread reads and checks the examples and groups their rows by slice (decoding,
    hashing and most of numpy and Arrow release the GIL). Problems are still reported examples first."""
    ex_display = str(folder / manifest.examples)
    rec_display = str(folder / manifest.recordings)
    examples_read: Future[pa.Table | None] = Future()
    reading = pool.submit(_read_recordings, files["recordings"], rec_display, defer, pool, examples_read)
    try:
        table, ex_file, ex_columns, ex_digest = _read_table(files["examples"], ex_display, "examples", defer, pool)
        examples_read.set_result(table)
    finally:
        if not examples_read.done():  # the recordings' thread waits for it: always settle it
            examples_read.set_result(None)
    digests = {"examples": ex_digest}
    deferred = {name: ex_file for name in ex_columns if ex_file and name not in table.column_names}
    examples, problems = check_examples(table, ex_display, ex_columns)
    if errors_only(problems):
        raise InputError(problems)
    # The rows of each slice value (what every summary groups by), while the recordings are checked;
    # not when detection will fill unknown pii labels (``pipeline.suite_groups``).
    grouping = (
        column_groups(examples, manifest_slice_columns(manifest)) if not examples.column("pii").null_count else None
    )
    early = Memo()
    if prepare is not None:
        prepare(examples, early)
    recordings, rec_file, rec_columns, digests["recordings"], checked = reading.result()
    deferred |= {name: rec_file for name in rec_columns if rec_file and name not in recordings.column_names}
    if checked is None:
        recordings, keys, rec_problems = check_recordings_keyed(recordings, examples, rec_display, rec_columns, pool)
    else:
        keys, rec_problems = checked
    problems += rec_problems
    for i, name in enumerate(manifest.slices):
        if name not in examples.column_names:
            columns = ", ".join(examples.column_names)
            message = f"slice column {name!r} is not in the examples table; columns: {columns}"
            problems.append(doc.problem(("slices", i), message))
    if examples.num_rows == 0:
        problems.append(Problem(ex_display, 0, 0, "-", "the examples table is empty"))
    if errors_only(problems):
        raise InputError(problems)
    suite = Suite(
        manifest=manifest,
        folder=folder,
        examples=examples,
        recordings=recordings,
        sha256=_combined_sha256(manifest, {k: f.result() for k, f in digests.items()}),
        warnings=tuple(problems),
        deferred=deferred,
    )
    suite.memo.update(early)
    suite.memo["keys"] = keys  # computed while validating: no second hash pass
    if grouping is not None:
        suite.memo["slice_rows"] = grouping
    return suite


def check_suite_models(suite: Suite, known: set[str], catalog_display: str) -> list[Problem]:
    """Problems for recordings of models the catalog does not know."""
    models = pc.unique(suite.recordings.column("model")).to_pylist()
    display = str(suite.folder / suite.manifest.recordings)
    return [
        Problem(display, 0, 0, "model", f"model {m!r} is not in the catalog {catalog_display}")
        for m in sorted(x for x in models if x is not None and x not in known)
    ]
