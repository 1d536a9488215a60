"""``routegate record``: fill a suite's recordings by calling live providers, atomically and resumably.

Finished calls are appended to a journal next to the suite (``.record-journal.jsonl``), one JSON
line per call, flushed and fsynced after every batch. At the end the journal is merged into the
recordings file, which is replaced atomically (temporary file, fsync, rename), and only then is
the journal removed. Killed at any point, a re-run reads the journal (a torn last line is
ignored), skips the calls it holds and goes on; the merge replaces a pair already in the
recordings, so no pair is ever duplicated. API keys never reach the journal: it holds answers only.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from routegate.errors import InputError, Problem
from routegate.load.catalog import Catalog
from routegate.load.policy import Fallback, Retry
from routegate.load.recordings import in_model_blocks
from routegate.load.suite import Suite
from routegate.load.tables import RECORDING_COLUMNS, RECORDING_OPTIONAL
from routegate.providers.endpoint import LiveOptions
from routegate.providers.live import LiveFactory, LiveProvider
from routegate.providers.retries import Outcome
from routegate.writer import write_parquet_atomic

JOURNAL = ".record-journal.jsonl"
SCHEMA = pa.schema([*RECORDING_COLUMNS.items(), *RECORDING_OPTIONAL.items()])


@dataclass(frozen=True)
class RecordStats:
    planned: int
    """Calls the run had to make (after --only-missing and the journal)."""
    resumed: int
    """Calls found finished in the journal of an interrupted run."""
    made: int
    failed: int


def journal_path(suite: Suite) -> Path:
    return suite.folder / JOURNAL


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The journal's complete lines; a torn last line (a kill mid-write) is dropped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "example_id" in row and "model" in row:
            rows.append(row)
    return rows


def repair_journal(path: Path) -> None:
    """Cut a torn last line (no newline: killed mid-write) so the next append starts on a line of its own."""
    if not path.exists():
        return
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):
        with path.open("r+b") as fh:
            fh.truncate(end)
            fh.flush()
            os.fsync(fh.fileno())


def outcome_row(example_id: str, model: str, out: Outcome) -> dict[str, Any]:
    return {
        "example_id": example_id,
        "model": model,
        "response": out.text,
        "input_tokens": out.input_tokens,
        "output_tokens": out.output_tokens,
        "latency_ms": out.latency_ms,
        "error": out.error,
        "confidence": None,
        "quality": None,
        "ttft_ms": None if math.isnan(out.ttft_ms) else out.ttft_ms,
        "finish_reason": out.finish_reason,
    }


def merge(recordings: pa.Table, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Recordings with ``rows`` added; a row replaces the recording of the same (example, model)."""
    new = pa.Table.from_pylist(list(rows), schema=SCHEMA)
    if not new.num_rows:
        return recordings.select(SCHEMA.names).cast(SCHEMA)
    # the last journal row of a pair wins (a pair journaled twice, e.g. re-recorded)
    key_new = pc.binary_join_element_wise(new.column("example_id"), new.column("model"), "\x00")
    _, last = np.unique(np.asarray(key_new.to_numpy(zero_copy_only=False))[::-1], return_index=True)
    new = new.take(pa.array(np.sort(new.num_rows - 1 - last)))
    key_new = pc.binary_join_element_wise(new.column("example_id"), new.column("model"), "\x00")
    old = recordings.select(SCHEMA.names).cast(SCHEMA)
    key_old = pc.binary_join_element_wise(old.column("example_id"), old.column("model"), "\x00")
    keep = pc.invert(pc.is_in(key_old, value_set=key_new))
    return pa.concat_tables([old.filter(keep), new])


def record_suite(
    suite: Suite,
    models: Sequence[str],
    catalog: Catalog,
    *,
    only_missing: bool = False,
    options: LiveOptions | None = None,
    retry: Retry | None = None,
    batch_size: int = 256,
) -> RecordStats:
    """Call every (example, model) pair still to record, journal each batch, merge atomically at the end."""
    unknown = [m for m in models if m not in catalog.models]
    if unknown:
        raise InputError(
            [Problem("<catalog>", 0, 0, "models", f"unknown model(s) {', '.join(unknown)}; not in the catalog")]
        )
    target = suite.folder / suite.manifest.recordings
    if target.suffix != ".parquet":
        raise InputError.single(str(target), "routegate record writes Parquet recordings only")
    journal = journal_path(suite)
    repair_journal(journal)
    done_rows = read_journal(journal)
    done = {(r["example_id"], r["model"]) for r in done_rows}
    ids = suite.examples.column("id").to_pylist()
    have: set[tuple[str, str]] = set()
    if only_missing:
        rec = suite.recordings
        have = set(zip(rec.column("example_id").to_pylist(), rec.column("model").to_pylist(), strict=True))
    todo: list[tuple[int, int]] = [
        (i, j)
        for j, model in enumerate(models)
        for i, example_id in enumerate(ids)
        if (example_id, model) not in done and (example_id, model) not in have
    ]
    fallback = Fallback(retry=retry or Retry(max_attempts=3))
    made = failed = 0
    with LiveFactory(options) as factory:
        provider = LiveProvider.build(factory, suite.column("examples", "messages"), tuple(models), catalog, fallback)
        with journal.open("a", encoding="utf-8") as fh:
            for start in range(0, len(todo), batch_size):
                chunk = todo[start : start + batch_size]
                request = np.array([c[0] for c in chunk], dtype=np.int64)
                model = np.array([c[1] for c in chunk], dtype=np.int64)
                outcomes = provider.fetch(request, model)
                lines = []
                for (i, j), out in zip(chunk, outcomes, strict=True):
                    lines.append(json.dumps(outcome_row(ids[i], models[j], out), ensure_ascii=False))
                    failed += bool(out.error)
                fh.write("\n".join(lines) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
                made += len(chunk)
                provider.outcomes.clear()
    merged = merge(suite.whole("recordings"), read_journal(journal))
    write_parquet_atomic(target, in_model_blocks(merged, suite.examples))  # the layout that loads fastest
    journal.unlink()
    return RecordStats(planned=len(todo), resumed=len(done), made=made, failed=failed)
