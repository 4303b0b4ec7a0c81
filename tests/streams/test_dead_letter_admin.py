"""Listing and replaying dead letters against the real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from procmon.errors import EnvelopeError, MessageContext
from procmon.kafka import ensure_topics
from procmon.settings import Settings
from streams.batch import DeadLetter, PreparedBatch, RawMessage
from streams.dead_letter_admin import list_dead_letters, replay_dead_letters
from streams.writer import SnapshotWriter


def _letter(offset: int) -> DeadLetter:
    message = RawMessage("raw", 0, offset, f"k{offset}".encode(), f"body {offset}".encode())
    return DeadLetter(message, EnvelopeError("message is not JSON", MessageContext(offset=offset)))


async def _read(settings: Settings, count: int) -> list[tuple[bytes | None, bytes | None]]:
    consumer = AIOKafkaConsumer(
        settings.topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[tuple[bytes | None, bytes | None]] = []
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                found.append((record.key, record.value))
                if len(found) == count:
                    break
    finally:
        await consumer.stop()
    return found


async def test_replay_sends_each_letter_back_once(
    clean_database: str, broker: str, tmp_path: Path
) -> None:
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    await writer.write(PreparedBatch(dead_letters=[_letter(1), _letter(2), _letter(3)]))
    await writer.close()
    settings = Settings(
        database_url=clean_database,
        kafka_bootstrap=broker,
        kafka_idempotence=False,
        topic=f"replay-{uuid.uuid4().hex[:8]}",
        parking_dir=tmp_path,
    )
    await ensure_topics(settings)
    ids = [record.id for record in list_dead_letters(settings)]
    assert len(ids) == 3

    assert (await replay_dead_letters(settings, ids=[min(ids)])).replayed == 1
    assert (await replay_dead_letters(settings)).replayed == 2
    assert (await replay_dead_letters(settings)).replayed == 0

    replayed = sorted(await _read(settings, 3))
    assert replayed == [(b"k1", b"body 1"), (b"k2", b"body 2"), (b"k3", b"body 3")]
    assert all(record.replayed_at is not None for record in list_dead_letters(settings))
