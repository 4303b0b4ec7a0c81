"""``make bench``: every benchmark, a table with the machine and input sizes, bench-results.json.

Figures are medians of a few runs (parsers) or one long run (ingest) on whatever machine this
is; compare runs on the same machine. ``--ingest-rows`` sets the ingest size (default 2,000,000
process rows), ``--skip-ingest`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from benchmarks.corpus_ps import CORPORA as PS_CORPORA
from benchmarks.corpus_tasklist import CORPORA as TASKLIST_CORPORA
from benchmarks.corpus_top import CORPORA as TOP_CORPORA
from benchmarks.corpus_windows_ps import CORPORA as WINDOWS_PS_CORPORA
from benchmarks.ingest import bench_ingest
from benchmarks.parsing import bench_parsers

RESULTS = Path("bench-results.json")
SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"
CORPORA = (*PS_CORPORA, *TOP_CORPORA, *TASKLIST_CORPORA, *WINDOWS_PS_CORPORA)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    """Run the benchmarks and report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--ingest-rows", type=int, default=2_000_000)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--server-url", default=SERVER_URL, help="PostgreSQL server to use")
    args = parser.parse_args()
    machine = _machine()
    print(f"machine: {machine}", flush=True)
    results: dict[str, float] = bench_parsers(CORPORA)
    if not args.skip_ingest:
        results |= bench_ingest(args.server_url, args.ingest_rows)
    print(f"{'figure':<44} {'value':>14}")
    for key, value in results.items():
        shown = f"{value:>14.2f}" if abs(value) < 100 else f"{value:>14,.0f}"
        print(f"{key:<44} {shown}")
    RESULTS.write_text(json.dumps({"machine": machine, **results}, indent=2) + "\n")
    print(f"written to {RESULTS}")
    return 0


sys.exit(main())
