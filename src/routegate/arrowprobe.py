"""pyarrow's "is pandas here?" probe, answered without importing pandas (console script only).

Before pyarrow converts a Python or NumPy value (``pa.array``, ``pa.scalar``, a compute
function's Python argument such as ``pc.fill_null(ids, "")``), it asks whether the value is a
pandas object, and the first time it asks by importing pandas. At a 1M-request gate that import
cost 0.13-0.15 s of CPU, and it held Python's import lock while the suite's other loading thread
waited on it (docs/performance.md). A replaying command hands pyarrow no pandas object, so the
answer it needs is "no".

``answer_pandas_probe`` gives that answer once: it asks pyarrow's probe while ``import pandas``
raises ``ModuleNotFoundError`` (a meta path finder, removed at once), and pyarrow notes pandas
as absent for its implicit checks. pandas itself stays importable, and pyarrow's explicit pandas
APIs (``Table.to_pandas``, ``Table.from_pandas``) import it as usual and from then on treat
pandas objects as pandas objects again. Until one does, ``pa.array`` would take a pandas object
for a plain sequence, which is why only the console script's process does this, for its
replaying commands (``memory.claim_process``), and the importers, which do use pandas, never.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _RefusePandas:
    """A meta path finder for which pandas is not installed."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name == "pandas":
            raise ModuleNotFoundError("pyarrow's probe is answered without pandas", name=name)
        return None


def answer_pandas_probe() -> None:
    """Let pyarrow's first pandas probe find no pandas (see above); a no-op once pandas is imported."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    refuse = _RefusePandas()
    sys.meta_path.insert(0, refuse)
    try:
        pa.scalar(0)  # not an ndarray: pyarrow asks whether it is a pandas object
    finally:
        sys.meta_path.remove(refuse)
