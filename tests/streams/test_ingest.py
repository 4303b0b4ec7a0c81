"""The one ingest path: a cached API answer does not outlive a replay, and the path's order."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
import redis

from procmon.cache import GENERATION, FailOpenRedis
from procmon.envelope import Envelope
from procmon.kafka import ensure_topics, publish_raw
from streams.batch import PreparedBatch, RawMessage, prepare_batch
from streams.failures import Failure
from streams.ingest import IngestPath
from streams.recent import RecentKeys
from streams.replay import replay_topic
from streams.writer import SnapshotWriter
from tests.conftest import REDIS_URL, stored_counts
from tests.e2e.harness import ROWS_PER_SNAPSHOT, snapshot_envelopes
from tests.graphql_api import conftest as api_fixtures
from tests.graphql_api.conftest import Serve, post
from tests.streams.test_replay import replay_settings

# The API tests' fixture, taken by name: the app in-process, with the cache on under the
# test's own Redis prefix.
serve = api_fixtures.serve

MACHINES = "{ machines { machineId snapshotCount } }"


async def _machines(client: httpx.AsyncClient) -> dict[str, int]:
    body = await post(client, MACHINES)
    return {m["machineId"]: m["snapshotCount"] for m in body["data"]["machines"]}


async def _cache_hits(client: httpx.AsyncClient) -> int:
    hits: int = (await client.get("/healthz")).json()["cache"]["hits"]
    return hits


async def test_an_answer_cached_before_a_replay_is_not_served_after_it_stored_snapshots(
    clean_database: str, broker: str, redis_prefix: str, serve: Serve
) -> None:
    settings = replay_settings(
        clean_database, broker, redis_url=REDIS_URL, redis_prefix=redis_prefix
    )
    await ensure_topics(settings)
    machine_a = snapshot_envelopes(3, machines=1)
    # One machine more: the listing at n=3 of two machines is the second machine's.
    machine_b = snapshot_envelopes(1, machines=2, start=3)
    a, b = machine_a[0].machine_id, machine_b[0].machine_id
    await publish_raw(settings, [(e.key, e.to_bytes()) for e in machine_a])
    assert (await replay_topic(settings, idle_seconds=1.5)).snapshots_stored == 3

    async with serve(clean_database) as client:
        assert await _machines(client) == {a: 3}
        assert await _machines(client) == {a: 3}
        assert await _cache_hits(client) == 1, "the answer is cached"

        await publish_raw(settings, [(e.key, e.to_bytes()) for e in machine_b])
        again = await replay_topic(settings, idle_seconds=1.5)
        assert (again.snapshots_stored, again.snapshots_already_stored) == (1, 3)

        assert await _machines(client) == {a: 3, b: 1}


def _generation(redis_prefix: str) -> int | None:
    client = redis.Redis.from_url(REDIS_URL)
    value = client.get(f"{redis_prefix}:{GENERATION}")
    client.close()
    return None if value is None else int(value)


def _batch(envelopes: list[Envelope], *bad_values: bytes) -> PreparedBatch:
    """A prepared batch of the envelopes' messages and one message of each bad value."""
    values = [(e.key, e.to_bytes()) for e in envelopes] + [(b"bad", v) for v in bad_values]
    return prepare_batch(
        [RawMessage("raw", 0, offset, key, value) for offset, (key, value) in enumerate(values)]
    )


async def test_the_batch_is_committed_and_the_generation_bumped_before_the_acknowledgement(
    clean_database: str, redis_prefix: str, tmp_path: Path
) -> None:
    # What each step found when it ran: the rows of commands, processes and ingest_errors.
    published: list[tuple[int, tuple[int, int, int]]] = []
    acknowledged: list[tuple[tuple[int, int, int], int | None]] = []

    async def publish(failures: Sequence[Failure]) -> None:
        published.append((len(failures), stored_counts(clean_database)))

    async def acknowledge() -> None:
        acknowledged.append((stored_counts(clean_database), _generation(redis_prefix)))

    recent = RecentKeys(100)
    cache = FailOpenRedis(REDIS_URL, redis_prefix)
    path = IngestPath(cache, publish=publish, recent=recent)
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    batch = _batch(snapshot_envelopes(2), b"junk")
    try:
        result = await path.store(batch, writer, acknowledge)
    finally:
        await writer.close()
        await cache.close()

    assert (result.snapshots_stored, result.dead_letters) == (2, 1)
    # The dead letter is sent before it is recorded; the refused snapshots (none) after.
    assert published == [(1, (0, 0, 0)), (0, (2, 2 * ROWS_PER_SNAPSHOT, 1))]
    assert acknowledged == [((2, 2 * ROWS_PER_SNAPSHOT, 1), 1)]
    assert all(snapshot.key in recent for snapshot in batch.snapshots)


async def test_a_batch_that_stores_nothing_new_leaves_the_generation(
    clean_database: str, redis_prefix: str, tmp_path: Path
) -> None:
    cache = FailOpenRedis(REDIS_URL, redis_prefix)
    path = IngestPath(cache)
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    envelopes = snapshot_envelopes(3)
    try:
        first = await path.store(_batch(envelopes), writer)
        again = await path.store(_batch(envelopes), writer)
        letters_only = await path.store(_batch([], b"junk"), writer)
    finally:
        await writer.close()
        await cache.close()

    assert first.snapshots_stored == 3
    assert (again.snapshots_stored, again.snapshots_already_stored) == (0, 3)
    assert (letters_only.snapshots_stored, letters_only.dead_letters) == (0, 1)
    assert _generation(redis_prefix) == 1


async def test_with_redis_down_batches_are_stored_and_acknowledged_and_it_is_said_once(
    clean_database: str, redis_prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="procmon.cache")
    acknowledgements = 0

    async def acknowledge() -> None:
        nonlocal acknowledgements
        acknowledgements += 1

    cache = FailOpenRedis("redis://127.0.0.1:1/0", redis_prefix)
    path = IngestPath(cache)
    writer = SnapshotWriter(clean_database, retry_attempts=1, parking_dir=tmp_path)
    try:
        for start in (0, 2, 4):
            await path.store(_batch(snapshot_envelopes(2, start=start)), writer, acknowledge)
    finally:
        await writer.close()
        await cache.close()

    assert stored_counts(clean_database) == (6, 6 * ROWS_PER_SNAPSHOT, 0)
    assert acknowledgements == 3
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
