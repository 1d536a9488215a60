"""The CLI's process settings (NumPy's huge-page advice off, OpenBLAS on one thread, unless the
environment says otherwise) and ``zeros``, whose pages are written when it returns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = (
    "import routegate.cli, numpy; "  # importing the CLI applies the settings, before NumPy loads
    "print(numpy._core.multiarray._get_madvise_hugepage())"
)


@pytest.mark.parametrize(("given", "expected"), [(None, "False"), ("1", "True"), ("0", "False")])
def test_cli_process_turns_off_numpy_huge_pages_unless_told(given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if given is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = given
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_library_import_changes_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    probe = "import routegate.suite, routegate.verdict, os; print(os.environ.get('NUMPY_MADVISE_HUGEPAGE'))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


def _threads_after_numpy_import(env: dict[str, str]) -> int:
    probe = "import routegate.cli, numpy; print(next(l for l in open('/proc/self/status') if l.startswith('Threads:')))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_cli_process_keeps_openblas_on_one_thread_unless_told() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert _threads_after_numpy_import(env) == 1  # no OpenBLAS worker threads spinning after the import
    assert _threads_after_numpy_import({**env, "OPENBLAS_NUM_THREADS": "2"}) == 2  # an explicit setting wins


ZEROS_PROBE = """
import numpy as np
from routegate.zeros import zeros

def rss():
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith("VmRSS:")).split()[1])

n = 5_000_000  # 40 MB, over glibc's largest mmap threshold: fresh pages from the kernel
before = rss()
lazy = np.zeros(n)
after_lazy = rss()
eager = zeros(n)
after_eager = rss()
assert eager.dtype == np.float64 and not eager.any() and not lazy.any()
small = zeros((2, 3), np.int16)
assert small.dtype == np.int16 and small.shape == (2, 3)
print(after_lazy - before, after_eager - after_lazy)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_zeros_writes_its_pages_where_np_zeros_leaves_them_untouched() -> None:
    """In a fresh process, so that no freed heap memory (kept resident, see routegate.memory) serves
    the arrays: np.zeros leaves calloc's pages untouched, zeros writes every one."""
    out = subprocess.run([sys.executable, "-c", ZEROS_PROBE], capture_output=True, text=True, check=True)
    lazy_kib, eager_kib = (int(v) for v in out.stdout.split())
    assert lazy_kib < 1024
    assert eager_kib >= 5_000_000 * 8 // 1024 * 0.9


def test_heap_estimate_scales_with_the_suites_data_files(tmp_path: Path) -> None:
    from routegate.memory import HEAP_PER_DATA_BYTE, PREWARM_MAX, heap_estimate

    suite = tmp_path / "s"
    suite.mkdir()
    (suite / "examples.parquet").write_bytes(b"x" * 1000)
    (suite / "recordings.jsonl").write_bytes(b"x" * 3000)
    (suite / "suite.yaml").write_text("name: s\n" * 100)  # not data
    assert heap_estimate([str(suite)]) == 4000 * HEAP_PER_DATA_BYTE
    assert heap_estimate([str(suite / "suite.yaml")]) == 4000 * HEAP_PER_DATA_BYTE  # the manifest names its folder
    assert heap_estimate([str(suite), str(tmp_path / "missing")]) == 4000 * HEAP_PER_DATA_BYTE
    big = tmp_path / "big"
    big.mkdir()
    with (big / "recordings.parquet").open("wb") as f:
        f.truncate(PREWARM_MAX)  # sparse: a size, not disk
    assert heap_estimate([str(big)]) <= PREWARM_MAX


PREWARM_PROBE = """
import numpy as np
from routegate.memory import PREWARM_MIN, prewarm_heap, tune_for_batch

def rss():
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith("VmRSS:")).split()[1]) // 1024

tune_for_batch()
assert prewarm_heap(PREWARM_MIN - 1) is None
before = rss()
prewarm_heap(256 << 20).join()
warmed = rss()
arrays = [np.ones(1 << 20) for _ in range(24)]  # 192 MB of 8 MB arrays, allocated by this thread
print(warmed - before, rss() - warmed)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc and /proc")
def test_prewarmed_heap_is_reused_by_other_threads_arrays() -> None:
    """The background thread's pages stay in the heap after it frees them (no trim), and arrays
    the main thread allocates later reuse them (one arena for every thread): no new pages."""
    out = subprocess.run([sys.executable, "-c", PREWARM_PROBE], capture_output=True, text=True, check=True)
    grown, later = (int(v) for v in out.stdout.split())
    assert grown >= 240  # MiB: every page written
    assert later < 32  # 192 MB of arrays, from the warmed pages


GC_PROBE = """
import gc, sys
import routegate.memory as memory
if sys.argv[1] == "claimed":
    memory.claim_process()
memory.pause_gc_for_imports()
paused = not gc.isenabled()
import routegate.verdict, routegate.html_report  # a command's bulk imports
frozen_before = gc.get_freeze_count()
memory.resume_gc_after_imports()
print(paused, gc.isenabled(), gc.get_freeze_count() > frozen_before)
"""


@pytest.mark.parametrize(("mode", "expected"), [("claimed", "True True True"), ("library", "False True False")])
def test_gc_pauses_for_imports_only_in_a_claimed_process(mode: str, expected: str) -> None:
    """The console script's process collects nothing while a command imports, then freezes what the
    imports made and collects again; a process that did not claim it (a test, a library) is untouched."""
    out = subprocess.run([sys.executable, "-c", GC_PROBE, mode], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


class _RecordingLibc:
    def __init__(self, madvise_result: int) -> None:
        self.result = madvise_result
        self.calls: list[tuple[str, int, int]] = []

    def madvise(self, address: int, size: int, advice: int) -> int:
        self.calls.append(("madvise", address, size))
        return self.result

    def memset(self, address: int, value: int, size: int) -> None:
        self.calls.append(("memset", address, size))


@pytest.mark.parametrize(("result", "expected"), [(0, ["madvise"]), (-1, ["madvise", "memset"])])
def test_populate_advises_whole_pages_and_writes_where_the_kernel_cannot(result: int, expected: list[str]) -> None:
    """MADV_POPULATE_WRITE over the whole pages of a block (Linux 5.14+); an older kernel says EINVAL,
    and the block is then written instead."""
    from routegate.memory import _populate

    libc = _RecordingLibc(result)
    _populate(libc, 4096 * 10 + 16, 4096 * 4)  # type: ignore[arg-type]
    assert [c[0] for c in libc.calls] == expected
    assert libc.calls[0][1:] == (4096 * 11, 4096 * 3)  # the pages wholly inside the block
    if result:
        assert libc.calls[1][1:] == (4096 * 10 + 16, 4096 * 4)
