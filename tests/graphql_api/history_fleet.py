"""A small fleet with process history, written as the worker and the rollup would leave it:
process keys and interval CPU set on the rows, worked out by hand below."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import psycopg

from streams.sql import SUMMARIZE_MACHINES
from tests.conftest import make_partitions

__all__ = ["BUSY", "IDLE", "REUSED", "SERVICE", "insert_history_fleet"]

# The process keys (as the worker would derive them; any distinct numbers do here).
BUSY, IDLE, REUSED, SERVICE = 11, 12, 13, 21


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# machine_id, os_type, snapshot time, rows of (pid, process_key, name, user, command_line,
# rss_bytes, interval_seconds, interval_cpu_percent). m1 is seen on 1, 2 and 3 May; pid 200
# is reused at 01:00 on 2 May by another process (a new key); BUSY's user changes at 12:00.
_SNAPSHOTS: list[tuple[str, str, str, list[tuple[Any, ...]]]] = [
    ("m1", "linux", "2024-05-01T22:00:00", [
        (100, BUSY, "busy", "root", "busy --run", 1000, None, None),
        (200, IDLE, "idle", "root", "idle", 50, None, None),
    ]),
    ("m1", "linux", "2024-05-01T23:00:00", [
        (100, BUSY, "busy", "root", "busy --run", 1100, 3600, 50.0),
        (200, IDLE, "idle", "root", "idle", 50, 3600, 0.0),
    ]),
    ("m1", "linux", "2024-05-02T01:00:00", [
        (100, BUSY, "busy", "root", "busy --run", 4000, 7200, 25.0),
        (200, REUSED, "new", "alice", "new -x", 70, None, None),
    ]),
    ("m1", "linux", "2024-05-02T12:00:00", [
        (100, BUSY, "busy", "www", "busy --serve", 1200, 39600, 10.0),
        (200, REUSED, "new", "alice", "new -x", 80, 39600, 100.0),
    ]),
    ("m1", "linux", "2024-05-03T02:00:00", [
        (100, BUSY, "busy", "www", "busy --serve", 1300, 50400, 5.0),
    ]),
    ("m2", "windows", "2024-05-02T06:00:00", [
        (300, SERVICE, "svchost.exe", "SYSTEM", None, None, None, None),
    ]),
    ("m2", "windows", "2024-05-02T07:00:00", [
        (300, SERVICE, "svchost.exe", "SYSTEM", None, None, 3600, 20.0),
    ]),
]  # fmt: skip


def insert_history_fleet(database_url: str) -> None:
    """Store the fleet's snapshots and rows, none of them counted by the rollup yet."""
    with psycopg.connect(database_url) as conn:
        make_partitions(conn, *(_at(snapshot[2]) for snapshot in _SNAPSHOTS))
        for machine_id, os_type, timestamp, rows in _SNAPSHOTS:
            key = f"{machine_id}@{timestamp}"
            snapshot = conn.execute(
                """INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                       command_type, "timestamp", content_hash, schema_version, format,
                       process_count)
                   VALUES (%s, %s, %s, '1', 'ps', %s, %s, 1, 'ps aux', %s) RETURNING id""",
                (machine_id, f"{machine_id}-name", os_type, _at(timestamp),
                 hashlib.sha256(key.encode()).hexdigest(), len(rows)),
            ).fetchone()  # fmt: skip
            assert snapshot is not None
            for line, row in enumerate(rows, start=1):
                conn.execute(
                    """INSERT INTO processes (command_id, machine_id, observed_at, line_number,
                           pid, process_key, process_name, "user", command_line, rss_bytes,
                           interval_seconds, interval_cpu_percent)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                    (snapshot[0], machine_id, _at(timestamp), line, *row),
                )
                # Where the process was first seen, as the worker records it.
                conn.execute(
                    "INSERT INTO process_keys VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (row[1], machine_id, _at(timestamp)),
                )
        # And its machines, as the worker keeps them.
        conn.execute(SUMMARIZE_MACHINES)
