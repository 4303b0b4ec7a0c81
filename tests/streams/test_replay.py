"""Replaying the topic's history into the database is idempotent, and needs no Redis."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from procmon.kafka import ensure_topics, publish_raw
from procmon.settings import Settings
from streams.replay import replay_topic
from tests.conftest import stored_counts
from tests.e2e.harness import ROWS_PER_SNAPSHOT, snapshot_envelopes


def replay_settings(database_url: str, broker: str, **changes: object) -> Settings:
    """Settings of a replay of a topic of its own, on the test broker, into ``database_url``."""
    fields: dict[str, object] = {
        "database_url": database_url,
        "kafka_bootstrap": broker,
        "kafka_idempotence": False,
        "topic": f"history-{uuid.uuid4().hex[:8]}",
    }
    return Settings.model_validate(fields | changes)


async def test_replay_stores_history_once_and_honours_since(
    clean_database: str, broker: str
) -> None:
    settings = replay_settings(clean_database, broker)
    await ensure_topics(settings)
    envelopes = snapshot_envelopes(40)
    await publish_raw(settings, [(e.key, e.to_bytes()) for e in envelopes] + [(b"x", b"junk")])

    first = await replay_topic(settings, idle_seconds=1.5)
    again = await replay_topic(settings, idle_seconds=1.5)
    later = await replay_topic(
        settings, since=datetime.now(UTC) + timedelta(minutes=1), idle_seconds=1.5
    )

    assert (first.messages, first.snapshots_stored, first.dead_letters) == (41, 40, 1)
    assert (again.snapshots_stored, again.snapshots_already_stored) == (0, 40)
    assert later.messages == 0
    assert stored_counts(clean_database) == (40, 40 * ROWS_PER_SNAPSHOT, 1)


async def test_replay_with_redis_down_stores_every_batch_and_says_so_once(
    clean_database: str, broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replay_settings(
        clean_database, broker, redis_url="redis://127.0.0.1:1/0", batch_size=10
    )
    caplog.set_level(logging.WARNING, logger="procmon.cache")
    await ensure_topics(settings)
    envelopes = snapshot_envelopes(30)
    await publish_raw(settings, [(e.key, e.to_bytes()) for e in envelopes])

    result = await replay_topic(settings, idle_seconds=1.5)

    assert (result.messages, result.snapshots_stored) == (30, 30)
    assert stored_counts(clean_database) == (30, 30 * ROWS_PER_SNAPSHOT, 0)
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
