"""Eval suites: a folder with ``suite.yaml``, an examples table and a recordings table.

docs/suites.md documents the format. Tables are read with pyarrow (parquet, or
JSON Lines for hand-written suites) and stay Arrow tables: nothing here
iterates rows in Python except to describe the first few problems found.
For table problems, ``line`` is the 1-based row and ``col`` the 1-based column.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq
from pydantic import Field

from routegate.errors import InputError, Problem, errors_only
from routegate.pii.redact import redact_text
from routegate.policy import ERROR_KINDS, STAKES, Name, canonical_sha256
from routegate.schema import Frozen, pattern, validate_document
from routegate.scoring import get_scorer
from routegate.sources import resolve_inside
from routegate.yamlsource import YamlDocument, parse_yaml

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


@dataclass(frozen=True)
class RecordingKeys:
    """Each recording's example row and model, as integers: the join key of every replay.

    Computed once per suite (one hash pass over the example ids), then shared by
    validation, coverage and the recorded provider, which only index numpy arrays.
    """

    example: np.ndarray
    """int64 per recording: row of its example in the examples table, -1 when unknown."""
    model: np.ndarray
    """int32 per recording: index into ``models``, -1 when empty."""
    models: tuple[str, ...]
    """Distinct model ids of the recordings, in first-seen order."""
    cache: dict[tuple[int, tuple[str, ...]], np.ndarray] = field(default_factory=dict, compare=False, repr=False)
    """Index matrices already built (read-only), by (examples, models)."""

    @classmethod
    def of(cls, recordings: pa.Table, examples: pa.Table) -> RecordingKeys:
        ids = examples.column("id").combine_chunks()
        example = pc.index_in(recordings.column("example_id"), value_set=ids)
        encoded = pc.dictionary_encode(recordings.column("model").combine_chunks())
        return cls(
            example=np.asarray(pc.fill_null(example, -1).to_numpy(zero_copy_only=False), dtype=np.int64),
            model=np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int32),
            models=tuple(str(m) for m in encoded.dictionary.to_pylist()),
        )

    def index(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray:
        """int64 matrix [example row, position in ``models``] -> recording row, or -1 where none (read-only)."""
        cached = self.cache.get((n_examples, models))
        if cached is None:
            cached = self._index(n_examples, models)
            cached.flags.writeable = False
            self.cache[(n_examples, models)] = cached
        return cached

    def _index(self, n_examples: int, models: tuple[str, ...]) -> np.ndarray:
        matrix = np.full((n_examples, len(models)), -1, dtype=np.int64)
        position = np.full(len(self.models) + 1, -1, dtype=np.int64)
        wanted = {m: j for j, m in enumerate(models)}
        for code, model in enumerate(self.models):
            position[code] = wanted.get(model, -1)
        column = position[self.model]  # code -1 (empty model) picks the trailing -1
        keep = (self.example >= 0) & (column >= 0)
        matrix[self.example[keep], column[keep]] = np.flatnonzero(keep)
        return matrix

    def duplicates(self) -> np.ndarray:
        """Mask of recordings that repeat an earlier (example, model) pair."""
        n = self.example.size
        mask = np.zeros(n, dtype=bool)
        valid = (self.example >= 0) & (self.model >= 0)
        key = self.example * (len(self.models) + 1) + self.model
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


@dataclass(frozen=True)
class Suite:
    """A loaded, validated suite. ``examples`` and ``recordings`` have every optional column filled."""

    manifest: SuiteManifest
    folder: Path
    examples: pa.Table
    recordings: pa.Table
    sha256: str
    warnings: tuple[Problem, ...] = ()
    memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    """Data derived from the tables once per suite object and shared by every replay over it (the
    recordings' join keys, the recorded provider's numpy columns). ``dataclasses.replace`` gives a
    new suite an empty memo, so derived data never outlives the tables it came from."""

    def recording_keys(self) -> RecordingKeys:
        """The recordings' join keys (computed on first use, or handed over by the loader)."""
        keys: RecordingKeys | None = self.memo.get("keys")
        if keys is None:
            keys = RecordingKeys.of(self.recordings, self.examples)
            self.memo["keys"] = keys
        return keys

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


