"""The rollups: the rows of stored snapshots added up per process and UTC day, and per
process name and user (and per machine) and UTC hour and day.

``process_days`` holds, per machine, day and process key, what ``processLifetimes`` sums
over the whole days of a range; the ``stats_*`` tables (streams.sql.STATS_ROLLUPS) what
``processStats`` adds up over whole hours and days. A snapshot's rows are counted into all of
them at once, in one transaction (``commands.rolled_up_at``), by whichever worker gets to it
first. When the history of a counted snapshot's rows is rewritten (a snapshot stored out of
order relinks its neighbours), :func:`forget_days` drops the machine's counted days from every
rollup so they are counted again. The API reads the rows of snapshots not yet counted from
``processes`` itself, so an answer is the same before and after a round; the rollups only
make long ranges cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date
from typing import Any

import psycopg

from procmon.cache import GENERATION, FailOpenRedis
from streams.sql import (
    COUNT_PICKED,
    COUNT_PICKED_STATS,
    DELETE_MACHINE_DAYS,
    LOCK_MACHINE_DAYS,
    MARK_COUNTED,
    PICK_PENDING,
    ROLLUP_SETTINGS,
    UNCOUNT_MACHINE_DAYS,
)

__all__ = ["ROLLUP_BATCH", "RollupWorker", "count_all", "count_pending", "forget_days"]

log = logging.getLogger(__name__)

# Snapshots one transaction counts: a few tens of thousands of rows, so a round holds its
# locks briefly and a rollup stopped midway loses little.
ROLLUP_BATCH = 500


async def count_pending(conn: psycopg.AsyncConnection[Any], *, limit: int) -> int:
    """Count up to ``limit`` of the oldest snapshots not yet counted into the rollups, in one
    transaction; return how many were counted.

    Snapshots another transaction holds (a rollup at work, a writer relinking them) are
    skipped, as are machines whose days are being forgotten: they are counted by a later call.
    """
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(ROLLUP_SETTINGS)
        await cur.execute(PICK_PENDING, {"limit": limit})
        picked = await cur.fetchall()
        if picked:
            snapshots = {"ids": [row[0] for row in picked], "times": [row[1] for row in picked]}
            await cur.execute(COUNT_PICKED, snapshots)
            await cur.execute(COUNT_PICKED_STATS, snapshots)
            await cur.execute(MARK_COUNTED, snapshots)
    return len(picked)


async def count_all(conn: psycopg.AsyncConnection[Any], *, limit: int = ROLLUP_BATCH) -> int:
    """Call :func:`count_pending` until it counts nothing; return the snapshots counted."""
    total = 0
    while counted := await count_pending(conn, limit=limit):
        total += counted
    return total


async def forget_days(
    cur: psycopg.AsyncCursor[Any], machine_id: str, days: Collection[date]
) -> None:
    """Drop the rollups' rows of these UTC days of one machine, and mark the machine's
    snapshots of those days to be counted again, in the caller's transaction.

    Waits for the rollups counting the machine to commit, then keeps others off the machine
    until the caller's transaction ends. A writer calls it after rewriting the rows of a
    snapshot it found counted (read ``rolled_up_at`` from the locked row, ``UPDATE ...
    RETURNING``, so that a rollup counting it at that moment is waited for).
    """
    if not days:
        return
    values = {"machine": machine_id, "days": list(days)}
    await cur.execute(LOCK_MACHINE_DAYS, values)
    await cur.execute(DELETE_MACHINE_DAYS, values)
    await cur.execute(UNCOUNT_MACHINE_DAYS, values)


class RollupWorker:
    """The worker's rollup rounds, over one connection kept between rounds.

    A database error ends the round, logged, and the next round tries again on a new
    connection: the rollup is never a reason for the worker to stop.
    """

    def __init__(self, database_url: str, cache: FailOpenRedis) -> None:
        self._database_url = database_url
        self._cache = cache
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def round(self, *, raise_errors: bool = False) -> int:
        """Count every pending snapshot; retire cached answers if any was counted.

        A database error is logged and the round counts as 0, unless ``raise_errors`` (a
        one-off round, whose caller reports it).
        """
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._database_url, autocommit=True
                )
            counted = await count_all(self._conn)
        except psycopg.Error:
            await self.close()
            if raise_errors:
                raise
            log.exception("rollup round failed; trying again next round")
            return 0
        if counted:
            await self._cache.incr(GENERATION)
            log.info("rollup: %d snapshots counted", counted)
        return counted

    async def close(self) -> None:
        """Close the connection, if one is open."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
