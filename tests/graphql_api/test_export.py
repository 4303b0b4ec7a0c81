"""GET /export/processes: the same filter as GraphQL, streamed as CSV or NDJSON in batches."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import psycopg
import pytest

from graphql_api import create_app
from procmon.api_keys import create_api_key
from procmon.settings import Settings
from tests.graphql_api.conftest import Serve

ROWS = 2500


@pytest.fixture
def big(clean_database: str) -> str:
    """One snapshot of 2,500 processes: more than the largest GraphQL page holds."""
    with psycopg.connect(clean_database) as conn:
        conn.execute(
            """WITH snapshot AS (
                 INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                     command_type, "timestamp", content_hash, schema_version, format,
                     process_count, raw_output)
                 VALUES ('big', 'big', 'linux', '6', 'ps', '2024-05-01T00:00:00Z',
                         repeat('a', 64), 1, 'ps aux', %(rows)s, '')
                 RETURNING id)
               INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                   "user", process_name, command_line, cpu_percent, truncated_fields)
               SELECT snapshot.id, n, 'big', '2024-05-01T00:00:00Z', n, 'u' || (n %% 3),
                      'p' || n, 'run, "quoted" ' || n, n / 100.0,
                      CASE WHEN n = 1 THEN ARRAY['user'] ELSE '{}' END
               FROM snapshot, generate_series(1, %(rows)s) AS n""",
            {"rows": ROWS},
        )
    return clean_database


async def test_csv_has_every_row_with_a_header(big: str, serve: Serve) -> None:
    async with serve(big) as client:
        response = await client.get("/export/processes")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == ROWS
    first = rows[0]
    assert (first["pid"], first["user"], first["command_line"]) == ("1", "u1", 'run, "quoted" 1')
    assert first["observed_at"] == "2024-05-01T00:00:00+00:00"
    assert first["truncated_fields"] == "user"
    assert [int(row["line_number"]) for row in rows] == list(range(1, ROWS + 1))


async def test_ndjson_with_a_filter_and_range(big: str, serve: Serve) -> None:
    params = {
        "format": "ndjson",
        "filter": json.dumps({"user": {"equalTo": "u0"}, "pid": {"lessThan": 31}}),
        "from": "2024-05-01T00:00:00Z",
        "to": "2024-05-02T00:00:00Z",
    }
    async with serve(big) as client:
        response = await client.get("/export/processes", params=params)
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["pid"] for r in records] == list(range(3, 31, 3))
    assert records[0]["cpu_percent"] == pytest.approx(0.03)
    assert records[0]["start_time"] is None


async def test_rows_are_sent_in_batches_as_they_are_fetched(
    big: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("graphql_api.export.EXPORT_BATCH_ROWS", 1000)
    app = create_app(Settings(database_url=big, redis_prefix=redis_prefix))
    token = create_api_key(big, name="export", role="reader")
    bodies: list[bytes] = []
    requested = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if requested.is_set():
            # The client stays connected until the response is over.
            await asyncio.Event().wait()
        requested.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            bodies.append(message["body"])

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/export/processes",
        "raw_path": b"/export/processes",
        "query_string": b"format=ndjson",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "scheme": "http",
        "server": ("t", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
        "http_version": "1.1",
    }
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)  # type: ignore[arg-type]
    assert [body.count(b"\n") for body in bodies] == [1000, 1000, 500]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"filter": "{nope"}, "filter: not JSON: ", id="not-json"),
        pytest.param(
            {"filter": '{"pidd": {"equalTo": 1}}'},
            "filter: Expected value of type 'ProcessFilter' not to include unknown field 'pidd'.",
            id="unknown-field",
        ),
        pytest.param(
            {"filter": '{"rssBytes": {"greaterThan": 1.5}}'},
            "filter.rssBytes.greaterThan: BigInt must be an integer",
            id="bad-value",
        ),
        pytest.param({"format": "xml"}, "format must be csv or ndjson, got 'xml'", id="format"),
        pytest.param({"from": "yesterday"}, "from: not an ISO 8601 time: 'yesterday'", id="time"),
        pytest.param(
            {"from": "2024-05-01T00:00:00"}, "export: 'from' needs a UTC offset", id="naive"
        ),
    ],
)
async def test_bad_requests_get_400_saying_what_is_wrong(
    big: str, serve: Serve, params: dict[str, str], message: str
) -> None:
    async with serve(big) as client:
        response = await client.get("/export/processes", params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(message)


async def test_export_needs_a_key(big: str, serve: Serve) -> None:
    async with serve(big) as client:
        del client.headers["Authorization"]
        response = await client.get("/export/processes")
    assert response.status_code == 401
