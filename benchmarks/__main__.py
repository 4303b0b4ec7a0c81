"""Run every benchmark, print a table with the machine and input sizes, write bench-results.json.

Figures are medians of a few runs on whatever machine this is; compare runs on the same machine.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks.corpus import ps_aux_listing
from benchmarks.parsing import median_seconds
from parsers import parse_listing
from procmon.database import create_database, drop_database, migrate
from procmon.envelope import make_envelope
from streams.batch import PreparedBatch, RawMessage, Snapshot
from streams.writer import SnapshotWriter

RESULTS = Path("bench-results.json")
SERVER_URL = os.environ.get("PROCMON_BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/test")
PARSE_LINES = 200_000
WRITE_SNAPSHOTS = 400
PROCESSES_PER_SNAPSHOT = 150
OBSERVED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def bench_parse() -> dict[str, float]:
    """Lines per second of the `ps aux` parser on a large listing."""
    listing = ps_aux_listing(PARSE_LINES)

    def run() -> None:
        parse_listing(listing, os_type="linux", command="ps aux", observed_at=OBSERVED_AT)

    seconds = median_seconds(run)
    return {"parse_ps_aux_lines": PARSE_LINES, "parse_ps_aux_lines_per_s": PARSE_LINES / seconds}


def _snapshots() -> list[Snapshot]:
    snapshots = []
    for n in range(WRITE_SNAPSHOTS):
        raw = ps_aux_listing(PROCESSES_PER_SNAPSHOT, seed=n)
        envelope = make_envelope(
            raw_output=raw,
            machine_id=f"bench-{n % 20}",
            machine_name=f"bench-{n % 20}",
            os_type="linux",
            os_version="6.1",
            command_type="ps aux",
            timestamp=OBSERVED_AT + timedelta(minutes=n),
        )
        listing = parse_listing(raw, os_type="linux", command="ps aux", observed_at=OBSERVED_AT)
        message = RawMessage("bench", 0, n, envelope.key, b"")
        snapshots.append(Snapshot(envelope=envelope, listing=listing, message=message))
    return snapshots


async def _write(url: str, snapshots: list[Snapshot]) -> float:
    writer = SnapshotWriter(url, retry_attempts=1)
    started = time.perf_counter()
    for start in range(0, len(snapshots), 50):
        await writer.write(PreparedBatch(snapshots=snapshots[start : start + 50]))
    elapsed = time.perf_counter() - started
    await writer.close()
    return elapsed


def bench_write() -> dict[str, float]:
    """Process rows per second of the worker's batch writer into the full schema."""
    import asyncio

    from psycopg.conninfo import make_conninfo

    snapshots = _snapshots()
    rows = sum(len(s.rows) for s in snapshots)
    url = make_conninfo(SERVER_URL, dbname=f"procmon_bench_{os.getpid()}")
    create_database(url)
    try:
        migrate(url)
        timings = []
        for _ in range(3):
            with psycopg.connect(url) as conn:
                conn.execute("TRUNCATE commands, processes RESTART IDENTITY CASCADE")
            timings.append(asyncio.run(_write(url, snapshots)))
    finally:
        drop_database(url)
    return {"write_process_rows": rows, "write_rows_per_s": rows / statistics.median(timings)}


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
    results: dict[str, float] = {}
    results |= bench_parse()
    results |= bench_write()
    print(f"machine: {_machine()}")
    print(f"{'figure':<32} {'value':>14}")
    for key, value in results.items():
        print(f"{key:<32} {value:>14,.0f}")
    RESULTS.write_text(
        json.dumps({"machine": _machine(), **results}, indent=2) + "\n", encoding="utf-8"
    )
    print(f"written to {RESULTS}")
    return 0


sys.exit(main())
