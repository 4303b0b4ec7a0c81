"""``procmon replay``: reprocess the topic's history into the database, safe to run any time.

Reads the source topic from its start without joining the workers' group, keeps the messages
published at or after ``since``, and stores them exactly as a worker would; snapshots already
stored are skipped by the unique key, and bad messages land in ``ingest_errors`` once. It stops
when the topic has been quiet for ``idle_seconds`` (the end of the history). Batches take the
worker's path (:mod:`streams.ingest`), so a batch that stored snapshots bumps the API's cache
generation; with Redis down the replay stores all the same, and says so once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer

from procmon.cache import FailOpenRedis
from procmon.kafka_security import kafka_client_options, start_client
from procmon.object_store import open_store
from procmon.settings import Settings
from streams.batch import RawMessage, prepare_batch
from streams.history import ProcessHistory
from streams.ingest import IngestPath
from streams.writer import SnapshotWriter

__all__ = ["ReplayResult", "replay_topic"]


@dataclass(slots=True)
class ReplayResult:
    """What a replay read and stored."""

    messages: int = 0
    snapshots_stored: int = 0
    snapshots_already_stored: int = 0
    dead_letters: int = 0


async def replay_topic(
    settings: Settings, since: datetime | None = None, idle_seconds: float = 3.0
) -> ReplayResult:
    """Store every message of the topic published at or after ``since``."""
    since_ms = None if since is None else since.timestamp() * 1000
    consumer = AIOKafkaConsumer(
        settings.topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kafka_client_options(settings),
    )
    writer = SnapshotWriter(
        settings.database_url,
        retry_attempts=settings.db_retry_attempts,
        parking_dir=settings.parking_dir,
        history=ProcessHistory.from_settings(settings),
    )
    cache = FailOpenRedis(settings.redis_url, settings.redis_prefix)
    ingest_path = IngestPath(cache)
    result = ReplayResult()
    await start_client(consumer, settings)
    try:
        store = open_store(settings.object_store_url)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_seconds:
            fetched = await consumer.getmany(timeout_ms=500, max_records=settings.batch_size)
            records = [record for batch in fetched.values() for record in batch]
            if not records:
                continue
            quiet_since = time.monotonic()
            messages = [
                RawMessage(r.topic, r.partition, r.offset, r.key, r.value or b"")
                for r in records
                if since_ms is None or r.timestamp >= since_ms
            ]
            batch = prepare_batch(messages, store=store, limits=settings)
            stored = await ingest_path.store(batch, writer)
            result.messages += len(messages)
            result.snapshots_stored += stored.snapshots_stored
            result.snapshots_already_stored += (
                stored.snapshots_already_stored + batch.duplicates_in_batch
            )
            result.dead_letters += stored.dead_letters
    finally:
        await consumer.stop()
        await writer.close()
        await cache.close()
    return result
