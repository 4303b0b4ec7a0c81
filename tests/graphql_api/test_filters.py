"""Filters compile to parameterized SQL that selects exactly the rows meant (real PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from graphql_api.filter_inputs import ProcessFilter, StringFilter
from graphql_api.filters import QueryParams, process_condition
from tests.graphql_api.conftest import post

# The fleet's four process rows, by (time, pid): 10:05 has pids 1, 4242 and 7; 10:10 has 1.
PIDS = """query ($filter: ProcessFilter, $from: DateTime, $to: DateTime) {
  processes(filter: $filter, from: $from, to: $to, orderBy: PID_ASC) {
    totalCount nodes { pid observedAt } } }"""


EVERY = [(1, "10:05"), (1, "10:10"), (7, "10:05"), (4242, "10:05")]
EARLY = "2024-05-01T10:05:00Z"


def _nested_not(levels: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"pid": {"equalTo": 1}}
    for _ in range(levels):
        inner = {"not": inner}
    return inner


async def _pids(client: httpx.AsyncClient, **variables: Any) -> list[tuple[int, str]]:
    body = await post(client, PIDS, **variables)
    assert "errors" not in body, body
    connection = body["data"]["processes"]
    assert connection["totalCount"] == len(connection["nodes"])
    return [(node["pid"], node["observedAt"][11:16]) for node in connection["nodes"]]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        pytest.param(None, EVERY, id="none"),
        pytest.param({"pid": {"equalTo": 1}}, [(1, "10:05"), (1, "10:10")], id="equalTo"),
        pytest.param({"pid": {"notEqualTo": 1}}, [(7, "10:05"), (4242, "10:05")], id="notEqualTo"),
        pytest.param({"cpuPercent": {"greaterThan": 50}}, [(4242, "10:05")], id="greaterThan"),
        pytest.param({"cpuPercent": {"equalTo": 0.5}}, [(1, "10:05")], id="real-equalTo"),
        pytest.param(
            {"cpuPercent": {"lessThanOrEqualTo": 0.5}}, [(1, "10:05"), (1, "10:10")], id="lte"
        ),
        pytest.param({"cpuPercent": {"isNull": True}}, [(7, "10:05")], id="isNull"),
        pytest.param(
            {"ppid": {"isNull": False, "lessThan": 1}}, [(1, "10:05"), (1, "10:10")], id="and-ops"
        ),
        pytest.param({"user": {"in": ["postgres", "nobody"]}}, [(4242, "10:05")], id="in"),
        pytest.param({"user": {"in": []}}, [], id="in-empty"),
        pytest.param({"user": {"notIn": ["root"]}}, [(4242, "10:05")], id="notIn-skips-null"),
        pytest.param({"pid": {"notIn": []}}, EVERY, id="notIn-empty"),
        pytest.param({"processName": {"like": "k%"}}, [(7, "10:05")], id="like"),
        pytest.param({"commandLine": {"like": "%-D%"}}, [(4242, "10:05")], id="like-inner"),
        pytest.param({"rssBytes": {"greaterThan": 4_999_999_999}}, [(4242, "10:05")], id="bigint"),
        pytest.param(
            {"startTime": {"lessThan": "2024-05-01T00:00:00Z"}},
            [(1, "10:05"), (1, "10:10")],
            id="datetime",
        ),
        pytest.param(
            {"or": [{"pid": {"equalTo": 7}}, {"user": {"equalTo": "postgres"}}]},
            [(7, "10:05"), (4242, "10:05")],
            id="or",
        ),
        pytest.param({"or": []}, [], id="or-empty"),
        pytest.param(
            {"not": {"pid": {"equalTo": 1}}}, [(7, "10:05"), (4242, "10:05")], id="not"
        ),
        pytest.param(
            {"and": [{"pid": {"lessThan": 100}}, {"not": {"observedAt": {"equalTo": EARLY}}}]},
            [(1, "10:10")],
            id="and-not",
        ),
        pytest.param(
            {"osType": {"equalTo": "linux"}, "pid": {"equalTo": 7}}, [(7, "10:05")], id="join"
        ),
        pytest.param({"osType": {"equalTo": "windows"}}, [], id="join-none"),
        pytest.param({"processName": {"equalTo": "x'); DROP TABLE processes; --"}}, [], id="sql"),
    ],
)  # fmt: skip
async def test_each_operator_selects_exactly_its_rows(
    client: httpx.AsyncClient, filter: dict[str, Any] | None, expected: list[tuple[int, str]]
) -> None:
    assert await _pids(client, filter=filter) == expected


async def test_the_injection_attempt_left_the_table_alone(
    client: httpx.AsyncClient, database_url: str
) -> None:
    name = "x'); DROP TABLE processes; --"
    assert await _pids(client, filter={"processName": {"equalTo": name}}) == []
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM processes").fetchone()
    assert row == (4,)


async def test_time_range_is_half_open(client: httpx.AsyncClient) -> None:
    pids = await _pids(client, **{"from": "2024-05-01T10:05:00Z", "to": "2024-05-01T10:10:00Z"})
    assert pids == [(1, "10:05"), (7, "10:05"), (4242, "10:05")]


def test_values_are_parameters_never_sql_text(database_url: str) -> None:
    params = QueryParams()
    dangerous = "'; DROP TABLE processes; --"
    condition = process_condition(
        ProcessFilter(user=StringFilter(equal_to=dangerous), os_type=StringFilter(like="lin%")),
        params,
    )
    with psycopg.connect(database_url) as conn:
        text = condition.sql.as_string(conn)
    assert dangerous not in text
    assert text == '("p"."user" = %(v0)s AND "c"."os_type" LIKE %(v1)s)'
    assert params.values == {"v0": dangerous, "v1": "lin%"}
    assert condition.needs_snapshots


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        pytest.param(
            {"user": {"in": ["x"] * 1001}}, "filter.user.in: at most 1000 values, got 1001", id="in"
        ),
        pytest.param(
            {"processName": {"like": "%" * 501}},
            "filter.processName.like: a pattern of at most 500 characters",
            id="like",
        ),
        pytest.param(
            _nested_not(8),
            "filter.not.not.not.not.not.not.not.not: filters nested more than 8 deep"
            " (the whole filter is the first)",
            id="depth",
        ),
        pytest.param(
            {"processName": {"equalTo": "a\u0000b"}},
            "filter.processName.equalTo: text cannot contain the NUL character (\\u0000)",
            id="nul",
        ),
        pytest.param(
            {"user": {"in": ["root", "\u0000"]}},
            "filter.user.in: text cannot contain the NUL character (\\u0000)",
            id="nul-in",
        ),
        pytest.param(
            {"or": [{"pid": {"equalTo": n}} for n in range(1001)]},
            "filter.or[1000].pid: a filter holds at most 1000 fields",
            id="conditions",
        ),
        pytest.param(
            {"or": [{"pid": {}}]},
            "filter.or[0].pid: give at least one operator, e.g. {equalTo: ...}",
            id="empty-in-or",
        ),
    ],
)  # fmt: skip
async def test_unreasonable_filters_are_refused_with_where(
    client: httpx.AsyncClient, filter: dict[str, Any], message: str
) -> None:
    body = await post(client, PIDS, filter=filter)
    assert [error["message"] for error in body["errors"]] == [message]


async def test_filters_nested_as_deep_as_allowed_are_answered(client: httpx.AsyncClient) -> None:
    # The whole filter and seven nots: eight filters deep, the most allowed.
    selected = await _pids(client, filter=_nested_not(7))
    assert selected
    assert {pid for pid, _ in selected} == {pid for pid, _ in EVERY} - {1}
