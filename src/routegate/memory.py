"""Memory settings for the ``routegate`` process (the CLI calls ``tune_for_batch`` once, at start-up).

A replay allocates many large, short-lived arrays (8 MB per column at 1M requests). Two defaults
make the kernel hand out and zero fresh pages for each of them, and on the 2-core benchmark
machine that was a third of a 1M-request gate's time (system time, docs/performance.md):

* NumPy advises transparent huge pages for every array over 4 MiB, so each first touch zeroes a
  2 MiB page: ``NUMPY_MADVISE_HUGEPAGE=0`` turns that off (read when NumPy is first imported,
  which the commands do lazily, after this runs). An explicit setting in the environment wins.
* glibc serves allocations over a (dynamic) threshold with ``mmap`` and unmaps them on ``free``,
  so the next array of the same size faults its pages in again. ``mallopt`` raises that
  threshold to its maximum (32 MiB) and keeps freed heap memory instead of trimming it, so freed
  arrays' pages are reused. Peak memory stays the same (the memory is reused, not added).
* NumPy's import runs a small dot product as a self-check, which starts OpenBLAS's worker
  threads; they then spin for a while (~0.1 s of CPU) on the core the suite is being read on.
  routegate does no linear algebra, so ``OPENBLAS_NUM_THREADS=1`` (read at NumPy's import, an
  explicit setting wins) keeps OpenBLAS on the calling thread.

Only the process the CLI runs in is tuned; importing routegate as a library changes nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
"""mallopt(3) parameter numbers (glibc's malloc.h)."""
MMAP_THRESHOLD_MAX = 32 << 20
"""glibc's ceiling for M_MMAP_THRESHOLD on 64-bit systems."""
TRIM_THRESHOLD = (1 << 31) - 1
"""Keep up to 2 GiB of freed memory at the top of the heap (mallopt takes a C int)."""


def tune_for_batch() -> None:
    """Apply the settings above; a no-op where they do not exist (macOS, musl, Windows)."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
