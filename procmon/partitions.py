"""The time partitions of ``commands``, ``raw_outputs``, ``processes`` and ``process_days``:
created before any row needs them.

A partition holds whole UTC days, ``PROCMON_PARTITION_DAYS`` of them counted from 1970-01-01,
and is created by the database function ``procmon_ensure_partitions`` (migration 0006): the
one place that knows how, taking turns with other creators on an advisory lock. ``procmon
migrate`` and the worker's maintenance timer create the days ahead of the clock
(:func:`ensure_ahead`); a worker creates the days of each batch it is about to write
(:class:`KnownDays`), so that a listing of any day is stored, from 2019 or from next month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg

__all__ = ["ENSURE_PARTITIONS", "KnownDays", "days_ahead", "ensure_ahead"]

# Returns the partitions it created, one row each.
ENSURE_PARTITIONS = "SELECT procmon_ensure_partitions(%s::timestamptz[], %s::integer)"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def days_ahead(now: datetime, ahead_days: int) -> list[datetime]:
    """The midnights of the UTC day of ``now`` and of the ``ahead_days`` days after it."""
    today = now.astimezone(UTC).date()
    return [_midnight(today + timedelta(days=n)) for n in range(ahead_days + 1)]


def ensure_ahead(
    conn: psycopg.Connection[Any], *, now: datetime, width_days: int, ahead_days: int
) -> list[str]:
    """Create the partitions of today and the ``ahead_days`` days after it that are missing,
    in a transaction of its own on ``conn``; return the names of those created."""
    with conn.transaction():
        rows = conn.execute(ENSURE_PARTITIONS, (days_ahead(now, ahead_days), width_days))
        return [str(row[0]) for row in rows.fetchall()]


class KnownDays:
    """The UTC days whose partitions a worker knows exist, shared by its writers.

    Before writing a batch, a writer asks for the days not known yet and creates them; a day
    is known once created (or found) and forgotten when an insert finds no partition for it
    (retention dropped it meanwhile).
    """

    def __init__(self, width_days: int) -> None:
        """Create partitions ``width_days`` wide."""
        self.width_days = width_days
        self._known: set[date] = set()

    def missing(self, moments: Iterable[datetime]) -> list[datetime]:
        """The midnights of the UTC days of ``moments`` not known to have their partitions."""
        days = {moment.astimezone(UTC).date() for moment in moments}
        return [_midnight(day) for day in sorted(days - self._known)]

    async def ensure(
        self, conn: psycopg.AsyncConnection[Any], moments: Iterable[datetime]
    ) -> list[str]:
        """Create the partitions of the days of ``moments`` that may be missing, in a
        transaction of its own on ``conn``; return the names of those created."""
        wanted = self.missing(moments)
        if not wanted:
            return []
        async with conn.transaction(), conn.cursor() as cur:
            await cur.execute(ENSURE_PARTITIONS, (wanted, self.width_days))
            created = [str(row[0]) for row in await cur.fetchall()]
        self._known.update(moment.date() for moment in wanted)
        return created

    def forget(self) -> None:
        """Forget every day: the next batch asks the database again."""
        self._known.clear()
