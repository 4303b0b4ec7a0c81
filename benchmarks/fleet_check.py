"""The generated fleet's history checked against the worker's rule, on one machine.

The fleet's keys and interval values are derived in SQL from how its processes were made,
not by the linker: this reads one machine's snapshots back in time order, links them with
:func:`history.link_snapshot` as the worker would, and refuses the fleet where any row
differs, so that the questions are never timed on history the worker would not have stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from history import LinkedSnapshot, SnapshotPlace, link_snapshot
from procmon.settings import Settings

__all__ = ["check_fleet_history"]

_SNAPSHOTS = """
SELECT id, "timestamp" AS observed_at, content_hash FROM commands WHERE machine_id = %s
ORDER BY "timestamp", content_hash
"""
_ROWS = """
SELECT command_id, pid, process_name, start_time, start_time_precision, cpu_time_seconds,
       truncated_fields, process_key, interval_seconds, interval_cpu_percent
FROM processes WHERE machine_id = %s ORDER BY command_id, line_number
"""
# The machine's keys as its rows have them, beside where process_keys says each was first seen.
_KEYS = """
SELECT count(*) FROM (
    SELECT process_key, min(observed_at) AS first_seen FROM processes
    WHERE machine_id = %(machine)s AND process_key IS NOT NULL GROUP BY process_key
) AS seen
FULL JOIN (SELECT * FROM process_keys WHERE machine_id = %(machine)s) AS k USING (process_key)
WHERE seen.first_seen IS DISTINCT FROM k.first_seen
"""
# The worker's default: the fleet's snapshots are 20 minutes apart, well within it.
_MAX_GAP = float(Settings.model_fields["history_max_gap"].default)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    id: int
    observed_at: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored row: what linking reads of it, and the history the fleet gave it."""

    command_id: int
    pid: int
    process_name: str
    start_time: datetime | None
    start_time_precision: float | None
    cpu_time_seconds: float | None
    truncated_fields: list[str]
    process_key: int | None
    interval_seconds: float | None
    interval_cpu_percent: float | None


def _close(stored: float | None, linked: float | None) -> bool:
    """Equal, as a real column holds a float: both None, or within a part in a million."""
    if stored is None or linked is None:
        return stored is linked
    return abs(stored - linked) <= 1e-6 * max(abs(linked), 1.0)


def check_fleet_history(conn: psycopg.Connection[tuple[object, ...]], machine_id: str) -> int:
    """Link ``machine_id``'s stored snapshots as the worker would; raise ``ValueError`` at
    the first row whose key or interval values differ from the stored ones, or when
    ``process_keys`` does not say where each of its keys was first seen. Returns the rows
    checked."""
    rows: dict[int, list[_Stored]] = {}
    with conn.cursor(row_factory=class_row(_Stored)) as cur:
        for row in cur.execute(_ROWS, (machine_id,)):
            rows.setdefault(row.command_id, []).append(row)
    with conn.cursor(row_factory=class_row(_Snapshot)) as cur:
        snapshots = cur.execute(_SNAPSHOTS, (machine_id,)).fetchall()
    previous: LinkedSnapshot | None = None
    checked = 0
    for snapshot in snapshots:
        stored = rows.get(snapshot.id, [])
        place = SnapshotPlace(machine_id, snapshot.observed_at, snapshot.content_hash)
        values, previous = link_snapshot(place, stored, previous, max_gap_seconds=_MAX_GAP)
        for row, (key, seconds, percent) in zip(stored, values, strict=True):
            if (
                row.process_key != key
                or not _close(row.interval_seconds, seconds)
                or not _close(row.interval_cpu_percent, percent)
            ):
                raise ValueError(
                    f"the generated fleet's history is not the worker's: {machine_id} at"
                    f" {snapshot.observed_at}, pid {row.pid}: stored {row}, linked"
                    f" {(key, seconds, percent)}"
                )
            checked += 1
    differing = conn.execute(_KEYS, {"machine": machine_id}).fetchone()
    if differing is None or differing[0]:
        raise ValueError(f"process_keys and {machine_id}'s rows differ on {differing} keys")
    return checked
