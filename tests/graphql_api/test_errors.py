"""Bad requests get a clear GraphQL error; server failures get a generic one and a log entry."""

from __future__ import annotations

import httpx
import pytest

from tests.graphql_api.conftest import Serve, post


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(
            '{ snapshot(id: "nope") { id } }',
            "snapshot: id must be a positive integer, got 'nope'",
            id="id-not-an-integer",
        ),
        pytest.param(
            '{ snapshot(id: "99999999999999999999") { id } }',
            "snapshot: id must be a positive integer, got '99999999999999999999'",
            id="id-beyond-bigint",
        ),
        pytest.param(
            '{ snapshot(id: "%s") { id } }' % ("9" * 5000),
            f"snapshot: id must be a positive integer, got '{'9' * 5000}'",
            id="id-huge",
        ),
        pytest.param(
            '{ snapshots(machineId: "z-host-1", first: 0) { nodes { id } } }',
            "snapshots: first must be between 1 and 1000, got 0",
            id="snapshots-first-zero",
        ),
        pytest.param(
            '{ snapshots(machineId: "z-host-1", from: "2024-05-02T00:00:00Z",'
            ' to: "2024-05-01T00:00:00Z") { nodes { id } } }',
            "snapshots: 'from' must be before 'to', got from=2024-05-02T00:00:00+00:00"
            " and to=2024-05-01T00:00:00+00:00",
            id="from-after-to",
        ),
        pytest.param(
            '{ snapshots(machineId: "z-host-1", from: "2024-05-01T10:00:00") { nodes { id } } }',
            "snapshots: 'from' needs a UTC offset, e.g. 2024-05-01T12:00:00Z;"
            " got 2024-05-01T10:00:00",
            id="naive-time",
        ),
        pytest.param(
            "{ snapshots { nodes { processes(first: -1) { totalCount } } } }",
            "processes: first must be between 1 and 1000, got -1",
            id="processes-first-negative",
        ),
        pytest.param(
            '{ processes(after: "bm9wZQ") { nodes { pid } } }',
            "processes: 'after' is not a cursor of this list and order; use a pageInfo.endCursor",
            id="garbage-cursor",
        ),
        pytest.param(
            "{ processes(filter: {cpuPercent: {}}) { nodes { pid } } }",
            "filter.cpuPercent: give at least one operator, e.g. {equalTo: ...}",
            id="empty-operator",
        ),
        pytest.param(
            '{ processes(filter: {startTime: {lessThan: "2024-05-01T10:00:00"}}) { totalCount } }',
            "filter.startTime.lessThan: needs a UTC offset, e.g. 2024-05-01T12:00:00Z;"
            " got 2024-05-01T10:00:00",
            id="naive-filter-time",
        ),
        pytest.param(
            "{ processes(filter: {rssBytes: {greaterThan: 1.5}}) { nodes { pid } } }",
            "BigInt must be an integer within a signed 64-bit range, got 1.5",
            id="bigint-not-integer",
        ),
        pytest.param(
            '{ processStats(groupBy: [USER], bucket: "1 hour") { processCount } }',
            "processStats: bucket must be a whole number and a unit (s, m, h, d or w),"
            " e.g. '1h'; got '1 hour'",
            id="bad-bucket",
        ),
        pytest.param(
            '{ snapshots(machineId: "z-host-1", from: "yesterday") { nodes { id } } }',
            "Value cannot represent a DateTime: \"yesterday\". Expected 4 digits, got 'yest'",
            id="bad-datetime",
        ),
        pytest.param(
            "{ machines { machineId ",
            "Syntax Error: Expected Name, found <EOF>.",
            id="syntax-error",
        ),
        pytest.param(
            "{ machines { bogus } }",
            "Cannot query field 'bogus' on type 'Machine'.",
            id="unknown-field",
        ),
    ],
)
async def test_bad_input_is_a_clear_graphql_error(
    client: httpx.AsyncClient, query: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = await post(client, query)
    assert [error["message"] for error in body["errors"]] == [message]
    assert "extensions" not in body["errors"][0]
    assert not [r for r in caplog.records if r.name.startswith("strawberry")], "a client's mistake"


async def test_internal_errors_are_masked_and_logged(
    empty_database_url: str, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve(empty_database_url, require_key=False) as client:
        body = await post(client, "{ machines { machineId } }")
    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == ["Unexpected error."]
    assert "does not exist" not in str(body), "the database's message stays in the log"
    [record] = [r for r in caplog.records if r.name.startswith("strawberry")]
    assert 'relation "machines" does not exist' in record.getMessage()
    assert record.exc_info is not None
