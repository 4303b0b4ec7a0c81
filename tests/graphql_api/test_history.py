"""processHistory, the history fields of Process (filters, orders) and processStats' interval
CPU, over the small fleet with history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.graphql_api.conftest import Serve, post
from tests.graphql_api.history_fleet import BUSY, IDLE, REUSED, SERVICE, insert_history_fleet

HISTORY = """query ($key: ID!, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  processHistory(processKey: $key, from: $from, to: $to, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { processKey observedAt pid user intervalSeconds intervalCpuPercent
            startTimePrecision } } }"""

PROCESSES = """query ($filter: ProcessFilter, $orderBy: ProcessOrderBy) {
  processes(filter: $filter, orderBy: $orderBy, first: 50) {
    nodes { processKey observedAt intervalCpuPercent } } }"""

STATS = """query ($groupBy: [ProcessGroupBy!]!, $from: DateTime, $to: DateTime) {
  processStats(groupBy: $groupBy, from: $from, to: $to) {
    machineId processCount cpuSeconds avgIntervalCpuPercent maxIntervalCpuPercent } }"""


@pytest.fixture
async def history(clean_database: str, serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    insert_history_fleet(clean_database)
    with psycopg.connect(clean_database) as conn:
        # A start time printed to the minute (ps aux's 14:03), on BUSY's rows only.
        conn.execute(
            "UPDATE processes SET start_time_precision = 60 WHERE process_key = %s", (BUSY,)
        )
    async with serve(clean_database) as http:
        yield http


async def _data(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await post(client, query, **variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_a_process_over_time_oldest_first_in_pages(history: httpx.AsyncClient) -> None:
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await _data(history, HISTORY, key=str(BUSY), first=2, after=after))[
            "processHistory"
        ]
        assert page["totalCount"] == 5
        rows += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [row["observedAt"][:16] for row in rows] == [
        "2024-05-01T22:00", "2024-05-01T23:00", "2024-05-02T01:00", "2024-05-02T12:00",
        "2024-05-03T02:00",
    ]  # fmt: skip
    assert {row["processKey"] for row in rows} == {str(BUSY)}
    assert [row["intervalSeconds"] for row in rows] == [None, 3600, 7200, 39600, 50400]
    assert [row["intervalCpuPercent"] for row in rows] == [None, 50, 25, 10, 5]
    assert [row["user"] for row in rows] == ["root"] * 3 + ["www"] * 2
    assert {row["startTimePrecision"] for row in rows} == {60}


async def test_history_in_a_range_and_of_a_reused_pid(history: httpx.AsyncClient) -> None:
    data = await _data(
        history,
        HISTORY,
        key=str(REUSED),
        **{"from": "2024-05-02T02:00:00Z"},
        to="2024-05-03T00:00:00Z",
    )
    (row,) = data["processHistory"]["nodes"]
    assert (row["pid"], row["observedAt"][:16]) == (200, "2024-05-02T12:00")
    idle = await _data(history, HISTORY, key=str(IDLE))
    assert len(idle["processHistory"]["nodes"]) == 2
    unknown = await _data(history, HISTORY, key="999")
    assert unknown["processHistory"]["nodes"] == []


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"key": "busy"}, "processHistory: processKey must be a whole number"),
        ({"key": "-1"}, "processHistory: processKey must be a whole number"),
        ({"key": "9" * 19}, "processHistory: processKey must be a whole number"),
        ({"key": "1", "first": 10_000}, "processHistory: first must be between 1 and"),
        (
            {"key": "1", "from": "2024-05-03T00:00:00Z", "to": "2024-05-02T00:00:00Z"},
            "processHistory: 'from' must be before 'to'",
        ),
        ({"key": "1", "after": "x"}, "processHistory: 'after' is not a cursor"),
    ],
)
async def test_bad_history_input_is_named(
    history: httpx.AsyncClient, variables: dict[str, Any], message: str
) -> None:
    body = await post(history, HISTORY, **variables)
    assert body["data"] is None
    assert message in body["errors"][0]["message"]


async def test_processes_filter_and_order_by_the_history_columns(
    history: httpx.AsyncClient,
) -> None:
    busiest = await _data(
        history,
        PROCESSES,
        filter={"intervalCpuPercent": {"greaterThanOrEqualTo": 20}},
        orderBy="INTERVAL_CPU_PERCENT_DESC",
    )
    assert [(n["processKey"], n["intervalCpuPercent"]) for n in busiest["processes"]["nodes"]] == [
        (str(REUSED), 100), (str(BUSY), 50), (str(BUSY), 25), (str(SERVICE), 20),
    ]  # fmt: skip
    first_sightings = await _data(
        history,
        PROCESSES,
        filter={"intervalSeconds": {"isNull": True}, "processKey": {"in": [BUSY, REUSED]}},
        orderBy="OBSERVED_AT_ASC",
    )
    assert [n["processKey"] for n in first_sightings["processes"]["nodes"]] == [
        str(BUSY),
        str(REUSED),
    ]
    # Rows without a value come last either way.
    ascending = await _data(history, PROCESSES, orderBy="INTERVAL_CPU_PERCENT_ASC")
    values = [n["intervalCpuPercent"] for n in ascending["processes"]["nodes"]]
    assert values[:8] == [0, 5, 10, 20, 25, 50, 100, None]


async def test_stats_add_up_the_interval_cpu(history: httpx.AsyncClient) -> None:
    data = await _data(
        history,
        STATS,
        groupBy=["MACHINE"],
        **{"from": "2024-05-01T22:30:00Z"},
        to="2024-05-03T01:00:00Z",
    )
    # m1: 23:00 BUSY 1800 + IDLE 0 over 3600 + 3600 s; 01:00 BUSY 1800 over 7200 s (REUSED
    # unmeasured); 12:00 BUSY 3960 + REUSED 39600 over 39600 + 39600 s.
    assert data["processStats"] == [
        {"machineId": "m1", "processCount": 6, "cpuSeconds": 47160.0,
         "avgIntervalCpuPercent": 100 * 47160 / 93600, "maxIntervalCpuPercent": 100.0},
        {"machineId": "m2", "processCount": 2, "cpuSeconds": 720.0,
         "avgIntervalCpuPercent": 20.0, "maxIntervalCpuPercent": 20.0},
    ]  # fmt: skip
    unmeasured = await _data(history, STATS, groupBy=[], to="2024-05-01T22:30:00Z")
    assert unmeasured["processStats"] == [
        {"machineId": None, "processCount": 2, "cpuSeconds": None,
         "avgIntervalCpuPercent": None, "maxIntervalCpuPercent": None},
    ]  # fmt: skip
