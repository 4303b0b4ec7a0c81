"""``make bench``: every benchmark, a table with the machine and input sizes, bench-results.json.

Parsers against jc (as functions, and ``procmon parse`` against ``jc`` as whole programs),
ingest against the COPY floor, the API's seven questions against their bare SQL (served by one
API process, then by two), after the daily rollup counted the API's fleet (timed);
``--skip-parsers``, ``--skip-programs``, ``--skip-ingest``, ``--skip-api`` leave one out,
``--api-machines``, ``--api-snapshots`` and ``--api-processes`` size the API's fleet (default
200 x 500 x 100).

``--growth`` runs only the growth benchmark (benchmarks.growth) at 10M and 100M process rows,
or at the sizes of ``--growth-rows``, and prints its table. ``--peers`` runs only procmon's API
beside PostGraphile v4 and v5 on the API's fleet (benchmarks.peers), ``--peer-requests`` a
server's requests per question and round (default 200).

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

from benchmarks.api import QUESTIONS, bench_api
from benchmarks.corpus_ps import CORPORA as PS_CORPORA
from benchmarks.corpus_tasklist import CORPORA as TASKLIST_CORPORA
from benchmarks.corpus_top import CORPORA as TOP_CORPORA
from benchmarks.corpus_windows_ps import CORPORA as WINDOWS_PS_CORPORA
from benchmarks.growth import bench_growth
from benchmarks.growth_figures import parse_sizes
from benchmarks.growth_table import print_growth_table
from benchmarks.ingest import bench_ingest
from benchmarks.parsing import bench_parsers
from benchmarks.peers import bench_peers, print_peers_table
from benchmarks.programs import bench_programs, print_programs_table
from history.linking import LINKER
from parsers.row_assembly import ASSEMBLER
from procmon.row_json import ROW_JSON
from streams.copy_rows import ENCODER

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
    # Which twins are used: the compiled ones, or the Python ones.
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" row assembler: {ASSEMBLER}, COPY encoder: {ENCODER}, linker: {LINKER},"
        f" parse's JSON writer: {ROW_JSON}"
    )


def _print_api_table(results: dict[str, float]) -> None:
    """The API's questions: p50 at 1 client uncached and cached, beside the bare SQL, and
    requests per second at 1 and 8 clients, and at 8 clients over 2 API processes; and the
    rollup of the fleet."""
    print(
        f"\nAPI on {results['api_fleet_process_rows']:,.0f} process rows"
        f" ({results['api_fleet_machines']:.0f} machines x"
        f" {results['api_fleet_snapshots_per_machine']:.0f} snapshots), rolled up in"
        f" {results['api_fleet_rollup_seconds']:.0f} s"
        f" ({results['api_fleet_rollup_snapshots_per_s']:,.0f} snapshots/s); a process row"
        f" costs {results['api_fleet_row_bytes_total']:.1f} bytes"
        f" (heap {results['api_fleet_row_bytes_heap']:.1f},"
        f" TOAST {results['api_fleet_row_bytes_toast']:.1f},"
        f" indexes {results['api_fleet_row_bytes_indexes']:.1f}); milliseconds:"
    )
    print(
        f"{'question':<32} {'SQL p50':>8} {'uncached p50/p95/p99':>22} {'cached p50/p95/p99':>20}"
    )
    print(f"{'':<32} {'':>8} {'(rps)':>22} {'(rps)':>20}")
    for question in QUESTIONS:
        key = f"api_{question.key}"

        def cell(kind: str, key: str = key) -> str:
            return "/".join(
                f"{results[f'{key}_{kind}_c1_{p}_ms']:.1f}" for p in ("p50", "p95", "p99")
            )

        def rps(kind: str, key: str = key) -> str:
            rates = (results[f"{key}_{kind}_{run}_rps"] for run in ("c1", "c8", "c8_w2"))
            return f"({' | '.join(f'{rate:.0f}' for rate in rates)})"

        print(
            f"{question.key:<32} {results[f'{key}_sql_p50_ms']:>8.2f} {cell('uncached'):>22}"
            f" {cell('cached'):>20}"
        )
        print(f"{'':<32} {'':>8} {rps('uncached'):>22} {rps('cached'):>20}")
    print(
        "rps: requests per second at 1 client | 8 clients | 8 clients over 2 API processes"
        f" (the busier one held {results['api_w2_busiest_process_connection_share']:.0%}"
        " of the 8 connections)"
    )


def main() -> int:
    """Run the benchmarks and report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--ingest-rows", type=int, default=2_000_000)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-parsers", action="store_true")
    parser.add_argument("--skip-programs", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--api-machines", type=int, default=200)
    parser.add_argument("--api-snapshots", type=int, default=500, help="per machine")
    parser.add_argument("--api-processes", type=int, default=100, help="per snapshot")
    parser.add_argument("--server-url", default=SERVER_URL, help="PostgreSQL server to use")
    parser.add_argument(
        "--growth", action="store_true", help="run only the growth benchmark (hours at 100M)"
    )
    parser.add_argument(
        "--growth-rows",
        type=parse_sizes,
        default=[10_000_000, 100_000_000],
        help="the growth benchmark's sizes in process rows, comma-separated"
        " (default 10000000,100000000)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="run only the API beside PostGraphile v4 and v5 (installed from npm into the cache)",
    )
    parser.add_argument(
        "--peer-requests", type=int, default=200, help="per server, question and round"
    )
    args = parser.parse_args()
    machine = _machine()
    print(f"machine: {machine}", flush=True)
    if args.peers:
        peers = bench_peers(
            args.server_url,
            args.api_machines,
            args.api_snapshots,
            args.api_processes,
            args.peer_requests,
        )
        print_peers_table(peers)
        _write({"machine": machine, **peers})
        return 0
    if args.growth:
        growth = bench_growth(args.server_url, args.growth_rows)
        print_growth_table(growth, args.growth_rows)
        _write({"machine": machine, **growth})
        return 0
    results: dict[str, float] = {} if args.skip_parsers else bench_parsers(CORPORA)
    if not args.skip_programs:
        results |= bench_programs(CORPORA)
    if not args.skip_ingest:
        results |= bench_ingest(args.server_url, args.ingest_rows)
    if not args.skip_api:
        results |= bench_api(
            args.server_url, args.api_machines, args.api_snapshots, args.api_processes
        )
    print(f"{'figure':<44} {'value':>14}")
    for key, value in results.items():
        shown = f"{value:>14.2f}" if abs(value) < 100 else f"{value:>14,.0f}"
        print(f"{key:<44} {shown}")
    if not args.skip_programs:
        print_programs_table(results)
    if not args.skip_api:
        _print_api_table(results)
    _write({"machine": machine, **results})
    return 0


def _write(results: dict[str, float | str]) -> None:
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


sys.exit(main())
