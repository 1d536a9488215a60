"""``zeros``: ``np.zeros`` for accumulators, with every page written at once.

``np.zeros`` gets fresh pages from ``calloc`` untouched. An accumulator (``total[rows] += x``,
``mask |= hit``) reads before it writes: the first read maps the kernel's shared zero page, and
the first write then replaces it, which in a process with more than one running thread flushes
the other CPUs' TLBs (an inter-processor interrupt per 4 KiB page; in a virtual machine each one
exits to the hypervisor). A 1M-request gate, whose two replays run on two threads, did ~16,000
such flushes before this; see docs/performance.md. Writing the zeros first costs one memset.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike


def zeros(shape: int | tuple[int, ...], dtype: DTypeLike = float) -> np.ndarray:
    """An array of zeros whose pages are already written (see the module docstring)."""
    return np.full(shape, 0, dtype=dtype)
