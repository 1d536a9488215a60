"""Benchmark: `routegate run` on a seeded synthetic suite vs reading the same data with pyarrow alone.

Usage: python benchmarks/bench_run.py [--sizes 1000000 ...] [--out docs/performance-run.json]
Each measurement runs in a fresh subprocess; wall time and peak RSS come from os.wait4.
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
        from routegate.synth import write_synthetic_suite

        print(f"generating {n:,} requests ...", flush=True)
        write_synthetic_suite(folder, n)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=CACHE / "bench-run.json")
    args = parser.parse_args()
    routegate = shutil.which("routegate") or str(Path(sys.executable).parent / "routegate")
    rows = []
    for n in args.sizes:
        folder = suite_for(n)
        reads = [measure([sys.executable, "-c", READ_SNIPPET, str(folder)]) for _ in range(args.repeat)]
        arrow_bytes = int(reads[0][2].strip())
        out_dir = CACHE / f"out-{n}"
        runs = [
            measure(
                [
                    routegate,
                    "run",
                    "--policy",
                    str(folder / "policy.yaml"),
                    "--suite",
                    str(folder),
                    "--out",
                    str(out_dir),
                    "--no-progress",
                ]
            )
            for _ in range(args.repeat)
        ]
        gate_dir = CACHE / f"gate-{n}"
        gate_cmd = [
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
        ]
        gates = [measure(gate_cmd, ok=(0, 1)) for _ in range(args.repeat)]
        drill_cmd = [
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
        ]
        drills = [measure(drill_cmd) for _ in range(args.repeat)]
        drill_s = min(r[0] for r in drills)
        read_s = min(r[0] for r in reads)
        run_s = min(r[0] for r in runs)
        gate_s = min(r[0] for r in gates)
        row = {
            "requests": n,
            "recordings": n * 4,
            "arrow_mib": round(arrow_bytes / 2**20, 1),
            "read_s": round(read_s, 2),
            "read_peak_rss_mib": round(min(r[1] for r in reads), 1),
            "run_s": round(run_s, 2),
            "run_peak_rss_mib": round(min(r[1] for r in runs), 1),
            "run_over_read": round(run_s / read_s, 2),
            "rss_over_arrow": round(min(r[1] for r in runs) / (arrow_bytes / 2**20), 2),
            "gate_s": round(gate_s, 2),
            "gate_peak_rss_mib": round(min(r[1] for r in gates), 1),
            "gate_over_read": round(gate_s / read_s, 2),
            "drill_s": round(drill_s, 2),
            "drill_peak_rss_mib": round(min(r[1] for r in drills), 1),
            "drill_over_run": round(drill_s / run_s, 2),
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
