"""Benchmark: `routegate check` on a copy of this repository with one production policy changed.

Usage: python benchmarks/bench_check.py [--repeat 5]
The repository's committed files are cloned into a temporary folder (`git clone`, no network), the
example pull request docs/changes/assistant-cheaper-math.patch is applied there (`git apply`), and
`routegate check --base HEAD` is timed in fresh processes (wall time from os.wait4). Target: under 5 s
on 2 cores (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    routegate = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        subprocess.run(
            ["git", "apply", str(ROOT / "docs" / "changes" / "assistant-cheaper-math.patch")], cwd=repo, check=True
        )
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = subprocess.run(
                [routegate, "check", "--base", "HEAD", "--out", str(Path(tmp) / "out")],
                cwd=repo,
                capture_output=True,
                text=True,
                env={**os.environ, "CI": "1"},
                check=False,
            )
            times.append(round(time.perf_counter() - start, 2))
            if done.returncode not in (0, 1):
                raise SystemExit(f"routegate check failed ({done.returncode}):\n{done.stderr}")
        gated = json.loads((Path(tmp) / "out" / "check.json").read_text())["gated"]
    print(json.dumps({"check_s_best": min(times), "check_s_by_round": times, "gated": [g["policy"] for g in gated]}))


if __name__ == "__main__":
    main()
