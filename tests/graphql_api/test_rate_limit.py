"""The per-key rate limit: 429 with Retry-After past the limit, counted in Redis across API
processes, by the key's hash; off at 0, and open when Redis is away."""

from __future__ import annotations

import hashlib

import redis

from procmon.api_keys import create_api_key
from procmon.cache import FailOpenRedis
from tests.conftest import REDIS_URL
from tests.graphql_api.conftest import Fleet, Serve

QUERY = {"query": "{ machines { machineId } }"}
# Long windows: a test's requests all fall in one window, whenever it runs.
HOUR = 3600


def _rate_counters(prefix: str) -> list[str]:
    client = redis.Redis.from_url(REDIS_URL)
    names = [name.decode() for name in client.scan_iter(f"{prefix}:rate:*")]
    client.close()
    return names


async def test_a_key_past_its_limit_gets_429_with_retry_after(
    fleet: Fleet, database_url: str, serve: Serve, redis_prefix: str
) -> None:
    other = create_api_key(database_url, name="other", role="reader")
    async with serve(database_url, api_rate_limit=3, api_rate_window=HOUR) as client:
        token = client.headers["Authorization"].removeprefix("Bearer ")
        allowed = [(await client.post("/graphql", json=QUERY)).status_code for _ in range(3)]
        refused = await client.post("/graphql", json=QUERY)
        export = await client.get("/export/processes", params={"format": "ndjson"})
        others = await client.post(
            "/graphql", json=QUERY, headers={"Authorization": f"Bearer {other}"}
        )
    assert allowed == [200, 200, 200]
    assert refused.status_code == export.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= HOUR
    assert refused.json() == {
        "errors": [
            {
                "message": f"rate limit exceeded: at most 3 requests per {HOUR} s per API key;"
                f" retry in {retry_after} s",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
            }
        ]
    }
    assert others.status_code == 200
    counters = _rate_counters(redis_prefix)
    assert len(counters) == 2
    assert any(hashlib.sha256(token.encode()).hexdigest() in name for name in counters)
    assert not any(token in name or other in name for name in counters)


async def test_api_processes_share_the_count(fleet: Fleet, database_url: str, serve: Serve) -> None:
    shared = f"Bearer {create_api_key(database_url, name='shared', role='reader')}"
    statuses = []
    for _process in range(2):
        async with serve(database_url, api_rate_limit=4, api_rate_window=HOUR) as client:
            client.headers["Authorization"] = shared
            statuses += [(await client.post("/graphql", json=QUERY)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200, 200, 429, 429]


async def test_wrong_keys_and_a_limit_of_zero_count_nothing(
    fleet: Fleet, database_url: str, serve: Serve, redis_prefix: str
) -> None:
    async with serve(database_url, api_rate_limit=1, api_rate_window=HOUR) as client:
        wrong = {
            (
                await client.post("/graphql", json=QUERY, headers={"Authorization": "Bearer pmk_x"})
            ).status_code
            for _ in range(3)
        }
    async with serve(database_url, api_rate_limit=0) as client:
        unlimited = {(await client.post("/graphql", json=QUERY)).status_code for _ in range(5)}
    assert wrong == {401}
    assert unlimited == {200}
    assert _rate_counters(redis_prefix) == []


async def test_without_redis_the_limit_fails_open(
    fleet: Fleet, database_url: str, serve: Serve
) -> None:
    async with serve(
        database_url, redis_url="redis://127.0.0.1:1/0", api_rate_limit=1, api_rate_window=HOUR
    ) as client:
        statuses = [(await client.post("/graphql", json=QUERY)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


async def test_a_counter_counts_and_expires(redis_prefix: str) -> None:
    cache = FailOpenRedis(REDIS_URL, redis_prefix)
    counts = [await cache.count("c", ttl_seconds=30) for _ in range(3)]
    await cache.close()
    client = redis.Redis.from_url(REDIS_URL)
    ttl = client.ttl(f"{redis_prefix}:c")
    client.close()
    assert counts == [1, 2, 3]
    assert 0 < ttl <= 30
