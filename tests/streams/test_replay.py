"""Replaying the topic's history into the database is idempotent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from procmon.kafka import ensure_topics, publish_raw
from procmon.settings import Settings
from streams.replay import replay_topic
from tests.conftest import stored_counts
from tests.e2e.harness import ROWS_PER_SNAPSHOT, snapshot_envelopes


async def test_replay_stores_history_once_and_honours_since(
    clean_database: str, broker: str
) -> None:
    settings = Settings(
        database_url=clean_database,
        kafka_bootstrap=broker,
        kafka_idempotence=False,
        topic=f"history-{uuid.uuid4().hex[:8]}",
    )
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
