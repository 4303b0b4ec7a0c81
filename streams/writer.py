"""Writing a prepared batch to PostgreSQL in one transaction, idempotently, with retries."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from parsers import ProcessRow
from procmon.errors import StorageError
from streams.batch import DeadLetter, PreparedBatch, Snapshot, SnapshotKey
from streams.copy_rows import COPY_SIGNATURE, COPY_TRAILER, encode_rows
from streams.phases import PhaseTimes
from streams.sql import (
    COPY_PROCESSES,
    COPY_UNTRUNCATED_PROCESSES,
    INSERT_COMMANDS,
    INSERT_INGEST_ERRORS,
    PROCESS_COLUMN_TYPES,
)

__all__ = ["BatchResult", "SnapshotWriter"]

log = logging.getLogger(__name__)

_FIRST_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 10.0
_UNTRUNCATED_TYPES = PROCESS_COLUMN_TYPES[:-1]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a committed batch stored."""

    snapshots_stored: int
    snapshots_already_stored: int
    process_rows: int
    dead_letters: int
    phases: PhaseTimes


def _as_columns(rows: Sequence[tuple[object, ...]]) -> list[list[object]]:
    """Transpose rows into the per-column arrays an ``unnest`` statement takes."""
    return [list(column) for column in zip(*rows, strict=True)]


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
        envelope.raw_output,
    )


def _dead_letter_values(letter: DeadLetter) -> tuple[object, ...]:
    message, error = letter.message, letter.error
    return (
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        type(error).__name__,
        error.reason,
        error.line_number,
        error.context.machine_id,
        error.context.content_hash,
    )


class SnapshotWriter:
    """Stores batches over one PostgreSQL connection, reconnecting when it is lost."""

    def __init__(self, database_url: str, retry_attempts: int) -> None:
        self._database_url = database_url
        self._retry_attempts = retry_attempts
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def close(self) -> None:
        """Close the connection, if one is open."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def write(self, batch: PreparedBatch) -> BatchResult:
        """Store the batch in one transaction, retrying with backoff while PostgreSQL is away.

        Raises :class:`StorageError` when every attempt failed; nothing of the batch is then
        committed, and the caller must not acknowledge its messages.
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
        stored: dict[SnapshotKey, int] = {}
        process_rows = 0
        phases = PhaseTimes()
        async with conn.transaction(), conn.cursor() as cur:
            with phases.timing("commands"):
                await self._insert_commands(cur, batch, stored)
            copy_started = time.perf_counter()
            # Rows with truncated fields, the few, are copied apart: an array is dumped in
            # Python, and the others take the column's default, the empty array.
            truncated: list[tuple[object, ...]] = []
            async with cur.copy(COPY_UNTRUNCATED_PROCESSES) as copy:
                await copy.write(COPY_SIGNATURE)
                for snapshot in batch.snapshots:
                    command_id = stored.get(snapshot.key)
                    if command_id is None:
                        continue
                    envelope = snapshot.envelope
                    # COPY's columns: the snapshot's three, then a row's fields in its order.
                    head = (command_id, envelope.machine_id, envelope.timestamp)
                    cut: list[ProcessRow] = []
                    await copy.write(encode_rows(head, snapshot.rows, _UNTRUNCATED_TYPES, cut))
                    truncated += ((*head, *row[:-1], list(row.truncated_fields)) for row in cut)
                    process_rows += len(snapshot.rows)
                await copy.write(COPY_TRAILER)
            if truncated:
                async with cur.copy(COPY_PROCESSES) as copy:
                    copy.set_types(PROCESS_COLUMN_TYPES)
                    for values in truncated:
                        await copy.write_row(values)
            phases.add("copy", time.perf_counter() - copy_started)
            if batch.dead_letters:
                letters = [_dead_letter_values(letter) for letter in batch.dead_letters]
                await cur.execute(INSERT_INGEST_ERRORS, _as_columns(letters))
            # The transaction commits when this block ends: that is the commit phase.
            commit_started = time.perf_counter()
        phases.add("commit", time.perf_counter() - commit_started)
        return BatchResult(
            snapshots_stored=len(stored),
            snapshots_already_stored=len(batch.snapshots) - len(stored),
            process_rows=process_rows,
            dead_letters=len(batch.dead_letters),
            phases=phases,
        )

    @staticmethod
    async def _insert_commands(
        cur: psycopg.AsyncCursor[tuple[object, ...]],
        batch: PreparedBatch,
        stored: dict[SnapshotKey, int],
    ) -> None:
        """Insert the batch's snapshots; record the id of each one stored now in ``stored``."""
        if not batch.snapshots:
            return
        # In key order: two batches written at once that share keys (a redelivery) then take
        # the unique index's locks in the same order, and cannot deadlock.
        ordered = sorted(batch.snapshots, key=lambda snapshot: snapshot.key)
        commands = [_command_values(snapshot) for snapshot in ordered]
        await cur.execute(INSERT_COMMANDS, _as_columns(commands))
        for command_id, machine_id, timestamp, content_hash in await cur.fetchall():
            stored[(str(machine_id), _aware(timestamp), str(content_hash))] = int(
                command_id  # type: ignore[call-overload]
            )


def _aware(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp from PostgreSQL, got {value!r}")
    return value
