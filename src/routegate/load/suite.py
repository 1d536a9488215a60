"""Eval suites: a folder with ``suite.yaml``, an examples table and a recordings table.

docs/suites.md documents the format. ``load_suite`` reads the manifest (``manifest``), reads
both tables (``tables``), checks them (``checks``), indexes the recordings (``recordings``) and
hashes the files: nothing here iterates rows in Python except to describe the first few
problems found. For table problems, ``line`` is the 1-based row and ``col`` the 1-based column.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.arrow.groups import Groups, column_groups
from routegate.arrow.memo import Memo, MemoKey, MemoKind
from routegate.arrow.take import take_rows
from routegate.errors import InputError, Problem, errors_only
from routegate.load.checks import check_examples, check_recordings_keyed
from routegate.load.manifest import SUITE_FILE, SuiteManifest, check_scoring, manifest_slice_columns
from routegate.load.policy import canonical_sha256
from routegate.load.recordings import RecordingKeys
from routegate.load.schema import validate_document
from routegate.load.sources import resolve_inside
from routegate.load.tables import DEFERRED, TAKE_WHOLE, TableFile, file_sha256, read_table
from routegate.load.yamlsource import YamlDocument, parse_yaml

T = TypeVar("T")

SLICE_ROWS: MemoKind[Groups] = MemoKind("suite.slice_rows")
"""``Suite.slice_rows``: row indices per value of each slice column (no parts)."""
RECORDING_KEYS: MemoKind[RecordingKeys] = MemoKind("suite.recording_keys")
"""``Suite.recording_keys``: the recordings' join keys (no parts; handed over by the loader)."""
DEFERRED_COLUMN: MemoKind[pa.ChunkedArray] = MemoKind("suite.deferred_column")
"""``Suite.column``: a deferred column read whole; parts: the table and the column's name."""


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

    def memoised(self, key: MemoKey[T], compute: Callable[[], T]) -> T:
        """``self.memo[key]``, computed by ``compute()`` on first use (thread-safe: see ``routegate.arrow.memo``)."""
        return self.memo.get_or_compute(key, compute)

    @property
    def slice_columns(self) -> list[str]:
        """Attribute columns carried into traces and summarised by: the base attributes, then the suite's slices."""
        return manifest_slice_columns(self.manifest)

    def slice_rows(self) -> Groups:
        """Row indices per value of each slice column (``arrow.groups.column_groups``; computed on first
        use, once per suite). Only meaningful while every ``pii`` label is set: detection would change
        that column (``stats.summary.suite_groups`` knows)."""
        return self.memoised(SLICE_ROWS.key(), lambda: column_groups(self.examples, self.slice_columns))

    def recording_keys(self) -> RecordingKeys:
        """The recordings' join keys (computed on first use, or handed over by the loader)."""
        return self.memoised(RECORDING_KEYS.key(), lambda: RecordingKeys.of(self.recordings, self.examples))

    def column(self, table: Literal["examples", "recordings"], name: str) -> pa.ChunkedArray:
        """A column of the examples or recordings, read now (once) if it was deferred."""
        held = self.examples if table == "examples" else self.recordings
        if name in held.column_names:
            return held.column(name)
        return self.memoised(
            DEFERRED_COLUMN.key(table, name), lambda: self.deferred[name].column(name, DEFERRED[name][1])
        )

    def take(self, table: Literal["examples", "recordings"], name: str, rows: np.ndarray) -> pa.Array:
        """``column(table, name)[rows]``; for a deferred column, only the row groups holding ``rows`` are read."""
        rows = np.asarray(rows, dtype=np.int64)
        held = self.examples if table == "examples" else self.recordings
        whole = name in held.column_names or DEFERRED_COLUMN.key(table, name) in self.memo
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


def suite_sha256(manifest: SuiteManifest, files: dict[str, Path]) -> str:
    """sha256 over the manifest's canonical hash and the bytes of every data file."""
    return combined_sha256(manifest, {k: file_sha256(v) for k, v in files.items()})


def combined_sha256(manifest: SuiteManifest, digests: Mapping[str, str]) -> str:
    """A suite's sha256 from its manifest and its data files' sha256 (``examples``, ``recordings``)."""
    parts = {"manifest": canonical_sha256(manifest), **dict(sorted(digests.items()))}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def load_suite(folder: str | Path, *, defer: bool = True) -> Suite:
    """Load and validate a suite folder (or its ``suite.yaml``); raise ``InputError`` on any problem.

    Steps: the manifest, then the examples (read, checked: their problems are reported first and
    alone), then the recordings (read, checked, indexed against the examples), then the suite's
    sha256 over the manifest and both files. With ``defer``, the ``DEFERRED`` text columns of
    parquet tables are left out of the tables when no check needs them, and read on demand
    (``Suite.column``, ``Suite.take``).
    """
    manifest, doc, folder, files = _open_suite(folder)
    ex_display = str(folder / manifest.examples)
    rec_display = str(folder / manifest.recordings)
    ex_read = read_table(files["examples"], ex_display, "examples", defer)
    examples, problems = check_examples(ex_read.table, ex_display, ex_read.columns)
    if errors_only(problems):
        raise InputError(problems)
    rec_read = read_table(files["recordings"], rec_display, "recordings", defer)
    recordings, keys, rec_problems = check_recordings_keyed(rec_read.table, examples, rec_display, rec_read.columns)
    problems += rec_problems
    for i, name in enumerate(manifest.slices):
        if name not in examples.column_names:
            columns = ", ".join(examples.column_names)
            message = f"slice column {name!r} is not in the examples table; columns: {columns}"
            problems.append(doc.problem(("slices", i), message))
    if manifest.cluster is not None and manifest.cluster not in examples.column_names:
        columns = ", ".join(examples.column_names)
        message = f"cluster column {manifest.cluster!r} is not in the examples table; columns: {columns}"
        problems.append(doc.problem(("cluster",), message))
    if examples.num_rows == 0:
        problems.append(Problem(ex_display, 0, 0, "-", "the examples table is empty"))
    if errors_only(problems):
        raise InputError(problems)
    suite = Suite(
        manifest=manifest,
        folder=folder,
        examples=examples,
        recordings=recordings,
        sha256=combined_sha256(manifest, {"examples": ex_read.sha256, "recordings": rec_read.sha256}),
        warnings=tuple(problems),
        deferred=ex_read.deferred | rec_read.deferred,
    )
    if keys is not None:  # None only beside errors, raised above
        suite.memo[RECORDING_KEYS.key()] = keys  # computed while validating: no second pass
    return suite


def _open_suite(folder: str | Path) -> tuple[SuiteManifest, YamlDocument, Path, dict[str, Path]]:
    """The suite's manifest (validated, its scorers checked), its parsed document, the folder and
    its two table files (resolved inside the folder)."""
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
        path = manifest.examples if key == "examples" else manifest.recordings
        files[key] = resolve_inside(folder, path, file=display, field=key, line=line, col=col)
    return manifest, doc, folder, files


def check_suite_models(suite: Suite, known: set[str], catalog_display: str) -> list[Problem]:
    """Problems for recordings of models the catalog does not know."""
    models = pc.unique(suite.recordings.column("model")).to_pylist()
    display = str(suite.folder / suite.manifest.recordings)
    return [
        Problem(display, 0, 0, "model", f"model {m!r} is not in the catalog {catalog_display}")
        for m in sorted(x for x in models if x is not None and x not in known)
    ]
