"""One request's budget across all its fields: rows, time and answer bytes; large answers
are not cached."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import psycopg
import pytest

from graphql_api import sql
from tests.graphql_api.conftest import BIG_ROWS, Fleet, Serve, post

pytestmark = pytest.mark.timeout(120)


def _aliases(count: int, field: str) -> str:
    return "{ " + " ".join(f"a{n}: {field}" for n in range(count)) + " }"


def _messages(body: dict[str, object]) -> list[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [error["message"] for error in errors]


async def test_rows_are_charged_across_aliases_before_they_run(
    fleet: Fleet, database_url: str, serve: Serve
) -> None:
    field = "processStats(groupBy: [USER], limit: 10000) { processCount }"
    async with serve(database_url, api_request_rows=25_000) as client:
        body = await post(client, _aliases(3, field))
    # Two aliases reserve 20,000 rows of 25,000: the third cannot have its 10,000.
    assert _messages(body) == [
        "the request would fetch more than its budget of 25000 rows"
        " (PROCMON_API_REQUEST_ROWS), across all its fields; ask for less (fewer fields or"
        " aliases, a narrower time range, a smaller limit)"
    ]
    # processStats is a non-null list: its error nulls the whole answer.
    assert body["data"] is None


def _running_statements(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT query FROM pg_stat_activity WHERE datname = current_database()
                 AND pid <> pg_backend_pid() AND state = 'active'"""
        ).fetchall()
    return [row[0] for row in rows]


def _idle_soon(database_url: str) -> list[str]:
    """The statements still running after up to 10 s of waiting for none to be."""
    deadline = time.monotonic() + 10
    while (running := _running_statements(database_url)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return running


async def test_time_is_one_budget_across_statements_and_cuts_them(
    big_database: str, serve: Serve
) -> None:
    # Each statement groups 300,000 rows by name, well within the statement timeout; one
    # connection runs them one after the other, so together they outlast the budget.
    field = 'processStats(groupBy: [PROCESS_NAME], bucket: "1m", limit: 10) { processCount }'
    async with serve(
        big_database, api_pool_size=1, api_request_seconds=0.2, api_statement_timeout=30
    ) as client:
        body = await post(client, _aliases(20, field))
        # Each statement cut is cancelled in PostgreSQL (it would run for seconds); the
        # server cancels on this event loop, so the test waits in a thread.
        assert await asyncio.to_thread(_idle_soon, big_database) == []
        after = await post(client, "{ machines { machineId } }")
    messages = _messages(body)
    assert messages
    assert set(messages) == {
        "the request ran past its time budget of 0.2 s (PROCMON_API_REQUEST_SECONDS), across"
        " all its fields; ask for less (fewer fields or aliases, a narrower time range, a"
        " smaller limit)"
    }
    # The connection whose statement was cancelled serves the next request.
    assert after == {"data": {"machines": [{"machineId": "big"}]}}


async def test_raw_output_is_charged_its_size_before_it_is_read(
    big_database: str, serve: Serve
) -> None:
    field = 'snapshot(id: "1") { rawOutput }'
    async with serve(big_database, api_max_response_bytes=2_500_000) as client:
        two = await post(client, _aliases(2, field))
        three = await post(client, _aliases(3, field))
    assert "errors" not in two
    assert [len(value["rawOutput"]) for value in two["data"].values()] == [1_000_000] * 2
    assert _messages(three) == [
        "rawOutput: 1000000 bytes would take the answer over its limit of 2500000 bytes"
        " (PROCMON_API_MAX_RESPONSE_BYTES); ask for less (fewer fields or aliases, a narrower"
        " time range, a smaller limit)"
    ]


async def test_an_answer_over_the_size_limit_is_an_error(big_database: str, serve: Serve) -> None:
    query = "{ processes(first: 1000) { nodes { commandLine } } }"
    async with serve(big_database, api_max_response_bytes=50_000) as client:
        body = await post(client, query)
    assert body["data"] is None
    [message] = _messages(body)
    assert message.startswith("the answer is ")
    assert message.endswith(
        " bytes, over the limit of 50000 bytes (PROCMON_API_MAX_RESPONSE_BYTES);"
        " ask for fewer fields, rows or aliases"
    )


async def test_answers_over_the_cache_limit_are_not_cached(big_database: str, serve: Serve) -> None:
    large = "{ processes(first: 1000) { nodes { commandLine } } }"
    small = "{ machines { machineId } }"
    async with serve(big_database, api_cache_max_bytes=10_000) as client:
        for query in (large, large, small, small):
            assert "errors" not in await post(client, query)
        health = (await client.get("/healthz")).json()
    # The small answer was served from the cache the second time, the large one never.
    assert health["cache"] == {"hits": 1, "misses": 3}


def test_the_size_of_a_listing_is_read_without_its_text(big_database: str) -> None:
    with psycopg.connect(big_database) as conn:
        row = conn.execute(
            sql.RAW_OUTPUT_SIZES, {"ids": [1], "times": [datetime(2024, 5, 1, tzinfo=UTC)]}
        ).fetchone()
        processes = conn.execute("SELECT count(*) FROM processes").fetchone()
    assert row == (1, 1_000_000)
    assert processes == (BIG_ROWS,)
