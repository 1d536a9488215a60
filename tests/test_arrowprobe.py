"""pyarrow's pandas probe answered without importing pandas (``routegate.arrowprobe``), in a fresh
interpreter each: what the probe decides lasts for the process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


ANSWERED = """
import sys
import numpy as np, pyarrow as pa, pyarrow.compute as pc
from routegate.arrowprobe import answer_pandas_probe
answer_pandas_probe()
ids = pa.chunked_array([pa.array(["a", None, "c"])])
converted = [
    pa.array(np.arange(3.0)).to_pylist(),
    pa.array([1, None]).to_pylist(),
    pa.scalar("x").as_py(),
    pc.fill_null(ids, "").to_pylist(),
    pc.equal(pa.array(np.array([1, 2])), 2).to_pylist(),
]
print("pandas" in sys.modules, converted)
import pandas as pd  # still importable
frame = pa.table({"a": [1.0, None]}).to_pandas()  # an explicit pandas API imports it as usual
print(type(frame).__name__, pa.array(pd.Series([1.0, None])).null_count)
"""


def test_conversions_import_no_pandas_and_pandas_apis_still_work() -> None:
    first, second = _python(ANSWERED).splitlines()
    assert first == "False [[0.0, 1.0, 2.0], [1, None], 'x', ['a', '', 'c'], [False, True]]"
    # After the explicit API, a pandas Series is a pandas object again: its NaN becomes a null.
    assert second == "DataFrame 1"


ALREADY = """
import pandas as pd, pyarrow as pa
from routegate.arrowprobe import answer_pandas_probe
answer_pandas_probe()
print(pa.array(pd.Series([1.0, None])).null_count)
"""


def test_a_no_op_once_pandas_is_imported() -> None:
    """With pandas already imported, pyarrow's probe must find it: a Series' NaN is a null."""
    assert _python(ALREADY) == "1"


UNCLAIMED = """
import sys
import pyarrow as pa
import routegate.cli as cli
cli._start_batch(())
pa.scalar(0)
print("pandas" in sys.modules)
"""


def test_only_the_console_scripts_process_answers_it() -> None:
    """A process that did not claim itself (a test, a library calling the commands) keeps pyarrow's own probe."""
    assert _python(UNCLAIMED) == "True"


GATE = """
import sys
from routegate.cli import entry
sys.argv = ["routegate", *sys.argv[1:]]
entry()
"""


@pytest.mark.parametrize("command", ["gate", "run"])
def test_a_replaying_command_never_imports_pandas(command: str, tmp_path: Path) -> None:
    """The console script replays a bundled suite, writes its reports, and pandas is never imported
    (``-X importtime`` lists every module imported; a refused import shows as a bare line)."""
    suite = "eval_suites/routellm-mtbench"
    if command == "gate":
        args = ["gate", "--baseline", "policies/baseline.yaml", "--candidate", "policies/candidate.yaml"]
    else:
        args = ["run", "--policy", "policies/candidate.yaml"]
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", GATE, *args, "--suite", suite, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode in (0, 1), out.stderr
    imported = re.findall(r"\|\s*(\S+)$", out.stderr, flags=re.MULTILINE)
    assert "routegate.replay" in imported  # the listing is complete
    assert not [m for m in imported if m.startswith("pandas.")]
    assert (tmp_path / ("verdict.json" if command == "gate" else "summary.json")).exists()
