"""The COPY writer and dedupe on the real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from parsers import Listing, ProcessRow, ProcessStatus
from procmon.envelope import make_envelope
from procmon.errors import EnvelopeError, MessageContext, StorageError
from streams.batch import DeadLetter, PreparedBatch, RawMessage, Snapshot, prepare_batch
from streams.sql import PROCESS_COLUMNS
from streams.writer import SnapshotWriter
from tests.conftest import stored_counts
from tests.streams.test_batch import HEADER, _message

WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _snapshot(machine: str, minute: int, rows: int, offset: int) -> Snapshot:
    envelope = make_envelope(
        raw_output=f"listing {machine} {minute}",
        machine_id=machine,
        machine_name=f"{machine}.example",
        os_type="linux",
        os_version="6.1",
        command_type="ps aux",
        timestamp=WHEN + timedelta(minutes=minute),
    )
    process_rows = [
        ProcessRow(
            line_number=n + 2,
            pid=100 + n,
            process_name=f"proc{n}",
            user="root",
            command_line=f"/usr/bin/proc{n} --flag",
            cpu_percent=1.5,
            memory_percent=0.25,
            rss_bytes=5 * 2**30,
            vsz_bytes=10 * 2**30,
            status=ProcessStatus.SLEEPING,
            status_raw="Ss",
            start_time=WHEN - timedelta(hours=1),
            cpu_time_seconds=3.0,
            memory_usage_bytes=4096,
            truncated_fields=("user",) if n == 1 else (),
        )
        for n in range(rows)
    ]
    message = RawMessage("topic", 0, offset, machine.encode(), envelope.to_bytes())
    listing = Listing(format="ps aux", rows=process_rows, metadata={"load_average": [0.5, 1.0]})
    return Snapshot(envelope=envelope, listing=listing, message=message)


async def test_batch_is_stored_with_normalized_values(clean_database: str, tmp_path: Path) -> None:
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    batch = PreparedBatch(snapshots=[_snapshot("m1", 0, 3, 0), _snapshot("m2", 0, 2, 1)])
    result = await writer.write(batch)
    await writer.close()
    assert (result.snapshots_stored, result.process_rows) == (2, 5)
    assert stored_counts(clean_database) == (2, 5, 0)
    with psycopg.connect(clean_database) as conn:
        row = conn.execute(
            "SELECT p.machine_id, p.observed_at, p.status, p.rss_bytes, p.memory_usage_bytes,"
            " p.truncated_fields, c.process_count, c.format, c.metadata"
            " FROM processes p JOIN commands c ON c.id = p.command_id"
            " WHERE p.machine_id = 'm1' AND p.pid = 101"
        ).fetchone()
    assert row == (
        "m1",
        WHEN,
        "sleeping",
        5 * 2**30,
        4096,
        ["user"],
        3,
        "ps aux",
        {"load_average": [0.5, 1.0]},
    )


def test_copy_columns_are_the_snapshots_then_a_rows_fields_in_order_then_its_history() -> None:
    # The writer sends a row as it stands after the snapshot's values, and its history after.
    assert PROCESS_COLUMNS[:3] == ("command_id", "machine_id", "observed_at")
    assert PROCESS_COLUMNS[3:-3] == ProcessRow._fields
    assert PROCESS_COLUMNS[-3:] == ("process_key", "interval_seconds", "interval_cpu_percent")


async def test_truncated_fields_are_stored_row_by_row_in_listing_order(
    clean_database: str, tmp_path: Path
) -> None:
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    await writer.write(PreparedBatch(snapshots=[_snapshot("m1", 0, 4, 0)]))
    await writer.close()
    with psycopg.connect(clean_database) as conn:
        rows = conn.execute(
            "SELECT line_number, pid, truncated_fields FROM processes ORDER BY line_number"
        ).fetchall()
    # Nothing cut is stored as NULL (one bit, where an empty array costs 13 bytes).
    assert rows == [(2, 100, None), (3, 101, ["user"]), (4, 102, None), (5, 103, None)]


async def test_redelivered_snapshots_are_stored_once(clean_database: str, tmp_path: Path) -> None:
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    first = await writer.write(PreparedBatch(snapshots=[_snapshot("m1", 0, 3, 0)]))
    again = await writer.write(
        PreparedBatch(snapshots=[_snapshot("m1", 0, 3, 5), _snapshot("m1", 1, 1, 6)])
    )
    await writer.close()
    assert (first.snapshots_stored, again.snapshots_stored) == (1, 1)
    assert again.snapshots_already_stored == 1
    assert again.process_rows == 1
    assert stored_counts(clean_database) == (2, 4, 0)
    for phase in ("commands", "copy", "commit"):
        assert again.phases.seconds[phase] > 0, phase
    assert again.phases.seconds["parse"] == 0


async def test_two_writers_sharing_snapshots_store_each_once_without_deadlock(
    clean_database: str, tmp_path: Path
) -> None:
    # As two batches in flight at once hold a redelivery: the same snapshots, in opposite
    # orders. One attempt each: a deadlock (or any retry) would fail the write.
    snapshots = [_snapshot(f"m{n}", n, 1, n) for n in range(300)]
    writers = [
        SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path) for _ in range(2)
    ]
    results = await asyncio.gather(
        writers[0].write(PreparedBatch(snapshots=snapshots)),
        writers[1].write(PreparedBatch(snapshots=snapshots[::-1])),
    )
    for writer in writers:
        await writer.close()
    assert sum(result.snapshots_stored for result in results) == 300
    assert stored_counts(clean_database) == (300, 300, 0)


async def test_dead_letters_keep_the_whole_message_once(
    clean_database: str, tmp_path: Path
) -> None:
    message = RawMessage("topic", 2, 41, b"m9", b"\xffnot json")
    error = EnvelopeError("message is not UTF-8", MessageContext(partition=2, offset=41))
    batch = PreparedBatch(dead_letters=[DeadLetter(message=message, error=error)])
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    await writer.write(batch)
    await writer.write(batch)
    await writer.close()
    with psycopg.connect(clean_database) as conn:
        rows = conn.execute(
            'SELECT topic, partition, "offset", message_key, raw_message, error_class, reason'
            " FROM ingest_errors"
        ).fetchall()
    assert rows == [
        ("topic", 2, 41, b"m9", b"\xffnot json", "EnvelopeError", "message is not UTF-8")
    ]


async def test_unreachable_database_raises_storage_error_after_retries(tmp_path: Path) -> None:
    writer = SnapshotWriter(
        "postgresql://postgres@127.0.0.1:1/none", retry_attempts=2, parking_dir=tmp_path
    )
    with pytest.raises(StorageError, match="unreachable after 2 attempts"):
        await writer.write(PreparedBatch(snapshots=[_snapshot("m1", 0, 1, 0)]))


async def test_labels_and_cpu_count_are_stored_with_the_snapshot(
    clean_database: str, tmp_path: Path
) -> None:
    raw = f"{HEADER}\nroot 1 0.5 0.1 1024 512 ? Ss 10:00 0:01 /sbin/init\n"
    batch = prepare_batch(
        [
            _message(raw, 0, "web-1", labels={"role": "web", "site": "eu"}, cpu_count=8),
            _message(raw, 1, "old"),
        ]
    )
    assert batch.dead_letters == []
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    await writer.write(batch)
    await writer.close()
    with psycopg.connect(clean_database) as conn:
        rows = conn.execute(
            "SELECT machine_id, schema_version, labels, cpu_count FROM commands ORDER BY 1"
        ).fetchall()
    assert rows == [("old", 1, {}, None), ("web-1", 2, {"role": "web", "site": "eu"}, 8)]


async def test_a_day_whose_partitions_were_dropped_since_is_made_again(
    clean_database: str, tmp_path: Path
) -> None:
    later = WHEN + timedelta(days=400)
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    first = _snapshot("m1", 0, 2, 0)
    first = Snapshot(
        envelope=first.envelope.model_copy(update={"timestamp": later}),
        listing=first.listing,
        message=first.message,
    )
    assert (await writer.write(PreparedBatch(snapshots=[first]))).snapshots_stored == 1
    # Retention (or an operator) drops the day this writer remembers having made.
    with psycopg.connect(clean_database) as conn:
        conn.execute(f"DROP TABLE commands_{later:%Y%m%d}, processes_{later:%Y%m%d}")
    again = Snapshot(
        envelope=first.envelope.model_copy(update={"timestamp": later + timedelta(hours=1)}),
        listing=first.listing,
        message=first.message,
    )
    result = await writer.write(PreparedBatch(snapshots=[again]))
    await writer.close()
    assert (result.snapshots_stored, result.process_rows, result.dead_letters) == (1, 2, 0)
    assert stored_counts(clean_database) == (1, 2, 0)
