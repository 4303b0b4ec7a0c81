"""Writing a prepared batch to PostgreSQL in one transaction, idempotently, with retries.

When PostgreSQL refuses the batch for what it holds (a DataError, a constraint: any error that
is not the database being away), the batch is written again message by message, each in a
transaction of its own: a snapshot it refuses becomes a dead letter with the database's
reason, and a dead letter it refuses is parked in a file (streams.parking). The batch can then
be acknowledged; nothing of it is lost, and one message cannot stop a partition.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from procmon.errors import StorageError
from procmon.partitions import KnownDays
from procmon.settings import Settings
from streams.batch import PreparedBatch, Snapshot, SnapshotKey
from streams.copy_rows import COPY_SIGNATURE, COPY_TRAILER, encode_rows
from streams.failures import Failure, describe_refusal, failures_of
from streams.history import ProcessHistory
from streams.machines import machine_rows
from streams.parking import park
from streams.phases import PhaseTimes
from streams.sql import (
    COPY_PROCESSES,
    COPY_UNTRUNCATED_PROCESSES,
    INSERT_COMMANDS,
    INSERT_INGEST_ERRORS,
    PROCESS_COLUMN_TYPES,
    UNTRUNCATED_COLUMN_TYPES,
    UPSERT_MACHINES,
    as_columns,
)

__all__ = ["BatchResult", "SnapshotWriter"]

log = logging.getLogger(__name__)

_FIRST_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 10.0
# What PostgreSQL (or psycopg, dumping a value) refuses for the data itself, and would refuse
# again: a lone surrogate has no UTF-8 form (UnicodeEncodeError, a ValueError). Losing the
# connection is an OperationalError, caught before these and retried.
_REFUSALS = (psycopg.Error, ValueError)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a committed batch stored."""

    snapshots_stored: int
    snapshots_already_stored: int
    process_rows: int
    dead_letters: int
    phases: PhaseTimes
    # Snapshots PostgreSQL refused, now dead letters (counted in dead_letters) to publish.
    refused: tuple[Failure, ...] = ()
    # Files of dead letters PostgreSQL refused even in ingest_errors.
    parked: tuple[Path, ...] = ()


def _command_values(snapshot: Snapshot) -> tuple[object, ...]:
    envelope = snapshot.envelope
    return (
        envelope.machine_id,
        envelope.machine_name,
        envelope.os_type,
        envelope.os_version,
        envelope.command_type,
        envelope.timestamp,
        envelope.content_hash,
        envelope.schema_version,
        snapshot.listing.format,
        len(snapshot.rows),
        Jsonb(snapshot.listing.metadata),
        Jsonb(envelope.labels or {}),
        envelope.cpu_count,
        envelope.raw_output,
    )


def _failure_values(failure: Failure) -> tuple[object, ...]:
    failure = failure.storable()
    message = failure.message
    return (
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        failure.error_class,
        failure.reason,
        failure.line_number,
        failure.machine_id,
        failure.content_hash,
    )


