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
* glibc gives each thread that allocates its own arena, whose freed memory only that thread's
  later allocations reuse; ``M_ARENA_MAX=1`` gives every thread the one heap, so memory freed by
  one (a gate's two replay threads, the loader's pool) serves all.

``prewarm_heap`` then writes, on a background thread, as much heap as a replay over the given
suites will want, and frees it: the first touch of those pages (a fault and a zeroed page each)
happens on a core that is otherwise idle while the command imports its modules, instead of in
the middle of the work, and the heap keeps them for the arrays that follow (the JVM's
``-XX:+AlwaysPreTouch``, sized by ``heap_estimate``). At 1M requests it takes ~150,000 page
faults out of a gate (docs/performance.md).

The console script also pauses the cyclic garbage collector while a replaying command imports
its modules (``pause_gc_for_imports``): imports make a few hundred thousand objects and almost no
garbage, and the collector would traverse them all, three generations deep, on the one busy
thread (~0.03 s). ``resume_gc_after_imports`` then moves them into the permanent generation
(``gc.freeze``: later collections skip them) and turns the collector back on. Only in a process
the console script owns (``claim_process``): a test calling the commands in-process keeps its GC.

Only the process the CLI runs in is tuned; importing routegate as a library changes nothing.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
"""mallopt(3) parameter numbers (glibc's malloc.h)."""
MMAP_THRESHOLD_MAX = 32 << 20
"""glibc's ceiling for M_MMAP_THRESHOLD on 64-bit systems."""
TRIM_THRESHOLD = (1 << 31) - 1
"""Keep up to 2 GiB of freed memory at the top of the heap (mallopt takes a C int)."""


HEAP_PER_DATA_BYTE = 4
"""Heap a replay wants per byte of suite data files (parquet at 1M requests: ~120 MB of files)."""
PREWARM_MIN = 64 << 20
"""Below this, not worth a thread: small suites touch little memory."""
PREWARM_MAX = 1 << 30
"""At most this much (and at most a quarter of the memory available)."""
PREWARM_BLOCK = 16 << 20
"""Written in blocks under the mmap threshold, so that they come from (and go back to) the heap."""


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt  # noqa: B018 - glibc only (not musl)
    except (OSError, AttributeError):
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.madvise.restype = ctypes.c_int
    return libc


def tune_for_batch() -> None:
    """Apply the settings above; a no-op where they do not exist (macOS, musl, Windows)."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    libc = _libc()
    if libc is None:
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)
    libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    libc.mallopt(M_ARENA_MAX, 1)


def heap_estimate(suite_folders: Iterable[str]) -> int:
    """Bytes of heap a replay over these suite folders will want: ``HEAP_PER_DATA_BYTE`` times the
    size of their data files, within ``PREWARM_MAX`` and a quarter of the memory available (0 when
    nothing can be read: loading reports that)."""
    total = 0
    for folder in suite_folders:
        path = Path(folder)
        path = path.parent if path.is_file() else path
        try:
            total += sum(f.stat().st_size for f in path.iterdir() if f.suffix in (".parquet", ".jsonl"))
        except OSError:
            continue
    return min(total * HEAP_PER_DATA_BYTE, PREWARM_MAX, _available_memory() // 4)


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


MADV_POPULATE_WRITE = 23
"""madvise(2): fault the range in, writable, in the kernel (Linux 5.14+)."""
PAGE = 4096


def _populate(libc: ctypes.CDLL, address: int, size: int) -> None:
    """Fault in the pages of ``[address, address + size)`` for writing: ``MADV_POPULATE_WRITE`` on the
    whole pages inside (no user-space fault per page: ~20% faster), else writing them (``memset``)."""
    start = -(-address // PAGE) * PAGE
    end = (address + size) // PAGE * PAGE
    if end <= start or libc.madvise(start, end - start, MADV_POPULATE_WRITE) != 0:
        libc.memset(address, 0, size)


def prewarm_heap(nbytes: int) -> threading.Thread | None:
    """Fault in ``nbytes`` of heap on a background thread, then free it (kept: ``M_TRIM_THRESHOLD``);
    the thread, or ``None`` when there is nothing to do (too little, or not glibc)."""
    libc = _libc()
    if libc is None or nbytes < PREWARM_MIN:
        return None

    def touch() -> None:  # ctypes releases the GIL around each call
        blocks = [libc.malloc(PREWARM_BLOCK) for _ in range(nbytes // PREWARM_BLOCK)]
        for block in blocks:
            if block:
                _populate(libc, block, PREWARM_BLOCK)
        for block in blocks:
            libc.free(block)

    thread = threading.Thread(target=touch, name="prewarm", daemon=True)
    thread.start()
    return thread


_PROCESS: dict[str, bool] = {"owned": False}
"""Whether the process is one command's alone (set by the console script, ``routegate.cli.entry``)."""


def claim_process() -> None:
    """The process runs one command and ends (the console script): process-wide start-up tuning applies."""
    _PROCESS["owned"] = True


def claimed() -> bool:
    """Whether ``claim_process`` ran: the process is the console script's."""
    return _PROCESS["owned"]


def pause_gc_for_imports() -> None:
    """Before a command's bulk imports, in a claimed process: the cyclic GC off (see above)."""
    if _PROCESS["owned"]:
        gc.disable()


def resume_gc_after_imports() -> None:
    """After them: what they made into the permanent generation, and the cyclic GC back on."""
    if _PROCESS["owned"] and not gc.isenabled():
        gc.freeze()
        gc.enable()
