"""Limits on what one request may ask: depth, aliases, tokens, and statement time."""

from __future__ import annotations

import httpx
import pytest

from graphql_api.db import create_pool, fetch_all
from graphql_api.errors import UserInputError
from graphql_api.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from procmon.settings import Settings
from tests.graphql_api.conftest import Fleet, post


async def test_too_many_aliases_are_refused_with_the_limit(client: httpx.AsyncClient) -> None:
    fields = " ".join(f"m{n}: machines {{ machineId }}" for n in range(MAX_ALIASES + 1))
    body = await post(client, f"{{ {fields} }}")
    assert body["data"] is None
    assert "aliases" in body["errors"][0]["message"]
    assert str(MAX_ALIASES) in body["errors"][0]["message"]


async def test_too_deep_a_query_is_refused_with_the_limit(client: httpx.AsyncClient) -> None:
    # The deepest real query (fragments count too) is answered. The schema has no chain of
    # fields past the limit, so the deep one names unknown fields: depth is checked anyway.
    query = """{ machinesRunning(processName: "x", from: "2024-01-01T00:00:00Z",
                                 to: "2024-01-02T00:00:00Z") { machine { ...M } } }
      fragment M on Machine { latestSnapshot { processes { edges { node { pid } } } } }"""
    assert "errors" not in await post(client, query)
    deep = "{ a { b { c { d { e { f { g { h { i { j { k { l } } } } } } } } } } } }"
    body = await post(client, deep)
    assert body["data"] is None
    assert any(
        f"exceeds maximum operation depth of {MAX_DEPTH}" in error["message"]
        for error in body["errors"]
    )


async def test_too_many_tokens_are_refused(client: httpx.AsyncClient) -> None:
    fields = " ".join("machineId" for _ in range(MAX_TOKENS))
    body = await post(client, f"{{ machines {{ {fields} }} }}")
    assert body["data"] is None
    assert f"more than {MAX_TOKENS} tokens" in body["errors"][0]["message"]


async def test_a_query_within_the_limits_is_answered(client: httpx.AsyncClient) -> None:
    body = await post(client, "{ a: machines { machineId } b: machines { osType } }")
    assert "errors" not in body
    assert len(body["data"]["a"]) == 3


async def test_a_statement_over_the_timeout_is_cancelled_with_a_clear_error(
    fleet: Fleet, database_url: str
) -> None:
    pool = create_pool(Settings(database_url=database_url, api_statement_timeout=0.05))
    await pool.open()
    try:
        with pytest.raises(UserInputError, match="statement timeout"):
            await fetch_all(pool, "SELECT pg_sleep(1)", {})
        assert await fetch_all(pool, "SELECT 1 AS one", {}) == [{"one": 1}]
    finally:
        await pool.close()


async def test_queries_go_to_the_read_replica_when_one_is_given(
    fleet: Fleet, database_url: str
) -> None:
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:1/primary-is-away",
        api_read_database_url=database_url,
    )
    pool = create_pool(settings)
    await pool.open()
    try:
        rows = await fetch_all(pool, "SELECT count(DISTINCT machine_id) AS n FROM commands", {})
    finally:
        await pool.close()
    assert rows == [{"n": 3}]
