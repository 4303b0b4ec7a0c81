"""The machines as a fresh aggregate of ``commands`` says they are, beside the machines table,
and both as the API's ``machines`` answer would show them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

__all__ = ["MACHINES_ANSWER", "as_answer", "fresh_machines", "stored_machines"]

# Every column of the machines table, in order.
_COLUMNS = """machine_id, machine_name, os_type, os_version, labels, cpu_count, first_seen,
              last_seen, latest_snapshot_id, latest_content_hash, snapshot_count"""

# Written apart from the worker's statements, so as not to share a mistake with them: each
# machine's latest snapshot by ("timestamp", content_hash), as the API grouped commands for
# every request before the table.
_FRESH = f"""
SELECT {_COLUMNS} FROM (
    SELECT DISTINCT ON (machine_id) machine_id, machine_name, os_type, os_version, labels,
           cpu_count, min("timestamp") OVER machine AS first_seen, "timestamp" AS last_seen,
           id AS latest_snapshot_id, content_hash AS latest_content_hash,
           count(*) OVER machine AS snapshot_count
    FROM commands
    WINDOW machine AS (PARTITION BY machine_id)
    ORDER BY machine_id, "timestamp" DESC, content_hash DESC
) AS fresh
ORDER BY machine_id
"""
_STORED = f"SELECT {_COLUMNS} FROM machines ORDER BY machine_id"

# What the answer compared shows of each machine.
MACHINES_ANSWER = """{ machines { machineId machineName osType osVersion labels firstSeen lastSeen
                                  snapshotCount latestSnapshot { id cpuCount } } }"""

Machines = list[tuple[Any, ...]]


def fresh_machines(database_url: str) -> Machines:
    """Each machine's row as a fresh aggregate of its stored snapshots makes it."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(_FRESH).fetchall()


def stored_machines(database_url: str) -> Machines:
    """The rows of the machines table."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(_STORED).fetchall()


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def as_answer(machines: Machines) -> dict[str, Any]:
    """The API's answer to :data:`MACHINES_ANSWER` for these rows (ordered by name, then id)."""
    ordered = sorted(machines, key=lambda row: (row[1], row[0]))
    return {
        "machines": [
            {
                "machineId": machine_id,
                "machineName": name,
                "osType": os_type,
                "osVersion": os_version,
                "labels": labels,
                "firstSeen": _time(first_seen),
                "lastSeen": _time(last_seen),
                "snapshotCount": count,
                "latestSnapshot": {"id": str(latest_id), "cpuCount": cpu_count},
            }
            for (machine_id, name, os_type, os_version, labels, cpu_count, first_seen,
                 last_seen, latest_id, _, count) in ordered
        ]
    }  # fmt: skip