class SnapshotWriter:
    """Stores batches over one PostgreSQL connection, reconnecting when it is lost."""

    def __init__(
        self,
        database_url: str,
        *,
        retry_attempts: int,
        parking_dir: Path,
        history: ProcessHistory | None = None,
        partitions: KnownDays | None = None,
    ) -> None:
        """Write to ``database_url``; link process history with ``history`` and create the
        partitions of a batch's days with ``partitions``, which the writers of one process
        share (ones of its own when None, with the settings' defaults)."""
        self._database_url = database_url
        self._retry_attempts = retry_attempts
        self._parking_dir = parking_dir
        defaults = Settings.model_construct()
        self._history = history or ProcessHistory.from_settings(defaults)
        self._partitions = partitions or KnownDays(defaults.partition_days)
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def close(self) -> None:
        """Close the connection, if one is open."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def write(self, batch: PreparedBatch) -> BatchResult:
        """Store the batch in one transaction, retrying with backoff while PostgreSQL is away.

        Raises :class:`StorageError` when every attempt failed; nothing of the batch is then
        committed, and the caller must not acknowledge its messages. A batch PostgreSQL refuses
        for its data is stored message by message (see the module's docstring); ``OSError``
        from parking means a refused message had nowhere to go, and it must not be acknowledged.
        """
        delay = _FIRST_BACKOFF_SECONDS
        for attempt in range(1, self._retry_attempts + 1):
            try:
                return await self._write_once(batch)
            except psycopg.OperationalError as exc:
                await self.close()
                if attempt == self._retry_attempts:
                    raise StorageError(
                        f"PostgreSQL stayed unreachable after {attempt} attempts: {exc}"
                    ) from exc
                log.warning(
                    "database write failed (attempt %d of %d), retrying in %.1fs: %s",
                    attempt,
                    self._retry_attempts,
                    delay,
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_SECONDS)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _connection(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self._database_url)
        return self._conn

    async def _write_once(self, batch: PreparedBatch) -> BatchResult:
        conn = await self._connection()
        failures = failures_of(batch.dead_letters)
        moments = [snapshot.envelope.timestamp for snapshot in batch.snapshots]
        try:
            await self._partitions.ensure(conn, moments)
            try:
                return await self._write_together(conn, batch.snapshots, failures)
            except psycopg.errors.CheckViolation as exc:
                if not _no_partition(exc):
                    raise
                # A partition this worker knew was dropped since (retention): made again.
                self._partitions.forget()
                await self._partitions.ensure(conn, moments)
                return await self._write_together(conn, batch.snapshots, failures)
        except psycopg.OperationalError:
            raise
        except _REFUSALS as exc:
            log.warning(
                "PostgreSQL refused a batch of %d messages (%s); storing them one by one",
                len(batch.snapshots) + len(failures),
                describe_refusal(exc),
            )
        return await self._write_each(conn, batch.snapshots, failures)

    async def _write_each(
        self,
        conn: psycopg.AsyncConnection[tuple[object, ...]],
        snapshots: Sequence[Snapshot],
        failures: Sequence[Failure],
    ) -> BatchResult:
        """Store each message in a transaction of its own; what is refused is kept elsewhere."""
        results: list[BatchResult] = []
        refused: list[Failure] = []
        for snapshot in snapshots:
            try:
                results.append(await self._write_together(conn, [snapshot], []))
            except psycopg.OperationalError:
                raise
            except _REFUSALS as exc:
                refused.append(Failure.refused(snapshot, exc))
        parked: list[Path] = []
        for failure in [*failures, *refused]:
            try:
                results.append(await self._write_together(conn, [], [failure]))
            except psycopg.OperationalError:
                raise
            except _REFUSALS as exc:
                reason = describe_refusal(exc)
                path = park(self._parking_dir, failure, reason)
                log.error("PostgreSQL refused a dead letter (%s); parked it in %s", reason, path)
                parked.append(path)
        phases = PhaseTimes()
        for result in results:
            for phase, seconds in result.phases.seconds.items():
                phases.add(phase, seconds)
        return BatchResult(
            snapshots_stored=sum(result.snapshots_stored for result in results),
            snapshots_already_stored=sum(r.snapshots_already_stored for r in results),
            process_rows=sum(result.process_rows for result in results),
            dead_letters=len(failures) + len(refused),
            phases=phases,
            refused=tuple(refused),
            parked=tuple(parked),
        )

    async def _write_together(
        self,
        conn: psycopg.AsyncConnection[tuple[object, ...]],
        snapshots: Sequence[Snapshot],
        failures: Sequence[Failure],
    ) -> BatchResult:
        """Store snapshots and failures in one transaction."""
        stored: dict[SnapshotKey, int] = {}
        process_rows = 0
        phases = PhaseTimes()
        plan = None
        try:
            async with conn.transaction(), conn.cursor() as cur:
                with phases.timing("commands"):
                    await self._insert_commands(cur, snapshots, stored)
                stored_now = [(s, stored[s.key]) for s in snapshots if s.key in stored]
                with phases.timing("history"):
                    plan = await self._history.link_batch(cur, stored_now)
                copy_started = time.perf_counter()
                # Rows with truncated fields, the few, are copied apart: an array is dumped in
                # Python, and the others leave it NULL, which is read as the empty list.
                truncated: list[tuple[object, ...]] = []
                async with cur.copy(COPY_UNTRUNCATED_PROCESSES) as copy:
                    await copy.write(COPY_SIGNATURE)
                    for snapshot in snapshots:
                        command_id = stored.get(snapshot.key)
                        if command_id is None:
                            continue
                        envelope = snapshot.envelope
                        # COPY's columns: the snapshot's three, a row's fields in its order,
                        # then the row's history.
                        head = (command_id, envelope.machine_id, envelope.timestamp)
                        rows = snapshot.rows
                        tails = plan.values_of(command_id)
                        cut: list[int] = []
                        await copy.write(
                            encode_rows(head, rows, UNTRUNCATED_COLUMN_TYPES, cut, tails)
                        )
                        truncated += (
                            (*head, *rows[i][:-1], list(rows[i].truncated_fields), *tails[i])
                            for i in cut
                        )
                        process_rows += len(rows)
                    await copy.write(COPY_TRAILER)
                if truncated:
                    async with cur.copy(COPY_PROCESSES) as copy:
                        copy.set_types(PROCESS_COLUMN_TYPES)
                        for values in truncated:
                            await copy.write_row(values)
                phases.add("copy", time.perf_counter() - copy_started)
                with phases.timing("history"):
                    await self._history.settle(cur, plan)
                # Last, under the machines' locks settle took (held until the commit): their
                # rows of machines are then locked only until the commit, by writers that
                # take turns on those machines from settle on anyway.
                if stored_now:
                    with phases.timing("commands"):
                        await cur.execute(UPSERT_MACHINES, as_columns(machine_rows(stored_now)))
                if failures:
                    rows_of_failures = [_failure_values(failure) for failure in failures]
                    await cur.execute(INSERT_INGEST_ERRORS, as_columns(rows_of_failures))
                # The transaction commits when this block ends: that is the commit phase.
                commit_started = time.perf_counter()
        finally:
            if plan is not None:
                self._history.finish(plan)
        phases.add("commit", time.perf_counter() - commit_started)
        return BatchResult(
            snapshots_stored=len(stored),
            snapshots_already_stored=len(snapshots) - len(stored),
            process_rows=process_rows,
            dead_letters=len(failures),
            phases=phases,
        )

    @staticmethod
    async def _insert_commands(
        cur: psycopg.AsyncCursor[tuple[object, ...]],
        snapshots: Sequence[Snapshot],
        stored: dict[SnapshotKey, int],
    ) -> None:
        """Insert the snapshots; record the id of each one stored now in ``stored``."""
        if not snapshots:
            return
        # In key order: two batches written at once that share keys (a redelivery) then take
        # the unique index's locks in the same order, and cannot deadlock.
        ordered = sorted(snapshots, key=lambda snapshot: snapshot.key)
        commands = [_command_values(snapshot) for snapshot in ordered]
        await cur.execute(INSERT_COMMANDS, as_columns(commands))
        for command_id, machine_id, timestamp, content_hash in await cur.fetchall():
            stored[(str(machine_id), _aware(timestamp), str(content_hash))] = int(
                command_id  # type: ignore[call-overload]
            )


def _no_partition(exc: psycopg.errors.CheckViolation) -> bool:
    """Whether PostgreSQL refused a row for want of a partition to hold it."""
    return (exc.diag.message_primary or "").startswith("no partition of relation")


def _aware(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp from PostgreSQL, got {value!r}")
    return value
