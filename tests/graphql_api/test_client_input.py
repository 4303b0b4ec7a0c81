"""No client input reaches the server as an internal error: each gets a GraphQL error or a 400
saying what is wrong, nothing is logged as an error and the server-error count stays 0."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.graphql_api.conftest import post

pytestmark = pytest.mark.timeout(300)

RANGE = 'from: "2024-05-01T00:00:00Z", to: "2024-05-03T00:00:00Z"'


async def _server_errors(client: httpx.AsyncClient) -> float:
    metrics = (await client.get("/metrics")).text
    match = re.search(r'^procmon_api_errors_total\{kind="server"\} (\S+)$', metrics, re.M)
    return float(match[1]) if match else 0.0


def _logged_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(
            '{ processes(filter: {processName: {like: "post\\\\"}}) { nodes { pid } } }',
            "filter.processName.like: the pattern ends with an escaping backslash;"
            " write \\\\ for a backslash",
            id="like-ends-with-backslash",
        ),
        pytest.param(
            "{ processes(filter: {cpuPercent: {greaterThan: 1e308}}) { nodes { pid } } }",
            "filter.cpuPercent.greaterThan: 1e+308 is outside the range of the column (a 4-byte"
            " real: magnitudes from about 1.2e-38 to 3.4e38, or 0)",
            id="real-overflow",
        ),
        pytest.param(
            "{ processes(filter: {memoryPercent: {in: [1, 1e-50]}}) { nodes { pid } } }",
            "filter.memoryPercent.in: 1e-50 is outside the range of the column (a 4-byte"
            " real: magnitudes from about 1.2e-38 to 3.4e38, or 0)",
            id="real-underflow",
        ),
        pytest.param(
            '{ machine(id: "z-host\\u0000") { machineId } }',
            "machine: id cannot contain the NUL character (\\u0000)",
            id="nul-machine-id",
        ),
        pytest.param(
            f'{{ machinesRunning(processName: "post\\u0000gres", {RANGE}) {{ machineId }} }}',
            "machinesRunning: processName cannot contain the NUL character (\\u0000)",
            id="nul-process-name",
        ),
        pytest.param(
            '{ processes(filter: {startTime: {lessThan: "2024-05-01T00:00:00+16:00"}})'
            " { nodes { pid } } }",
            "filter.startTime.lessThan: a UTC offset must be less than 16 hours either way;"
            " got 2024-05-01T00:00:00+16:00",
            id="offset-beyond-postgresql",
        ),
        pytest.param(
            # The cursor of a process whose name would be "\u0000".
            "{ processes(orderBy: PROCESS_NAME_ASC,"
            ' after: "WyJQUk9DRVNTX05BTUVfQVNDIixbIlx1MDAwMCIsMSwxXV0") { nodes { pid } } }',
            "processes: 'after' is not a cursor of this list and order; use a pageInfo.endCursor",
            id="nul-in-cursor",
        ),
    ],
)
async def test_input_postgresql_refuses_is_a_clear_error(
    client: httpx.AsyncClient, query: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = await post(client, query)
    assert [error["message"] for error in body["errors"]] == [message]
    assert _logged_errors(caplog) == []
    assert await _server_errors(client) == 0


async def test_a_lone_surrogate_in_a_variable_is_a_clear_error(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # GraphQL's parser refuses it in the query text; JSON variables carry it through.
    query = "query ($user: String) { processes(filter: {user: {equalTo: $user}}) { totalCount } }"
    # json.dumps escapes it as \\ud800, as a JavaScript client would send it.
    content = json.dumps({"query": query, "variables": {"user": "\ud800"}})
    response = await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )
    assert [error["message"] for error in response.json()["errors"]] == [
        "filter.user.equalTo: text is not valid Unicode text (a lone surrogate '\\ud800' at 0)"
    ]
    assert _logged_errors(caplog) == []


def _deep(depth: int) -> bytes:
    return b'{"query": "{ machines { machineId } }", "variables": {"v": ' + (
        b"[" * depth + b"]" * depth + b"}}"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"null", 'request body must be a JSON object: {"query": "...", ...}'),
        (b"12", 'request body must be a JSON object: {"query": "...", ...}'),
        (b'"x"', 'request body must be a JSON object: {"query": "...", ...}'),
        (b"true", 'request body must be a JSON object: {"query": "...", ...}'),
        (b'{"query": "{ machines { \xff } }"}', "request body is not UTF-8: invalid start byte"),
        (_deep(100_000), "request body nests deeper than 64"),
        (_deep(200), "request body nests deeper than 64"),
    ],
    ids=["null", "number", "string", "true", "invalid-utf8", "nested-100000", "nested-200"],
)
async def test_bodies_that_are_no_request_get_400(
    client: httpx.AsyncClient, body: bytes, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.text) == (400, message)
    assert _logged_errors(caplog) == []


_TEXT_COLUMNS = ["user", "processName", "commandLine", "status", "machineId", "osType"]
_FLOAT_COLUMNS = ["cpuPercent", "memoryPercent", "cpuTimeSeconds"]
_INT_COLUMNS = ["pid", "ppid", "threads", "nice"]
_BIGINT_COLUMNS = ["rssBytes", "vszBytes", "snapshotId"]
_TIME_COLUMNS = ["startTime", "observedAt"]
_COMPARISONS = ["equalTo", "notEqualTo", "lessThan", "greaterThanOrEqualTo"]

_texts = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(["\x00", "\\", "%", "_", "\ud800", "\udfff", "a", "é"])),
    st.text(min_size=400, max_size=3000),
)
_floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e308, -1e308, 3.4028235e38, 3.5e38, 1.2e-38, 1e-45, 1e-46, 5e-324, -0.0]
)
_ints = st.integers(min_value=-(2**40), max_value=2**40)
_bigints = st.integers(min_value=-(2**70), max_value=2**70)
_times = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda value: value.isoformat()) | st.builds(
    lambda hours: datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=hours))).isoformat(),
    st.integers(min_value=-23, max_value=23),
)


def _operators(values: st.SearchStrategy[Any], like: bool) -> st.SearchStrategy[dict[str, Any]]:
    names = [*_COMPARISONS, "like"] if like else _COMPARISONS
    single = st.tuples(st.sampled_from(names), values).map(lambda pair: {pair[0]: pair[1]})
    listed = st.tuples(st.sampled_from(["in", "notIn"]), st.lists(values, max_size=3))
    return single | listed.map(lambda pair: {pair[0]: pair[1]})


_filters = st.one_of(
    st.tuples(st.sampled_from(_TEXT_COLUMNS), _operators(_texts, like=True)),
    st.tuples(st.sampled_from(_FLOAT_COLUMNS), _operators(_floats, like=False)),
    st.tuples(st.sampled_from(_INT_COLUMNS), _operators(_ints, like=False)),
    st.tuples(st.sampled_from(_BIGINT_COLUMNS), _operators(_bigints, like=False)),
    st.tuples(st.sampled_from(_TIME_COLUMNS), _operators(_times, like=False)),
).map(lambda pair: {pair[0]: pair[1]})

_QUERY = """query ($filter: ProcessFilter) {
  processes(filter: $filter, first: 5) { nodes { pid } }
  processStats(filter: $filter, groupBy: [USER]) { processCount }
}"""


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filter=st.lists(_filters, min_size=1, max_size=3).map(lambda parts: {"or": parts}))
async def test_no_filter_value_is_an_internal_error(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, filter: dict[str, Any]
) -> None:
    caplog.clear()
    # json.dumps writes NaN and Infinity, which the API's JSON reader takes.
    body = json.dumps({"query": _QUERY, "variables": {"filter": filter}})
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 400), response.text
    assert "Unexpected error." not in response.text
    assert _logged_errors(caplog) == []
    assert await _server_errors(client) == 0
