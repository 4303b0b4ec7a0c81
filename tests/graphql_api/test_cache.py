"""The response cache on the real Redis: hits, invalidation by the worker's bump, failing open."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from graphql_api import create_app
from procmon.api_keys import create_api_key
from procmon.cache import GENERATION, FailOpenRedis
from procmon.devstack import free_port
from procmon.settings import Settings
from streams.sql import SUMMARIZE_MACHINES
from tests.conftest import REDIS_URL
from tests.graphql_api.conftest import Fleet, Serve, post

QUERY = "{ machines { machineId snapshotCount } }"


async def _health(client: httpx.AsyncClient) -> dict[str, int]:
    cache: dict[str, int] = (await client.get("/healthz")).json()["cache"]
    return cache


def _add_snapshot(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """INSERT INTO commands (machine_id, machine_name, os_type, os_version, command_type,
                   "timestamp", content_hash, schema_version, format, process_count)
               VALUES ('new', 'new', 'linux', '', 'ps aux', now(), repeat('a', 64), 1,
                       'ps aux', 0)"""
        )
        conn.execute(SUMMARIZE_MACHINES)


async def test_repeats_are_served_from_the_cache_until_the_generation_moves(
    fleet: Fleet, database_url: str, redis_prefix: str, serve: Serve
) -> None:
    async with serve(database_url) as client:
        first = await post(client, QUERY)
        again = await post(client, "{ machines {  machineId   snapshotCount } }")
        assert again == first
        assert await _health(client) == {"hits": 1, "misses": 1}

        _add_snapshot(database_url)
        assert await post(client, QUERY) == first, "stale until the worker's bump"
        await FailOpenRedis(REDIS_URL, redis_prefix).incr(GENERATION)
        fresh = await post(client, QUERY)
        assert len(fresh["data"]["machines"]) == len(first["data"]["machines"]) + 1
        assert await _health(client) == {"hits": 2, "misses": 2}


async def test_apps_with_other_page_sizes_do_not_share_answers(
    fleet: Fleet, database_url: str, serve: Serve
) -> None:
    # Both on the test's one Redis prefix: a page of snapshots without `first` is as long as
    # each app's own page size, whatever the other cached.
    query = "{ snapshots { nodes { id } } }"
    async with serve(database_url, api_page_size=2) as client:
        assert len((await post(client, query))["data"]["snapshots"]["nodes"]) == 2
    async with serve(database_url, api_page_size=3) as client:
        assert len((await post(client, query))["data"]["snapshots"]["nodes"]) == 3
        assert await _health(client) == {"hits": 0, "misses": 1}


async def test_errors_are_not_cached(fleet: Fleet, database_url: str, serve: Serve) -> None:
    async with serve(database_url) as client:
        for _ in range(2):
            body = await post(client, '{ snapshot(id: "nope") { id } }')
            assert body["errors"]
        assert await _health(client) == {"hits": 0, "misses": 2}


async def test_with_redis_down_every_request_is_answered_and_logged_once(
    fleet: Fleet, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=database_url, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    caplog.set_level(logging.WARNING, logger="procmon.cache")
    key = {"Authorization": f"Bearer {create_api_key(database_url, name='t', role='reader')}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t", headers=key) as client,
    ):
        answers = [await post(client, QUERY) for _ in range(5)]
    assert all(answer == answers[0] and "errors" not in answer for answer in answers)
    assert len(answers[0]["data"]["machines"]) == 3
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1


async def test_metrics_count_requests_errors_and_cache_lookups(
    fleet: Fleet, database_url: str, serve: Serve
) -> None:
    async with serve(database_url) as client:
        await post(client, QUERY)
        await post(client, QUERY)
        await post(client, '{ snapshot(id: "nope") { id } }')
        text = (await client.get("/metrics")).text
    assert "procmon_api_requests_total 3.0" in text
    assert 'procmon_api_errors_total{kind="client"} 1.0' in text
    assert 'procmon_api_cache_lookups_total{result="hit"} 1.0' in text
    assert 'procmon_api_cache_lookups_total{result="miss"} 2.0' in text
    assert "procmon_api_request_seconds_count 3.0" in text


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own (its URL and process), so stopping it stops no one."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url, server
    if server.poll() is None:
        server.kill()
    server.wait()


async def test_a_redis_stopped_mid_use_costs_only_the_cache(
    fleet: Fleet,
    database_url: str,
    private_redis: tuple[str, subprocess.Popen[bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis_url, server = private_redis
    app = create_app(Settings(database_url=database_url, redis_url=redis_url))
    key = {"Authorization": f"Bearer {create_api_key(database_url, name='t', role='reader')}"}
    caplog.set_level(logging.WARNING, logger="procmon.cache")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=key
        ) as client,
    ):
        first = await post(client, QUERY)
        assert await post(client, QUERY) == first
        assert await _health(client) == {"hits": 1, "misses": 1}
        server.terminate()
        await asyncio.to_thread(server.wait, 10)
        after = [await post(client, QUERY) for _ in range(3)]
    assert after == [first] * 3
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
