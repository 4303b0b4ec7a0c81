"""Linking every stored snapshot of machines again, oldest first: ``procmon relink``.

For rows stored before process history existed (they have no key), and after a change of
``PROCMON_HISTORY_MAX_GAP``. One transaction per machine, under the lock the worker's writers
of that machine take, so it can run beside live workers; only rows whose history changes are
written, and the rollup counts again the days it had counted of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from history import LinkedSnapshot, SnapshotPlace, link_snapshot
from streams.sql import (
    INSERT_PROCESS_KEYS,
    LOCK_MACHINES,
    MACHINE_IDS,
    MACHINE_SNAPSHOTS,
    as_columns,
)
from streams.stored_history import (
    Cursor,
    StoredSnapshot,
    forget_rewritten,
    read_rows,
    stored_form,
    update_history,
)

__all__ = ["relink_machines"]

# Snapshots whose rows are read back at once.
_CHUNK = 200


async def relink_machines(
    database_url: str, *, max_gap_seconds: float, machines: Sequence[str] = ()
) -> tuple[int, int]:
    """Link again every snapshot of ``machines`` (every machine when empty); return how many
    machines and how many rows changed."""
    changed_rows = 0
    conn: psycopg.AsyncConnection[Any]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        if not machines:
            machines = [row[0] for row in await (await conn.execute(MACHINE_IDS)).fetchall()]
        for machine_id in machines:
            async with conn.transaction(), conn.cursor() as cur:
                changed_rows += await _relink_machine(cur, machine_id, max_gap_seconds)
    return len(machines), changed_rows


async def _relink_machine(cur: Cursor, machine_id: str, max_gap_seconds: float) -> int:
    await cur.execute(LOCK_MACHINES, ([machine_id],))
    await cur.execute(MACHINE_SNAPSHOTS, (machine_id,))
    snapshots: list[tuple[int, datetime, str]] = await cur.fetchall()
    previous: LinkedSnapshot | None = None
    rewritten: set[StoredSnapshot] = set()
    firsts: list[tuple[int, str, datetime]] = []
    changed_rows = 0
    for start in range(0, len(snapshots), _CHUNK):
        chunk = snapshots[start : start + _CHUNK]
        rows_of = await read_rows(cur, [(command_id, at) for command_id, at, _ in chunk])
        for command_id, observed_at, content_hash in chunk:
            place = SnapshotPlace(machine_id, observed_at, content_hash)
            rows = rows_of.get(command_id, [])
            values, previous = link_snapshot(place, rows, previous, max_gap_seconds=max_gap_seconds)
            firsts += ((key, machine_id, observed_at) for key in previous.new_keys)
            changed = [
                (row.line_number, *new)
                for row, new in zip(rows, values, strict=True)
                if row.history != stored_form(new)
            ]
            if changed:
                await update_history(cur, (command_id, observed_at), changed)
                rewritten.add((command_id, observed_at))
                changed_rows += len(changed)
    if firsts:
        await cur.execute(INSERT_PROCESS_KEYS, as_columns(firsts))
    if rewritten:
        await forget_rewritten(cur, machine_id, rewritten)
    return changed_rows
