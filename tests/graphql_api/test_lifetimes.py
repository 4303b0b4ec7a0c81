"""processLifetimes over a small fleet with history: the same answer before, during and after
the daily rollup, across ranges with partial days; filters, orders, pages and bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import httpx
import psycopg
import pytest

from graphql_api.lifetimes import day_parts
from streams.rollup import count_all, count_pending
from tests.graphql_api.conftest import Serve, post
from tests.graphql_api.history_fleet import BUSY, IDLE, REUSED, SERVICE, insert_history_fleet

LIFETIMES = """query ($filter: LifetimeFilter, $from: DateTime, $to: DateTime,
                      $orderBy: LifetimeOrderBy, $first: Int, $after: String) {
  processLifetimes(filter: $filter, from: $from, to: $to, orderBy: $orderBy, first: $first,
                   after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { processKey machineId pid processName user commandLine firstSeen lastSeen
            snapshotCount cpuSeconds avgIntervalCpuPercent maxIntervalCpuPercent maxRssBytes
            machine { machineName osType } } } }"""

# From 22:30 on 1 May to 01:00 on 3 May: a partial day (the 23:00 snapshot), the whole of
# 2 May, and a partial day holding no snapshot (02:00 on 3 May is past the end).
RANGE = {"from": "2024-05-01T22:30:00Z", "to": "2024-05-03T01:00:00Z"}

# Worked out by hand from history_fleet's rows in RANGE: cpuSeconds is the sum of
# intervalCpuPercent x intervalSeconds / 100 of the rows in range.
EXPECTED = [
    # pid 200's second process: 01:00 (first sighting) and 12:00 (100% of 39600 s).
    {"processKey": str(REUSED), "machineId": "m1", "pid": 200, "processName": "new",
     "user": "alice", "commandLine": "new -x", "firstSeen": "2024-05-02T01:00:00+00:00",
     "lastSeen": "2024-05-02T12:00:00+00:00", "snapshotCount": 2, "cpuSeconds": 39600.0,
     "avgIntervalCpuPercent": 100.0, "maxIntervalCpuPercent": 100.0, "maxRssBytes": 80,
     "machine": {"machineName": "m1-name", "osType": "linux"}},
    # 23:00 (50% of 3600 s), 01:00 (25% of 7200 s), 12:00 (10% of 39600 s, user now www):
    # 1800 + 1800 + 3960 = 7560 s over 50400 s, 15%.
    {"processKey": str(BUSY), "machineId": "m1", "pid": 100, "processName": "busy",
     "user": "www", "commandLine": "busy --serve", "firstSeen": "2024-05-01T23:00:00+00:00",
     "lastSeen": "2024-05-02T12:00:00+00:00", "snapshotCount": 3, "cpuSeconds": 7560.0,
     "avgIntervalCpuPercent": 15.0, "maxIntervalCpuPercent": 50.0, "maxRssBytes": 4000,
     "machine": {"machineName": "m1-name", "osType": "linux"}},
    # 06:00 (first sighting) and 07:00 (20% of 3600 s).
    {"processKey": str(SERVICE), "machineId": "m2", "pid": 300, "processName": "svchost.exe",
     "user": "SYSTEM", "commandLine": None, "firstSeen": "2024-05-02T06:00:00+00:00",
     "lastSeen": "2024-05-02T07:00:00+00:00", "snapshotCount": 2, "cpuSeconds": 720.0,
     "avgIntervalCpuPercent": 20.0, "maxIntervalCpuPercent": 20.0, "maxRssBytes": None,
     "machine": {"machineName": "m2-name", "osType": "windows"}},
    # Its 23:00 row only (0% of 3600 s); pid 200 is another process from 01:00.
    {"processKey": str(IDLE), "machineId": "m1", "pid": 200, "processName": "idle",
     "user": "root", "commandLine": "idle", "firstSeen": "2024-05-01T23:00:00+00:00",
     "lastSeen": "2024-05-01T23:00:00+00:00", "snapshotCount": 1, "cpuSeconds": 0.0,
     "avgIntervalCpuPercent": 0.0, "maxIntervalCpuPercent": 0.0, "maxRssBytes": 50,
     "machine": {"machineName": "m1-name", "osType": "linux"}},
]  # fmt: skip


@pytest.fixture
def history_url(clean_database: str) -> str:
    with psycopg.connect(clean_database) as conn:
        conn.execute("TRUNCATE process_days")
    insert_history_fleet(clean_database)
    return clean_database


@pytest.fixture
async def history(history_url: str, serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(history_url) as http:
        yield http


async def _lifetimes(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    body = await post(client, LIFETIMES, **variables)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["processLifetimes"]
    return connection


async def _rollup(database_url: str, *, limit: int | None = None) -> int:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        if limit is None:
            return await count_all(conn)
        return await count_pending(conn, limit=limit)


async def _answers(client: httpx.AsyncClient) -> list[Any]:
    """The answers of ranges cutting the days differently, to compare across rollups."""
    ranges = [
        RANGE,
        {},
        {"from": "2024-05-02T00:00:00Z", "to": "2024-05-03T00:00:00Z"},
        {"from": "2024-05-02T00:30:00Z", "to": "2024-05-02T12:00:00Z"},
        {"to": "2024-05-02T06:30:00Z"},
        {"from": "2024-05-01T23:00:00Z"},
    ]
    answers: list[Any] = [(await _lifetimes(client, **r, first=50))["nodes"] for r in ranges]
    # One whole day (read straight from process_days once counted), filtered, paged by one.
    day = {"from": "2024-05-02T00:00:00Z", "to": "2024-05-03T00:00:00Z"}
    walked, after = [], None
    while True:
        page = await _lifetimes(
            client,
            **day,
            filter={"osType": {"equalTo": "linux"}, "user": {"in": ["www", "alice"]}},
            orderBy="LAST_SEEN_ASC",
            first=1,
            after=after,
        )
        walked += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return [*answers, walked, page["totalCount"]]


async def test_a_range_with_partial_days_added_up_by_hand(history: httpx.AsyncClient) -> None:
    connection = await _lifetimes(history, **RANGE)
    assert connection["nodes"] == EXPECTED
    assert connection["totalCount"] == 4


async def test_the_answer_is_the_same_before_during_and_after_the_rollup(
    history: httpx.AsyncClient, history_url: str
) -> None:
    before = await _answers(history)
    assert await _rollup(history_url, limit=3) == 3
    during = await _answers(history)
    assert await _rollup(history_url) == 4
    with psycopg.connect(history_url) as conn:
        (days,) = conn.execute("SELECT count(*) FROM process_days").fetchone() or (0,)
    # m1: BUSY and IDLE on 1 May, BUSY and REUSED on 2 May, BUSY on 3 May; m2: one.
    assert days == 6
    after = await _answers(history)
    assert before == during == after
    assert before[0] == EXPECTED
    assert [node["processKey"] for node in before[-2]] == [str(BUSY), str(REUSED)]
    assert before[-1] == 2


async def test_filters_read_the_machine_and_the_last_sighting(history: httpx.AsyncClient) -> None:
    async def keys(filter: dict[str, Any]) -> list[str]:
        nodes = (await _lifetimes(history, **RANGE, filter=filter))["nodes"]
        return [node["processKey"] for node in nodes]

    assert await keys({"machineId": {"equalTo": "m2"}}) == [str(SERVICE)]
    assert await keys({"osType": {"equalTo": "linux"}, "pid": {"equalTo": 200}}) == [
        str(REUSED),
        str(IDLE),
    ]
    # BUSY was root until 12:00, www at its last sighting in the range.
    assert await keys({"user": {"equalTo": "root"}}) == [str(IDLE)]
    assert await keys({"user": {"equalTo": "www"}}) == [str(BUSY)]
    assert await keys(
        {"or": [{"machineName": {"equalTo": "m2-name"}}, {"commandLine": {"like": "busy%"}}]}
    ) == [str(BUSY), str(SERVICE)]
    assert await keys({"not": {"processName": {"in": ["busy", "new"]}}}) == [
        str(SERVICE),
        str(IDLE),
    ]


@pytest.mark.parametrize(
    ("order", "keys"),
    [
        ("CPU_SECONDS_ASC", [IDLE, SERVICE, BUSY, REUSED]),
        ("MAX_RSS_BYTES_DESC", [BUSY, REUSED, IDLE, SERVICE]),
        ("FIRST_SEEN_ASC", [BUSY, IDLE, REUSED, SERVICE]),
        ("FIRST_SEEN_DESC", [SERVICE, REUSED, IDLE, BUSY]),
        ("LAST_SEEN_DESC", [REUSED, BUSY, SERVICE, IDLE]),
        ("LAST_SEEN_ASC", [IDLE, SERVICE, BUSY, REUSED]),
    ],
)
async def test_orders_and_their_pages(
    history: httpx.AsyncClient, order: str, keys: list[int]
) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = await _lifetimes(history, **RANGE, orderBy=order, first=3, after=after)
        seen += [node["processKey"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [str(key) for key in keys]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"from": "2024-05-02T00:00:00Z", "to": "2024-05-02T00:00:00Z"},
            "processLifetimes: 'from' must be before 'to'",
        ),
        ({"first": 0}, "processLifetimes: first must be between 1 and"),
        ({"after": "bogus"}, "processLifetimes: 'after' is not a cursor of this list"),
        ({"from": "2024-05-02T00:00:00"}, "processLifetimes: 'from' needs a UTC offset"),
        ({"filter": {"user": {}}}, "filter.user: give at least one operator"),
    ],
)
async def test_bad_input_is_named(
    history: httpx.AsyncClient, variables: dict[str, Any], message: str
) -> None:
    body = await post(history, LIFETIMES, **variables)
    assert body["data"] is None
    assert message in body["errors"][0]["message"]


async def test_a_cursor_of_another_order_is_refused(history: httpx.AsyncClient) -> None:
    page = await _lifetimes(history, **RANGE, first=1)
    body = await post(
        history, LIFETIMES, **RANGE, orderBy="LAST_SEEN_ASC", after=page["pageInfo"]["endCursor"]
    )
    assert "'after' is not a cursor of this list and order" in body["errors"][0]["message"]


async def test_threads_of_one_process_count_one_snapshot(
    history: httpx.AsyncClient, history_url: str
) -> None:
    with psycopg.connect(history_url) as conn:
        # A thread of BUSY listed after it at 12:00 on 2 May: its key, its own small interval.
        conn.execute(
            """INSERT INTO processes (command_id, machine_id, observed_at, line_number, pid,
                   process_key, process_name, "user", command_line, interval_seconds,
                   interval_cpu_percent)
               SELECT command_id, machine_id, observed_at, 3, pid, process_key, 'busy-worker',
                      'thread', 'busy --serve', 39600, 1
               FROM processes WHERE process_key = %s AND observed_at = '2024-05-02T12:00Z'""",
            (BUSY,),
        )
    expected = {**EXPECTED[1], "cpuSeconds": 7956.0, "avgIntervalCpuPercent": 100 * 7956 / 90000}
    for _ in ("before", "after"):
        nodes = (await _lifetimes(history, **RANGE, filter={"pid": {"equalTo": 100}}))["nodes"]
        # Three snapshots, as without the thread; the process's own row (the first) names it.
        assert nodes == [expected]
        await _rollup(history_url)


@pytest.mark.parametrize(
    ("start", "end", "whole"),
    [
        # Whole days 2 and 3 May, partial days before and after them.
        ("2024-05-01T22:30:00+00:00", "2024-05-04T01:00:00+00:00", ("2024-05-02", "2024-05-04")),
        # Midnight begins a whole day; an offset is read in UTC (22:00-02:00 is midnight).
        ("2024-05-02T00:00:00+00:00", "2024-05-03T02:00:00+02:00", ("2024-05-02", "2024-05-03")),
        # Less than a whole day.
        ("2024-05-02T00:30:00+00:00", "2024-05-02T23:00:00+00:00", None),
        ("2024-05-02T12:00:00+00:00", "2024-05-03T12:00:00+00:00", None),
    ],
)
def test_day_parts_cut_a_range_into_its_whole_utc_days(
    start: str, end: str, whole: tuple[str, str] | None
) -> None:
    parts = day_parts(datetime.fromisoformat(start), datetime.fromisoformat(end))
    assert parts.whole_days is (whole is not None)
    if whole is not None:
        assert (parts.first_day, parts.end_day) == tuple(date.fromisoformat(d) for d in whole)


def test_an_unbounded_range_is_all_whole_days() -> None:
    parts = day_parts(None, datetime.fromisoformat("2024-05-02T06:00:00+00:00"))
    assert (parts.whole_days, parts.first_day, parts.end_day) == (True, None, date(2024, 5, 2))
