"""What PostgreSQL refuses for its data never fails a batch: the rest is stored, nothing lost.

The refusals are real: text PostgreSQL cannot hold, and CHECK constraints added to a database
of the test's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from procmon.errors import EnvelopeError, MessageContext, SnapshotParseError
from streams.batch import DeadLetter, PreparedBatch, RawMessage
from streams.parking import parked_messages
from streams.writer import SnapshotWriter
from tests.conftest import migrated_database, stored_counts
from tests.streams.machines_aggregate import fresh_machines, stored_machines
from tests.streams.test_writer import _snapshot


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_database("procmon_refusals") as url:
        yield url


def _constrain(database: str, statement: str) -> None:
    with psycopg.connect(database) as conn:
        conn.execute(statement)


def _letter(offset: int, reason: str, machine_id: str | None = None) -> DeadLetter:
    message = RawMessage("raw", 0, offset, b"k\x00", b'{"machine_id": "m\\u0000"}\x00')
    context = MessageContext(offset=offset, machine_id=machine_id, content_hash=machine_id)
    return DeadLetter(message, EnvelopeError(reason, context))


def _ingest_errors(database: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            'SELECT "offset", message_key, raw_message, error_class, reason, machine_id,'
            ' content_hash FROM ingest_errors ORDER BY "offset"'
        ).fetchall()


async def test_nul_and_lone_surrogates_are_stored_escaped(database: str, tmp_path: Path) -> None:
    letters = [
        _letter(1, "invalid envelope: \x00bad: Extra inputs are not permitted"),
        _letter(2, "machine_id: contains a NUL character", machine_id="m\x00"),
        _letter(3, "not JSON", machine_id="\ud800"),
    ]
    writer = SnapshotWriter(database, retry_attempts=1, parking_dir=tmp_path)
    result = await writer.write(PreparedBatch(dead_letters=letters))
    await writer.close()
    assert (result.dead_letters, result.parked) == (3, ())
    rows = _ingest_errors(database)
    assert [row[:4] for row in rows] == [
        (n, b"k\x00", b'{"machine_id": "m\\u0000"}\x00', "EnvelopeError") for n in (1, 2, 3)
    ], "the bytes are kept exactly"
    assert [row[5:] for row in rows] == [(None, None), ("m\\u0000",) * 2, ("\\ud800",) * 2]
    assert str(rows[0][4]).startswith("invalid envelope: \\u0000bad: Extra inputs")
    assert str(rows[1][4]).startswith(
        "machine_id: contains a NUL character (machine_id, content_hash"
    )
    assert all("stored escaped" in str(row[4]) for row in rows)


async def test_a_snapshot_postgresql_refuses_becomes_a_dead_letter(
    database: str, tmp_path: Path
) -> None:
    _constrain(
        database,
        "ALTER TABLE commands ADD CONSTRAINT no_refused CHECK (machine_id <> 'refused')",
    )
    batch = PreparedBatch(
        snapshots=[
            _snapshot("m1", 0, 3, 0),
            _snapshot("refused", 0, 2, 1),
            _snapshot("m2", 0, 1, 2),
        ],
        dead_letters=[_letter(3, "not JSON")],
    )
    writer = SnapshotWriter(database, retry_attempts=1, parking_dir=tmp_path)
    result = await writer.write(batch)
    await writer.close()
    assert (result.snapshots_stored, result.process_rows, result.dead_letters) == (2, 4, 2)
    assert stored_counts(database) == (2, 4, 2)
    # Stored one by one, the others' machines are counted all the same.
    assert [row[0] for row in stored_machines(database)] == ["m1", "m2"]
    assert stored_machines(database) == fresh_machines(database)
    [refused] = result.refused
    assert refused.message == batch.snapshots[1].message
    rows = _ingest_errors(database)
    assert [(row[0], row[3], row[5]) for row in rows] == [
        (1, "StorageError", "refused"),
        (3, "EnvelopeError", None),
    ]
    assert str(rows[0][4]).startswith("PostgreSQL refused the snapshot: CheckViolation: new row")
    assert "no_refused" in str(rows[0][4])
    assert "DETAIL" not in str(rows[0][4]), "the failing row (its whole listing) is left out"
    assert rows[0][2] == batch.snapshots[1].message.value


async def test_a_dead_letter_postgresql_refuses_is_parked(database: str, tmp_path: Path) -> None:
    _constrain(
        database,
        "ALTER TABLE ingest_errors ADD CONSTRAINT no_park CHECK (reason NOT LIKE '%park me%')",
    )
    error = SnapshotParseError("line 3: park me", MessageContext(machine_id="m9"), line_number=3)
    parked_letter = DeadLetter(RawMessage("raw", 4, 9, b"m9", b"\xff\x00whole"), error)
    batch = PreparedBatch(
        snapshots=[_snapshot("m1", 0, 3, 0)], dead_letters=[_letter(1, "not JSON"), parked_letter]
    )
    writer = SnapshotWriter(database, retry_attempts=1, parking_dir=tmp_path / "parked")
    result = await writer.write(batch)
    await writer.close()
    assert stored_counts(database) == (1, 3, 1)
    assert result.parked == (tmp_path / "parked" / "raw-4-9.json",)
    [parked], unreadable = parked_messages(tmp_path / "parked")
    assert unreadable == []
    assert (parked.topic, parked.partition, parked.offset) == ("raw", 4, 9)
    assert (parked.key, parked.value) == (b"m9", b"\xff\x00whole")
    assert (parked.error_class, parked.reason) == ("SnapshotParseError", "line 3: park me")
    assert "no_park" in parked.storage_error


async def test_a_refused_dead_letter_with_nowhere_to_park_is_an_error(
    database: str, tmp_path: Path
) -> None:
    # The caller must then not acknowledge the batch: the worker ends, a restart retries it.
    _constrain(
        database,
        "ALTER TABLE ingest_errors ADD CONSTRAINT no_park CHECK (reason NOT LIKE '%park me%')",
    )
    (tmp_path / "in-the-way").write_text("a file", encoding="utf-8")
    writer = SnapshotWriter(database, retry_attempts=1, parking_dir=tmp_path / "in-the-way")
    with pytest.raises(FileExistsError):
        await writer.write(PreparedBatch(dead_letters=[_letter(1, "park me")]))
    await writer.close()
    assert stored_counts(database) == (0, 0, 0)
