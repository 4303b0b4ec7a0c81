"""Retention: what is older than the settings keep goes, a whole partition at a time.

Process rows (``PROCMON_RETENTION_DAYS``), listings' texts (``PROCMON_RAW_OUTPUT_RETENTION_DAYS``;
their snapshots' rows stay) and the rollups (``PROCMON_ROLLUP_RETENTION_DAYS``, every table of
:data:`ROLLUP_TABLES`) each keep their days; a partition goes once its last day is older than
that. Nothing is deleted row by row: a partition is detached (``DETACH PARTITION ...
CONCURRENTLY``, which takes SHARE UPDATE EXCLUSIVE on the parent, so that inserts and reads go
on) and then dropped. A partition of process rows or of a rollup whose days' snapshots the
rollup has not all counted yet is kept for a later run, so that the rollup never misses rows
and always has where to count them.

One run at a time across every host: a run takes a session advisory lock, and a run that cannot
have it reports that another is running and removes nothing. A run is idempotent: what went is
gone, and a second run finds nothing more. A run that removed something retires the API's
cached answers (it bumps the cache generation, as a stored batch does): they may count what
went.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from procmon.cache import GENERATION, FailOpenRedis
from procmon.errors import StorageError
from procmon.settings import Settings

__all__ = [
    "ROLLUP_TABLES",
    "Expiry",
    "Partition",
    "RetentionRun",
    "describe_run",
    "expiries",
    "retain",
    "run_retention",
]

# The rollup tables, each partitioned by its day: PROCMON_ROLLUP_RETENTION_DAYS applies to all.
ROLLUP_TABLES: tuple[str, ...] = (
    "process_days",
    "stats_hours",
    "stats_days",
    "stats_machine_hours",
    "stats_machine_days",
)

_LOCK = "SELECT pg_try_advisory_lock(1751, hashtext('procmon.retention'))"
_UNLOCK = "SELECT pg_advisory_unlock(1751, hashtext('procmon.retention'))"
# The partitions of a table whose last day is before the cutoff, oldest first; with whether a
# detach of it was left half done (a run stopped between its two transactions).
_EXPIRED = """
SELECT p.partition_name, p.first_day, p.end_day, i.inhdetachpending
FROM procmon_partitions AS p
JOIN pg_inherits AS i ON i.inhrelid = p.partition_name::regclass
WHERE p.parent_table = %s AND p.end_day <= %s
ORDER BY p.first_day
"""
# Tables a run detached but did not drop (it stopped in between): named as the partitions of
# the table for a day before the cutoff, and no longer a partition.
_LEFT_DETACHED = """
SELECT c.relname::text FROM pg_class AS c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
  AND NOT c.relispartition AND c.relname ~ ('^' || %s || '_[0-9]{8}$')
  AND to_date(right(c.relname, 8), 'YYYYMMDD') < %s
ORDER BY 1
"""
# Snapshots of a range whose rows the daily rollup has still to count (commands_unrolled_idx).
_UNCOUNTED = """
SELECT count(*) FROM commands
WHERE rolled_up_at IS NULL
  AND "timestamp" >= %(first)s::timestamp AT TIME ZONE 'UTC'
  AND "timestamp" < %(end)s::timestamp AT TIME ZONE 'UTC'
"""


@dataclass(frozen=True, slots=True)
class Expiry:
    """A table whose partitions older than ``days`` days go, and the setting that says so."""

    table: str
    days: int
    setting: str


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition: its table, its name and the UTC days it holds, ``first_day`` to
    ``end_day`` (excluded)."""

    table: str
    name: str
    first_day: date
    end_day: date

    def __str__(self) -> str:
        last = self.end_day - timedelta(days=1)
        days = f"{self.first_day}" if last == self.first_day else f"{self.first_day} to {last}"
        return f"{self.name} ({self.table}, {days})"


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """What one run did, or would do with ``dry_run``: the partitions removed (or due), those
    kept for the rollup, with why; ``ran`` is False when another run held the lock."""

    ran: bool
    dry_run: bool
    removed: tuple[Partition, ...] = ()
    kept: tuple[tuple[Partition, str], ...] = ()
    left_detached: tuple[str, ...] = ()


def expiries(settings: Settings) -> list[Expiry]:
    """The tables the settings give a retention, with their days; none unset means keep."""
    rules = [
        ("processes", settings.retention_days, "PROCMON_RETENTION_DAYS"),
        ("raw_outputs", settings.raw_output_retention_days, "PROCMON_RAW_OUTPUT_RETENTION_DAYS"),
        *(
            (table, settings.rollup_retention_days, "PROCMON_ROLLUP_RETENTION_DAYS")
            for table in ROLLUP_TABLES
        ),
    ]
    return [Expiry(table, days, name) for table, days, name in rules if days is not None]


