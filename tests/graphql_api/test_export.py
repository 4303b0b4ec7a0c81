"""GET /export/processes: the same filter as GraphQL, streamed as CSV, NDJSON or Parquet."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphql_api import create_app
from procmon.api_keys import create_api_key
from procmon.settings import Settings
from tests.conftest import make_partitions
from tests.graphql_api.conftest import Serve
from tests.graphql_api.history_fleet import BUSY, insert_history_fleet

ROWS = 2500


@pytest.fixture
def big(clean_database: str) -> str:
    """One snapshot of 2,500 processes: more than the largest GraphQL page holds."""
    with psycopg.connect(clean_database) as conn:
        make_partitions(conn, datetime(2024, 5, 1, tzinfo=UTC))
        conn.execute(
            """WITH snapshot AS (
                 INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                     command_type, "timestamp", content_hash, schema_version, format,
                     process_count)
                 VALUES ('big', 'big', 'linux', '6', 'ps', '2024-05-01T00:00:00Z',
                         repeat('a', 64), 1, 'ps aux', %(rows)s)
                 RETURNING id)
               INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                   "user", process_name, command_line, cpu_percent, truncated_fields)
               SELECT snapshot.id, n, 'big', '2024-05-01T00:00:00Z', n, 'u' || (n %% 3),
                      'p' || n, 'run, "quoted" ' || n, n / 100.0,
                      -- NULL where nothing was cut, as the worker stores it.
                      CASE WHEN n = 1 THEN ARRAY['user'] END
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
    # Stored as NULL, exported as the empty list it stands for.
    assert {tuple(r["truncated_fields"]) for r in records} == {()}


async def _response_bodies(database_url: str, redis_prefix: str, query: bytes) -> list[bytes]:
    """The body chunks of one export, as the app hands them to the server, in order."""
    app = create_app(Settings(database_url=database_url, redis_prefix=redis_prefix))
    token = create_api_key(database_url, name="export", role="reader")
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
        "query_string": query,
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "scheme": "http",
        "server": ("t", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
        "http_version": "1.1",
    }
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)  # type: ignore[arg-type]
    return bodies


async def test_rows_are_sent_in_batches_as_they_are_fetched(
    big: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("graphql_api.export.EXPORT_BATCH_ROWS", 1000)
    bodies = await _response_bodies(big, redis_prefix, b"format=ndjson")
    assert [body.count(b"\n") for body in bodies] == [1000, 1000, 500]


async def test_parquet_has_every_row_with_the_columns_types(big: str, serve: Serve) -> None:
    async with serve(big) as client:
        response = await client.get("/export/processes", params={"format": "parquet"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(response.content))
    assert table.num_rows == ROWS
    assert table.schema.field("pid").type == pa.int32()
    assert table.schema.field("rss_bytes").type == pa.int64()
    assert table.schema.field("observed_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("truncated_fields").type == pa.list_(pa.string())
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["pid"], first["user"], first["command_line"]) == (1, "u1", 'run, "quoted" 1')
    assert first["observed_at"] == datetime(2024, 5, 1, tzinfo=UTC)
    assert first["truncated_fields"] == ["user"]
    assert table.column("truncated_fields")[1].as_py() == []
    assert first["start_time"] is None
    assert table.column("cpu_percent")[30].as_py() == pytest.approx(0.31)
    assert table.column("line_number").to_pylist() == list(range(1, ROWS + 1))


async def test_parquet_is_sent_a_row_group_at_a_time(
    big: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("graphql_api.export.EXPORT_BATCH_ROWS", 500)
    monkeypatch.setattr("graphql_api.export_encoders.PARQUET_ROW_GROUP_ROWS", 1000)
    bodies = await _response_bodies(big, redis_prefix, b"format=parquet")
    # Two full row groups as soon as they are written, then the last one with the footer.
    assert len(bodies) == 3
    assert bodies[0].startswith(b"PAR1")
    assert bodies[-1].endswith(b"PAR1")
    parquet = pq.ParquetFile(io.BytesIO(b"".join(bodies)))
    assert parquet.metadata.num_row_groups == 3
    assert [parquet.metadata.row_group(n).num_rows for n in range(3)] == [1000, 1000, 500]


async def test_an_empty_parquet_export_is_a_file_without_rows(big: str, serve: Serve) -> None:
    params = {"format": "parquet", "filter": json.dumps({"pid": {"lessThan": 0}})}
    async with serve(big) as client:
        response = await client.get("/export/processes", params=params)
    table = pq.read_table(io.BytesIO(response.content))
    assert table.num_rows == 0
    assert "machine_id" in table.column_names


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
        pytest.param(
            {"format": "xml"}, "format must be csv, ndjson or parquet, got 'xml'", id="format"
        ),
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


_HISTORY_COLUMNS = (
    "process_key",
    "start_time_precision",
    "interval_seconds",
    "interval_cpu_percent",
)


async def test_every_format_carries_the_history_columns(clean_database: str, serve: Serve) -> None:
    insert_history_fleet(clean_database)
    with psycopg.connect(clean_database) as conn:
        conn.execute(
            "UPDATE processes SET start_time_precision = 60 WHERE process_key = %s", (BUSY,)
        )
    params = {"filter": json.dumps({"processKey": {"equalTo": BUSY}})}
    async with serve(clean_database) as client:
        answers = {
            name: await client.get("/export/processes", params={**params, "format": name})
            for name in ("csv", "ndjson", "parquet")
        }
    rows = {
        "csv": list(csv.DictReader(io.StringIO(answers["csv"].text))),
        "ndjson": [json.loads(line) for line in answers["ndjson"].text.splitlines()],
        "parquet": pq.read_table(io.BytesIO(answers["parquet"].content)).to_pylist(),
    }
    # BUSY's second row, 23:00 on 1 May: 50% of one CPU over the 3600 s since 22:00.
    expected = {"process_key": BUSY, "start_time_precision": 60, "interval_seconds": 3600,
                "interval_cpu_percent": 50}  # fmt: skip
    for name, records in rows.items():
        assert len(records) == 5, name
        second = {column: records[1][column] for column in _HISTORY_COLUMNS}
        if name == "csv":
            # CSV is text: the numbers read back, the first sighting's interval blank.
            assert {column: float(text) for column, text in second.items()} == expected
            assert records[0]["interval_seconds"] == ""
        else:
            assert second == expected, name
            assert records[0]["interval_cpu_percent"] is None, name
    parquet = pq.read_table(io.BytesIO(answers["parquet"].content)).schema
    assert parquet.field("process_key").type == pa.int64()
    assert parquet.field("interval_cpu_percent").type == pa.float32()


async def test_the_export_filters_by_labels_as_graphql_does(labelled: httpx.AsyncClient) -> None:
    where = {"labels": [{"name": "role", "equalTo": "db"}]}
    response = await labelled.get(
        "/export/processes", params={"filter": json.dumps(where), "format": "ndjson"}
    )
    assert response.status_code == 200, response.text
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [(row["machine_id"], row["process_name"]) for row in rows] == [
        ("db-1", "init"),
        ("db-1", "postgres"),
    ] * 2


async def test_graphql_reads_a_list_stored_as_null_as_the_empty_list(
    big: str, serve: Serve
) -> None:
    query = "{ processes(first: 2, orderBy: PID_ASC) { nodes { pid truncatedFields } } }"
    async with serve(big) as client:
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["processes"]["nodes"] == [
        {"pid": 1, "truncatedFields": ["user"]},
        {"pid": 2, "truncatedFields": []},
    ]
