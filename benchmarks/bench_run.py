"""Benchmark: `routegate run` on a seeded synthetic suite vs reading the same data with pyarrow alone.

Usage: python benchmarks/bench_run.py [--sizes 1000000 ...] [--out docs/performance-run.json]
Each measurement runs in a fresh subprocess; wall time and peak RSS come from os.wait4. The commands
are measured round-robin (read, run, gate, drill; --repeat rounds, default 5): each figure is the best
round, and the gate's ratio to the read is also kept round by round.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"

READ_SNIPPET = """
import sys, pyarrow.parquet as pq
ex = pq.read_table(sys.argv[1] + '/examples.parquet')
rec = pq.read_table(sys.argv[1] + '/recordings.parquet')
print(ex.nbytes + rec.nbytes)
"""


def measure(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of one subprocess; exit codes in ``ok`` count as success."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "CI": "1"})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd} failed ({proc.returncode}):\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def suite_for(n: int) -> Path:
    """The cached synthetic suite of ``n`` requests, (re)generated when missing or written with
    another row-group size than ``routegate.writer`` uses now (an older cache)."""
    import pyarrow.parquet as pq

    from routegate.writer import ROW_GROUP_ROWS

    folder = CACHE / f"synthetic-{n}"
    current = (folder / "suite.yaml").exists() and (
        pq.ParquetFile(folder / "examples.parquet").metadata.row_group(0).num_rows == min(n, ROW_GROUP_ROWS)
    )
    if not current:
        from routegate.importers.synthetic import write_synthetic_suite

        print(f"generating {n:,} requests ...", flush=True)
        write_synthetic_suite(folder, n)
    return folder


def per_round(times: list[tuple[float, float, str]], over: list[tuple[float, float, str]]) -> list[float]:
    """Round by round, the ratio of two commands' wall times."""
    return [round(a[0] / b[0], 2) for a, b in zip(times, over, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=CACHE / "bench-run.json")
    args = parser.parse_args()
    routegate = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")
    rows = []
    for n in args.sizes:
        folder = suite_for(n)
        gate_dir = CACHE / f"gate-{n}"
        commands: dict[str, tuple[list[str], tuple[int, ...]]] = {
            "read": ([sys.executable, "-c", READ_SNIPPET, str(folder)], (0,)),
            "run": (
                [
                    routegate,
                    "run",
                    "--policy",
                    str(folder / "policy.yaml"),
                    "--suite",
                    str(folder),
                    "--out",
                    str(CACHE / f"out-{n}"),
                    "--no-progress",
                ],
                (0,),
            ),
            "gate": (
                [
                    routegate,
                    "gate",
                    "--baseline",
                    str(folder / "policy.yaml"),
                    "--candidate",
                    str(folder / "candidate.yaml"),
                    "--suite",
                    str(folder),
                    "--out",
                    str(gate_dir),
                    "--no-progress",
                ],
                (0, 1),
            ),
            "drill": (
                [
                    routegate,
                    "drill",
                    "--policy",
                    str(folder / "policy.yaml"),
                    "--suite",
                    str(folder),
                    "--scenario",
                    "alpha-down-2h",
                    "--out",
                    str(CACHE / f"drill-{n}"),
                    "--no-progress",
                ],
                (0,),
            ),
        }
        # Round-robin: each round measures every command once, one after the other, so that a command
        # and the read it is compared with see the same state of the machine (its speed drifts over
        # minutes); the figures are the best round of each, and the ratios per round are kept too.
        timings: dict[str, list[tuple[float, float, str]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, (cmd, ok) in commands.items():
                timings[name].append(measure(cmd, ok=ok))
        arrow_bytes = int(timings["read"][0][2].strip())
        best = {name: min(t[0] for t in found) for name, found in timings.items()}
        rss = {name: min(t[1] for t in found) for name, found in timings.items()}

        row = {
            "requests": n,
            "recordings": n * 4,
            "arrow_mib": round(arrow_bytes / 2**20, 1),
            "rounds": args.repeat,
            "read_s": round(best["read"], 2),
            "read_peak_rss_mib": round(rss["read"], 1),
            "run_s": round(best["run"], 2),
            "run_peak_rss_mib": round(rss["run"], 1),
            "run_over_read": round(best["run"] / best["read"], 2),
            "rss_over_arrow": round(rss["run"] / (arrow_bytes / 2**20), 2),
            "gate_s": round(best["gate"], 2),
            "gate_peak_rss_mib": round(rss["gate"], 1),
            "gate_over_read": round(best["gate"] / best["read"], 2),
            "gate_over_read_by_round": per_round(timings["gate"], timings["read"]),
            "drill_s": round(best["drill"], 2),
            "drill_peak_rss_mib": round(rss["drill"], 1),
            "drill_over_run": round(best["drill"] / best["run"], 2),
            "seconds_by_round": {name: [round(t[0], 2) for t in found] for name, found in timings.items()},
            "report_html_kib": round((gate_dir / "report.html").stat().st_size / 1024, 1),
            "summary_md_chars": len((gate_dir / "summary.md").read_text()),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
                "rows": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
