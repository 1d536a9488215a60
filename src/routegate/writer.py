"""The one module that writes output files, always atomically.

Each file is written to a temporary sibling, flushed and fsynced, then renamed
over its target (``os.replace`` is atomic on POSIX), so a crash never leaves
a half-written report that looks complete. JSON is canonical: sorted keys,
no NaN (``allow_nan=False``: NaN becomes ``null`` first), floats rounded to 12
significant digits so that equal inputs give byte-identical files.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""Permissions of written files: what a plain open() would give (mkstemp's 0600 would hide reports)."""


def write_atomic(path: Path, fill: Callable[[str], object]) -> None:
    """Have ``fill`` write a temporary sibling of ``path``, fsync it, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        fill(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


ROW_GROUP_ROWS = 1 << 16
"""Rows per parquet row group: a reader that needs a few rows (a report's listed prompts and
answers) decodes 64Ki rows per row group it touches instead of the whole file."""


def write_parquet_atomic(path: Path, table: pa.Table, **options: Any) -> None:
    """``table`` as zstd parquet in row groups of ``ROW_GROUP_ROWS``; ``options`` go to ``pq.write_table``."""
    write_atomic(
        path, lambda tmp: pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS, **options)
    )


def clean_json(value: Any) -> Any:
    """NaN/inf -> None, floats rounded to 12 significant digits, tuples -> lists, recursively."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.12g}")
    if isinstance(value, Mapping):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return clean_json(value.item())
    return value


def dumps_json(value: Any) -> str:
    return json.dumps(clean_json(value), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomic(path: Path, value: Any) -> None:
    write_text_atomic(path, dumps_json(value))
