"""A real worker with an object store: listings by reference stored, unreadable ones dead-lettered.

The collector's path (``procmon.kafka.publish``) sends a listing too large for the broker by
reference; a worker process reads it back from the store. References whose object is missing
or altered become dead letters, and the listing after them on the same partition is stored.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from procmon.envelope import Envelope, make_envelope
from procmon.kafka import ensure_topics, publish, publish_raw
from procmon.object_store import FilesystemStore
from tests.conftest import migrated_database, stored_counts
from tests.e2e.harness import BASE_TIME, HEADER, Workers, wait_for, worker_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROWS = 2000


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_database("procmon_objects") as url:
        yield url


@pytest.fixture
def workers(broker: str, database: str, redis_prefix: str, tmp_path: Path) -> Iterator[Workers]:
    settings = worker_settings(
        broker,
        database,
        redis_prefix,
        kafka_max_message_bytes=100_000,
        object_store_url=f"file://{tmp_path / 'store'}",
        parking_dir=tmp_path / "parked",
    )
    (tmp_path / "logs").mkdir()
    group = Workers(settings, tmp_path / "logs")
    yield group
    group.stop_all()


def _envelope(raw_output: str, minute: int) -> Envelope:
    # One machine: every message goes to the same partition, in this order.
    return make_envelope(
        raw_output=raw_output,
        machine_id="objects",
        machine_name="objects",
        os_type="linux",
        os_version="6.1",
        command_type="ps aux",
        timestamp=BASE_TIME + timedelta(minutes=minute),
    )


def _listing(rows: int, seed: int) -> str:
    """A `ps aux` listing of random command lines, which compression cannot shrink much."""
    noise = random.Random(seed).randbytes(rows * 50).hex()
    lines = (
        f"root {pid} 0.0 0.1 1024 512 ? S 10:00 0:01 /bin/p {noise[pid * 100 : pid * 100 + 90]}"
        for pid in range(1, rows + 1)
    )
    return HEADER + "\n" + "\n".join(lines) + "\n"


def _rows(database: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(sql).fetchall()


def test_a_worker_reads_listings_by_reference_and_dead_letters_the_unreadable(
    workers: Workers, database: str, tmp_path: Path
) -> None:
    settings = workers.settings
    large = _listing(ROWS, seed=1)
    # A reference to a store the worker does not have: the object is missing for it.
    missing = _envelope(_listing(3, seed=2), 1)
    missing_ref = FilesystemStore(tmp_path / "elsewhere").put(missing.raw_output.encode())
    # A reference to an object altered after it was stored.
    store = FilesystemStore(tmp_path / "store")
    altered = _envelope(_listing(3, seed=3), 2)
    altered_ref = store.put(altered.raw_output.encode())
    (altered_file,) = (p for p in (tmp_path / "store").rglob("*") if p.is_file())
    altered_file.write_text(_listing(3, seed=4))
    small = _listing(1, seed=5)

    async def send() -> None:
        await ensure_topics(settings)
        assert await publish(settings, [_envelope(large, 0)]) == 1
        unreadable = [missing.by_reference(missing_ref), altered.by_reference(altered_ref)]
        await publish_raw(settings, [(e.key, e.to_bytes()) for e in unreadable])
        assert await publish(settings, [_envelope(small, 3)]) == 1

    asyncio.run(send())
    worker = workers.start()

    wait_for(lambda: stored_counts(database) == (2, ROWS + 1, 2), "two snapshots, two dead letters")
    assert worker.poll() is None, workers.logs()
    stored = _rows(
        database,
        "SELECT r.raw_output, c.process_count FROM commands c"
        ' JOIN raw_outputs r ON r.command_id = c.id AND r."timestamp" = c."timestamp"'
        ' ORDER BY c."timestamp"',
    )
    assert stored == [(large, ROWS), (small, 1)]
    errors = _rows(database, 'SELECT error_class, reason FROM ingest_errors ORDER BY "offset"')
    assert [error_class for error_class, _ in errors] == ["EnvelopeError", "EnvelopeError"]
    assert f"raw output unavailable: no object {missing_ref}" in str(errors[0][1])
    assert "does not match the SHA-256 of raw_output" in str(errors[1][1])
    assert f"(raw output read from {altered_ref})" in str(errors[1][1])