def _read_table(path: Path, display: str) -> pa.Table:
    try:
        if path.suffix == ".parquet":
            return pq.read_table(path)
        if path.suffix == ".jsonl":
            return pajson.read_json(path)
    except FileNotFoundError:
        raise InputError.single(display, "file not found") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError.single(display, f"cannot read table: {exc}") from None
    raise InputError.single(display, "tables must end in .parquet or .jsonl")


def _conform(
    table: pa.Table,
    required: dict[str, pa.DataType],
    optional: dict[str, pa.DataType],
    display: str,
) -> tuple[pa.Table, list[Problem]]:
    """Check required columns and cast known columns to their documented types."""
    problems: list[Problem] = []
    names = table.column_names
    for name, kind in required.items():
        if name not in names:
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
        try:
            table = table.set_column(col, name, table.column(name).cast(kind))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            problems.append(
                Problem(
                    display, 0, col + 1, name, f"column {name!r} has type {table.column(name).type}; expected {kind}"
                )
            )
    return table, problems


def _rows_problem(
    display: str,
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
    col = table.column_names.index(column) + 1 if column in table.column_names else 0
    return Problem(display, first + 1, col, column, f"{message}; {where}")


def _null_mask(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)


def _not_non_negative(col: pa.ChunkedArray) -> np.ndarray:
    """Mask of values that are not numbers >= 0 (negative, NaN or empty)."""
    values = col.to_numpy(zero_copy_only=False).astype(float)
    return np.asarray(~(values >= 0), dtype=bool)


def check_examples(table: pa.Table, display: str) -> tuple[pa.Table, list[Problem]]:
    table, problems = _conform(table, EXAMPLE_COLUMNS, EXAMPLE_OPTIONAL, display)
    if problems:
        return table, problems
    found: list[Problem | None] = []
    ids = table.column("id")
    no_id = _null_mask(ids) | (pc.utf8_length(pc.fill_null(ids, "")).to_numpy(zero_copy_only=False) == 0)
    found.append(_rows_problem(display, table, "id", no_id, "every example needs a non-empty id"))
    dup = _duplicate_strings(ids)
    found.append(_rows_problem(display, table, "id", dup, "duplicate id; every example id must be unique"))
    for name in ("messages", "task_type", "stakes", "sla"):  # pii may be null: unknown, detection decides
        found.append(_rows_problem(display, table, name, _null_mask(table.column(name)), "required value is empty"))
    stakes = pc.fill_null(table.column("stakes"), "normal")
    bad_stakes = ~np.asarray(pc.is_in(stakes, pa.array(STAKES)).to_numpy(zero_copy_only=False), dtype=bool)
    found.append(_rows_problem(display, table, "stakes", bad_stakes, f"unknown stakes; allowed: {', '.join(STAKES)}"))
    for name in ("input_tokens", "arrival_ms"):
        if name in table.column_names:
            found.append(
                _rows_problem(display, table, name, _not_non_negative(table.column(name)), "must be a number >= 0")
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
    table: pa.Table, examples: pa.Table, display: str
) -> tuple[pa.Table, RecordingKeys | None, list[Problem]]:
    """Check the recordings table; also return its join keys (``None`` when columns are missing)."""
    table, problems = _conform(table, RECORDING_COLUMNS, RECORDING_OPTIONAL, display)
    if problems:
        return table, None, problems
    found: list[Problem | None] = []
    for name in ("example_id", "model"):
        found.append(_rows_problem(display, table, name, _null_mask(table.column(name)), "required value is empty"))
    for name in ("input_tokens", "output_tokens", "latency_ms"):
        bad = _not_non_negative(table.column(name))
        found.append(_rows_problem(display, table, name, bad, "must be a number >= 0 (not NaN, negative or empty)"))
    for name in ("confidence", "quality"):
        if name in table.column_names:
            values = table.column(name).to_numpy(zero_copy_only=False).astype(float)
            bad = (~np.isnan(values) & ~((values >= 0) & (values <= 1))) | _nan_not_null(table.column(name))
            found.append(_rows_problem(display, table, name, bad, "must be empty or a number in [0, 1]"))
    errors = pc.fill_null(table.column("error"), "")
    allowed = pa.array(["", *ERROR_KINDS])
    bad_error = ~np.asarray(pc.is_in(errors, allowed).to_numpy(zero_copy_only=False), dtype=bool)
    kinds = ", ".join(ERROR_KINDS)
    message = f"unknown error kind; allowed: empty (success), {kinds}"
    found.append(_rows_problem(display, table, "error", bad_error, message))
    keys = RecordingKeys.of(table, examples)
    unknown = (keys.example < 0) & ~_null_mask(table.column("example_id"))
    message = "recording for an example id the examples table lacks"
    found.append(_rows_problem(display, table, "example_id", unknown, message))
    dup = keys.duplicates()
    if dup.any():
        example_id, model = pc.fill_null(table.column("example_id"), ""), pc.fill_null(table.column("model"), "")
        pairs = pc.binary_join_element_wise(example_id, model, " on ")
        message = "duplicate recording of one (example_id, model) pair"
        found.append(_rows_problem(display, table, "model", dup, message, pairs))
    return _fill_recordings(table), keys, [p for p in found if p is not None]


def _nan_not_null(col: pa.ChunkedArray) -> np.ndarray:
    """NaN values that are not nulls (an explicit NaN is an error; a null means 'not recorded')."""
    return np.asarray(pc.fill_null(pc.is_nan(col), False).to_numpy(zero_copy_only=False), dtype=bool)


def _fill_recordings(table: pa.Table) -> pa.Table:
    n = table.num_rows
    for name, kind in RECORDING_OPTIONAL.items():
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(n, kind))
    return table.set_column(table.column_names.index("error"), "error", pc.fill_null(table.column("error"), ""))


