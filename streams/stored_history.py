"""The history of stored rows: reading it back, writing what changed, and what a rewrite of
history makes the daily rollup do. Shared by the worker's linking (:mod:`streams.history`) and
``procmon relink`` (:mod:`streams.relink`)."""

from __future__ import annotations

import struct
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, NamedTuple

import psycopg

from history import HistoryValues
from streams.rollup import forget_days
from streams.sql import BUMP_HISTORY_REVISIONS, SNAPSHOT_HISTORY_ROWS, UPDATE_HISTORY

__all__ = [
    "Cursor",
    "StoredRow",
    "StoredSnapshot",
    "forget_rewritten",
    "read_rows",
    "stored_form",
    "update_history",
]

Cursor = psycopg.AsyncCursor[Any]


class StoredRow(NamedTuple):
    """A stored process row as linking reads it back."""

    command_id: int
    line_number: int
    pid: int
    process_name: str
    start_time: datetime | None
    start_time_precision: float | None
    cpu_time_seconds: float | None
    truncated_fields: list[str]
    process_key: int | None
    interval_seconds: float | None
    interval_cpu_percent: float | None

    @property
    def history(self) -> HistoryValues | None:
        """Its stored history (as :func:`stored_form` gives it), None before process history."""
        if self.process_key is None:
            return None
        return stored_form((self.process_key, self.interval_seconds, self.interval_cpu_percent))


def _as_stored(value: float | None) -> float | None:
    """``value`` rounded to a ``real`` column's precision (a float4, whether it comes from
    Python or from the column's text)."""
    return None if value is None else struct.unpack("f", struct.pack("f", value))[0]


def stored_form(values: HistoryValues) -> HistoryValues:
    """``values`` at the precision the database keeps them (its ``real`` columns round)."""
    key, seconds, percent = values
    return (key, _as_stored(seconds), _as_stored(percent))


# A stored snapshot as these functions name it: its id and its timestamp, which is its rows'
# observed_at and names their partition.
StoredSnapshot = tuple[int, datetime]


def _columns(snapshots: Collection[StoredSnapshot]) -> tuple[list[int], list[datetime]]:
    return [snapshot[0] for snapshot in snapshots], [snapshot[1] for snapshot in snapshots]


async def read_rows(cur: Cursor, snapshots: list[StoredSnapshot]) -> dict[int, list[StoredRow]]:
    """The stored rows of these snapshots, in listing order, by snapshot id."""
    await cur.execute(SNAPSHOT_HISTORY_ROWS, _columns(snapshots))
    by_snapshot: dict[int, list[StoredRow]] = {}
    for row in await cur.fetchall():
        stored = StoredRow(*row)
        by_snapshot.setdefault(stored.command_id, []).append(stored)
    return by_snapshot


async def update_history(
    cur: Cursor,
    snapshot: StoredSnapshot,
    changed: list[tuple[int, int, float | None, float | None]],
) -> None:
    """Store the history of the rows of ``snapshot`` that changed: (line, values)."""
    lines, keys, seconds, percents = (list(column) for column in zip(*changed, strict=True))
    await cur.execute(UPDATE_HISTORY, (lines, keys, seconds, percents, *snapshot))


async def forget_rewritten(cur: Cursor, machine_id: str, rewritten: set[StoredSnapshot]) -> None:
    """Bump the revision of snapshots rewritten; the days the rollup counted, it counts again."""
    await cur.execute(BUMP_HISTORY_REVISIONS, _columns(rewritten))
    days: set[date] = {row[0] for row in await cur.fetchall() if row[1]}
    if days:
        await forget_days(cur, machine_id, days)