@contextmanager
def _turn(conn: psycopg.Connection[Any]) -> Iterator[bool]:
    """Whether this run holds the retention lock (and then holds it for the block)."""
    row = conn.execute(_LOCK).fetchone()
    held = row is not None and bool(row[0])
    try:
        yield held
    finally:
        if held and not conn.broken:
            conn.execute(_UNLOCK)


def run_retention(
    database_url: str, rules: list[Expiry], *, today: date, dry_run: bool = False
) -> RetentionRun:
    """Remove (or, with ``dry_run``, list) the partitions past ``rules`` as of the UTC day
    ``today``; see the module's docstring. Raises :class:`StorageError` when PostgreSQL
    refuses a step: what went before it is gone, the rest is left for the next run."""
    try:
        with psycopg.connect(database_url, autocommit=True) as conn, _turn(conn) as held:
            if not held:
                return RetentionRun(ran=False, dry_run=dry_run)
            return _run(conn, rules, today=today, dry_run=dry_run)
    except psycopg.Error as exc:
        raise StorageError(f"retention stopped: {exc}") from exc


def retain(settings: Settings, *, today: date, dry_run: bool = False) -> RetentionRun | None:
    """:func:`run_retention` by the settings' rules, or None when they set none; then, when
    the run removed something, retire the API's cached answers (Redis away: they expire with
    their TTL, ``PROCMON_CACHE_TTL``)."""
    rules = expiries(settings)
    if not rules:
        return None
    run = run_retention(settings.database_url, rules, today=today, dry_run=dry_run)
    if (run.removed or run.left_detached) and not run.dry_run:
        asyncio.run(_retire_cached_answers(settings))
    return run


async def _retire_cached_answers(settings: Settings) -> None:
    cache = FailOpenRedis(settings.redis_url, settings.redis_prefix)
    try:
        await cache.incr(GENERATION)
    finally:
        await cache.close()


def _run(
    conn: psycopg.Connection[Any], rules: list[Expiry], *, today: date, dry_run: bool
) -> RetentionRun:
    removed: list[Partition] = []
    kept: list[tuple[Partition, str]] = []
    left: list[str] = []
    for rule in rules:
        cutoff = today - timedelta(days=rule.days)
        for name in _left_detached(conn, rule.table, cutoff):
            if not dry_run:
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
            left.append(name)
        for partition, pending in _expired(conn, rule.table, cutoff):
            reason = _reason_to_keep(conn, partition)
            if reason is not None:
                kept.append((partition, reason))
                continue
            if not dry_run:
                _detach_and_drop(conn, partition, pending=pending)
            removed.append(partition)
    return RetentionRun(
        ran=True,
        dry_run=dry_run,
        removed=tuple(removed),
        kept=tuple(kept),
        left_detached=tuple(left),
    )


def _expired(
    conn: psycopg.Connection[Any], table: str, cutoff: date
) -> list[tuple[Partition, bool]]:
    rows = conn.execute(_EXPIRED, (table, cutoff)).fetchall()
    return [
        (Partition(table, str(name), first, end), bool(pending))
        for name, first, end, pending in rows
    ]


def _left_detached(conn: psycopg.Connection[Any], table: str, cutoff: date) -> list[str]:
    return [str(row[0]) for row in conn.execute(_LEFT_DETACHED, (table, cutoff)).fetchall()]


def _reason_to_keep(conn: psycopg.Connection[Any], partition: Partition) -> str | None:
    """Why a due partition stays for now: snapshots of its days the rollup has not counted
    yet, whose process rows it holds (``processes``) or which are to be counted into it (a
    rollup table: without it the rollup would have nowhere to put them, and stop there)."""
    if partition.table == "raw_outputs":
        return None
    row = conn.execute(
        _UNCOUNTED, {"first": partition.first_day, "end": partition.end_day}
    ).fetchone()
    uncounted = int(row[0]) if row else 0
    if uncounted == 0:
        return None
    return f"{uncounted} of its days' snapshots are not counted by the rollup yet"


def _detach_and_drop(conn: psycopg.Connection[Any], partition: Partition, *, pending: bool) -> None:
    # A detach a stopped run left pending is finished; CONCURRENTLY runs outside a transaction
    # (the connection is in autocommit) and cannot be undone by one, so each step stands alone.
    how = sql.SQL("FINALIZE" if pending else "CONCURRENTLY")
    conn.execute(
        sql.SQL("ALTER TABLE {} DETACH PARTITION {} {}").format(
            sql.Identifier(partition.table), sql.Identifier(partition.name), how
        )
    )
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(partition.name)))


def describe_run(run: RetentionRun) -> list[str]:
    """What a run did (or would do), a line each, as ``procmon retention run`` prints it."""
    if not run.ran:
        return ["another retention run is in progress (it holds the lock): nothing done here"]
    verb = "would remove" if run.dry_run else "removed"
    lines = [f"{verb} {partition}" for partition in run.removed]
    lines += [f"{verb} {name} (left detached by a stopped run)" for name in run.left_detached]
    lines += [f"kept {partition}: {reason}" for partition, reason in run.kept]
    return lines or ["nothing to remove"]
