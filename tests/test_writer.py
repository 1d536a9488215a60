"""Atomic writes: a failure half-way leaves the old file (or nothing), never a partial one."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pyarrow as pa
import pytest

from routegate.writer import dumps_json, write_atomic, write_parquet_atomic, write_text_atomic


def test_a_crash_while_writing_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    write_text_atomic(target, "complete v1")

    def crash(tmp: str) -> None:
        Path(tmp).write_text("half of v2")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, crash)
    assert target.read_text() == "complete v1"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temporary file left behind


def test_files_are_readable_like_plain_files(tmp_path: Path) -> None:
    write_parquet_atomic(tmp_path / "t.parquet", pa.table({"a": [1, 2]}))
    write_text_atomic(tmp_path / "s.md", "x")
    umask = os.umask(0)
    os.umask(umask)
    for name in ("t.parquet", "s.md"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name  # not mkstemp's 0600


def test_json_is_canonical_and_has_no_nan() -> None:
    text = dumps_json({"b": math.nan, "a": [1.0000000000001234, math.inf], "c": (1, 2)})
    assert json.loads(text) == {"a": [1.0, None], "b": None, "c": [1, 2]}
    assert text.index('"a"') < text.index('"b"') < text.index('"c"')
