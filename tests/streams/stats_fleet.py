"""A small fleet for the processStats rollups, stored through the worker's writer: ps aux
listings of two machines across a UTC midnight, several users per program (python3 runs as
two users at once), CPU time growing so that the rows carry interval CPU; and what a fresh
GROUP BY of the stored rows gives, to hold the rollups to."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from procmon.envelope import Envelope, make_envelope
from streams.batch import PreparedBatch
from streams.history import ProcessHistory
from streams.writer import SnapshotWriter
from tests.streams.history_sequences import snapshot_of

__all__ = ["assert_same_rows", "fleet_envelopes", "fresh_rollup", "stored_rollup", "write"]

START = datetime(2026, 11, 27, 21, 50, tzinfo=UTC)
_HEADER = "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
_PROGRAMS = [("root", "sshd"), ("alice", "python3"), ("www", "python3"), ("www", "nginx")]


def fleet_envelopes() -> list[Envelope]:
    """Listings of m1 (labelled role=web, then role=db from its 20th) and m2, oldest first."""
    rng = random.Random(16)
    envelopes = []
    for machine in ("m1", "m2"):
        cpu = [0.0] * 6
        when = START
        for n in range(40):
            when += timedelta(minutes=rng.choice([7, 13, 29, 61]))
            lines = []
            for index in range(6):
                cpu[index] += 60 * rng.random()
                user, name = _PROGRAMS[index % len(_PROGRAMS)]
                if rng.random() < 0.15:
                    continue
                seconds = int(cpu[index])
                lines.append(
                    f"{user:<8}  {100 + index:6d} {rng.uniform(0, 90):4.1f} "
                    f"{rng.uniform(0, 9):4.1f}  10000 {rng.randrange(1000, 90000):5d} ?"
                    f"        S    {START:%H:%M}  {seconds // 60}:{seconds % 60:02d}"
                    f" /usr/bin/{name}"
                )
            labels = {"role": "web" if n < 20 else "db"} if machine == "m1" else None
            envelopes.append(
                make_envelope(
                    raw_output="\n".join([_HEADER, *lines]),
                    machine_id=machine,
                    machine_name=machine,
                    os_type="linux" if machine == "m1" else "freebsd",
                    os_version="1",
                    command_type="ps aux",
                    timestamp=when,
                    labels=labels,
                )
            )
    return envelopes


async def write(database_url: str, tmp_path: Path, batches: list[list[Envelope]]) -> None:
    """Store each batch through one writer (with process history), in the order given."""
    writer = SnapshotWriter(
        database_url,
        retry_attempts=1,
        parking_dir=tmp_path,
        history=ProcessHistory(max_gap_seconds=7200, memory_size=10),
    )
    for batch in batches:
        await writer.write(PreparedBatch(snapshots=[snapshot_of(e) for e in batch]))
    await writer.close()


_AGGREGATES = """count(*), sum(p.cpu_percent::float8), count(p.cpu_percent), max(p.cpu_percent),
    sum(p.memory_percent::float8), count(p.memory_percent), max(p.memory_percent),
    sum(p.rss_bytes), max(p.rss_bytes),
    sum(p.interval_cpu_percent::float8 * p.interval_seconds / 100),
    sum(p.interval_seconds::float8) FILTER (WHERE p.interval_cpu_percent IS NOT NULL),
    max(p.interval_cpu_percent)"""
_COLUMNS = """process_count, cpu_sum, cpu_count, cpu_max, memory_sum, memory_count, memory_max,
    rss_sum, rss_max, cpu_seconds, interval_seconds, interval_cpu_max"""


def fresh_rollup(database_url: str, unit: str, keys: str) -> dict[tuple[Any, ...], list[Any]]:
    """The GROUP BY of the stored rows per ``keys`` (of p and c) and UTC ``unit``: its
    aggregates and its distinct snapshots."""
    query = f"""SELECT c.machine_id, date_trunc('{unit}', c."timestamp" AT TIME ZONE 'UTC'),
        {keys}, {_AGGREGATES}, count(DISTINCT c.id)
        FROM commands AS c JOIN processes AS p ON p.command_id = c.id
        GROUP BY 1, 2, {", ".join(str(n + 3) for n in range(keys.count(",") + 1))}"""
    return _by_key(database_url, query, keys.count(",") + 3)


def stored_rollup(
    database_url: str, table: str, keys: str, snapshots: str
) -> dict[tuple[Any, ...], list[Any]]:
    """A rollup table's rows added up per ``keys`` of it, with ``snapshots`` summed."""
    sums = ", ".join(
        f"{'max' if column.strip().endswith('_max') else 'sum'}({column.strip()})"
        for column in _COLUMNS.split(",")
    )
    query = f"""SELECT machine_id, bucket_start AT TIME ZONE 'UTC', {keys}, {sums},
        sum({snapshots}) FROM {table}
        GROUP BY 1, 2, {", ".join(str(n + 3) for n in range(keys.count(",") + 1))}"""
    return _by_key(database_url, query, keys.count(",") + 3)


def _by_key(database_url: str, query: str, width: int) -> dict[tuple[Any, ...], list[Any]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(query).fetchall()
    return {tuple(row[:width]): list(row[width:]) for row in rows}


def assert_same_rows(actual: dict[Any, list[Any]], expected: dict[Any, list[Any]]) -> None:
    """The same keys and values; sums of doubles to 12 digits (they add in another order)."""
    assert actual.keys() == expected.keys()
    for key, values in expected.items():
        for got, want in zip(actual[key], values, strict=True):
            if isinstance(want, float) and isinstance(got, float):
                assert math.isclose(got, want, rel_tol=1e-12), (key, actual[key], values)
            else:
                assert got == want, (key, actual[key], values)
