"""The CLI's process settings (NumPy's huge-page advice off, OpenBLAS on one thread, unless the
environment says otherwise) and ``zeros``, whose pages are written when it returns."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from routegate.zeros import zeros

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


def _resident_kib() -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_zeros_writes_its_pages_where_np_zeros_leaves_them_untouched() -> None:
    n = 5_000_000  # 40 MB, over glibc's largest mmap threshold: fresh pages from the kernel
    before = _resident_kib()
    lazy = np.zeros(n)
    after_lazy = _resident_kib()
    eager = zeros(n)
    after_eager = _resident_kib()
    assert after_lazy - before < 1024  # np.zeros: calloc'd pages not touched yet
    assert after_eager - after_lazy >= n * 8 // 1024 * 0.9  # zeros: every page written
    assert eager.dtype == np.float64
    assert not eager.any()
    assert not lazy.any()
    small = zeros((2, 3), np.int16)
    assert small.dtype == np.int16
    assert small.shape == (2, 3)
