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
from streams.sql import SNAPSHOT_HISTORY_ROWS
from streams.stored_history import StoredRow, stored_form

__all__ = ["check_fleet_history"]

_SNAPSHOTS = """
SELECT id, "timestamp" AS observed_at, content_hash FROM commands WHERE machine_id = %s
ORDER BY "timestamp", content_hash
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


def check_fleet_history(conn: psycopg.Connection[tuple[object, ...]], machine_id: str) -> int:
    """Link ``machine_id``'s stored snapshots as the worker would; raise ``ValueError`` at
    the first row whose key or interval values differ from the stored ones (as the worker
    compares them, at the columns' precision), or when ``process_keys`` does not say where
    each of its keys was first seen. Returns the rows checked."""
    with conn.cursor(row_factory=class_row(_Snapshot)) as cur:
        snapshots = cur.execute(_SNAPSHOTS, (machine_id,)).fetchall()
    rows: dict[int, list[StoredRow]] = {}
    with conn.cursor(row_factory=class_row(StoredRow)) as cur:
        named = ([s.id for s in snapshots], [s.observed_at for s in snapshots])
        for stored in cur.execute(SNAPSHOT_HISTORY_ROWS, named):
            rows.setdefault(stored.command_id, []).append(stored)
    previous: LinkedSnapshot | None = None
    checked = 0
    for snapshot in snapshots:
        stored_rows = rows.get(snapshot.id, [])
        place = SnapshotPlace(machine_id, snapshot.observed_at, snapshot.content_hash)
        values, previous = link_snapshot(place, stored_rows, previous, max_gap_seconds=_MAX_GAP)
        for row, linked in zip(stored_rows, values, strict=True):
            if row.history != stored_form(linked):
                raise ValueError(
                    f"the generated fleet's history is not the worker's: {machine_id} at"
                    f" {snapshot.observed_at}, pid {row.pid}: stored {row.history}, linked"
                    f" {stored_form(linked)}"
                )
            checked += 1
    differing = conn.execute(_KEYS, {"machine": machine_id}).fetchone()
    if differing is None or differing[0]:
        raise ValueError(f"process_keys and {machine_id}'s rows differ on {differing} keys")
    return checked