def _duplicate_strings(column: pa.ChunkedArray) -> np.ndarray:
    """Mask of every value after its first occurrence; one hash pass when all are distinct."""
    if pc.count_distinct(column, mode="all").as_py() == len(column):
        return np.zeros(len(column), dtype=bool)
    return _duplicates(pc.fill_null(column, "").to_numpy(zero_copy_only=False))


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
    parts = {"manifest": canonical_sha256(manifest), **{k: file_sha256(v) for k, v in sorted(files.items())}}
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


def load_suite(folder: str | Path) -> Suite:
    """Load and validate a suite folder (or its ``suite.yaml``); raise ``InputError`` on any problem."""
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
    ex_display = str(folder / manifest.examples)
    rec_display = str(folder / manifest.recordings)
    examples, problems = check_examples(_read_table(files["examples"], ex_display), ex_display)
    if errors_only(problems):
        raise InputError(problems)
    recordings, keys, rec_problems = check_recordings_keyed(
        _read_table(files["recordings"], rec_display), examples, rec_display
    )
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
        sha256=suite_sha256(manifest, files),
        warnings=tuple(problems),
    )
    suite.memo["keys"] = keys  # computed while validating: no second hash pass
    return suite


def check_suite_models(suite: Suite, known: set[str], catalog_display: str) -> list[Problem]:
    """Problems for recordings of models the catalog does not know."""
    models = pc.unique(suite.recordings.column("model")).to_pylist()
    display = str(suite.folder / suite.manifest.recordings)
    return [
        Problem(display, 0, 0, "model", f"model {m!r} is not in the catalog {catalog_display}")
        for m in sorted(x for x in models if x is not None and x not in known)
    ]
