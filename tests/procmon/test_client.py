"""procmon.client against the real API served by uvicorn: queries, pages, DataFrames, errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import psycopg
import pytest
from graphql import parse, validate

from graphql_api.schema import schema
from procmon.api_keys import create_api_key
from procmon.client import (
    API_KEY_VARIABLE,
    API_URL_VARIABLE,
    LIFETIME_COLUMNS,
    LIFETIMES_QUERY,
    PROCESS_COLUMNS,
    PROCESS_HISTORY_QUERY,
    AsyncClient,
    Client,
)
from procmon.errors import ApiError, ConfigurationError
from procmon.settings import Settings
from streams.sql import SUMMARIZE_MACHINES
from tests.conftest import make_partitions
from tests.graphql_api import conftest as api_fixtures
from tests.graphql_api.conftest import killing_export, uvicorn_server
from tests.graphql_api.history_fleet import BUSY, IDLE, REUSED, SERVICE, insert_history_fleet

# The API tests' session fixture: one snapshot of 300,000 processes in a database of its own.
big_database = api_fixtures.big_database

SNAPSHOTS = 3
ROWS = 25


@dataclass(frozen=True)
class Served:
    url: str
    token: str


@pytest.fixture
def served(clean_database: str, redis_prefix: str) -> Iterator[Served]:
    with psycopg.connect(clean_database) as conn:
        make_partitions(conn, datetime(2024, 5, 1, tzinfo=UTC))
        conn.execute(
            """WITH snapshots AS (
                 INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                     command_type, "timestamp", content_hash, schema_version, format,
                     process_count)
                 SELECT 'm' || s, 'm' || s, 'linux', '6', 'ps',
                        '2024-05-01T00:00:00Z'::timestamptz + s * interval '1 hour',
                        repeat(s::text, 64), 1, 'ps aux', %(rows)s
                 FROM generate_series(1, %(snapshots)s) AS s
                 RETURNING id, machine_id, "timestamp")
               INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                   process_name, rss_bytes, start_time)
               SELECT id, n, machine_id, "timestamp", n, 'p' || n, n * 2::bigint ^ 33,
                      CASE WHEN n %% 2 = 0 THEN "timestamp" - interval '1 day' END
               FROM snapshots, generate_series(1, %(rows)s) AS n""",
            {"rows": ROWS, "snapshots": SNAPSHOTS},
        )
        conn.execute(SUMMARIZE_MACHINES)
    settings = Settings(database_url=clean_database, redis_prefix=redis_prefix)
    with uvicorn_server(settings) as base:
        yield Served(f"{base}/graphql", create_api_key(clean_database, "client"))


def test_processes_follow_every_page_into_a_frame(served: Served) -> None:
    api = Client(served.url, token=served.token)
    frame = api.processes({"pid": {"lessThan": 21}}, page_size=7, order_by="PID_ASC")
    assert list(frame.columns) == list(PROCESS_COLUMNS)
    assert len(frame) == SNAPSHOTS * 20
    assert sorted(frame["pid"].unique()) == list(range(1, 21))
    assert frame["rssBytes"].max() == 20 * 2**33
    assert isinstance(frame["observedAt"].dtype, pd.DatetimeTZDtype)
    assert frame["startTime"].isna().sum() == SNAPSHOTS * 10


def test_query_and_paginate_by_path(served: Served) -> None:
    api = Client(served.url, token=served.token)
    assert len(api.query("{ machines { machineId } }")["machines"]) == SNAPSHOTS
    query = """query ($after: String) { snapshot(id: "1") {
                 processes(first: 10, after: $after) { nodes { pid } pageInfo {
                   hasNextPage endCursor } } } }"""
    pids = [node["pid"] for node in api.paginate(query, "snapshot.processes")]
    assert pids == list(range(1, ROWS + 1))


async def test_the_async_client_gives_the_same(served: Served) -> None:
    api = AsyncClient(served.url, token=served.token)
    frame = await api.processes(from_="2024-05-01T02:00:00Z", page_size=10)
    # Newest first by default: snapshot 3, then 2; snapshot 1 is before `from`.
    assert list(frame["machineId"].unique()) == ["m3", "m2"]
    assert len(frame) == 2 * ROWS


def test_errors_carry_the_api_message(served: Served) -> None:
    with pytest.raises(ApiError, match="Cannot query field 'bogus' on type 'Machine'"):
        Client(served.url, token=served.token).query("{ machines { bogus } }")
    with pytest.raises(ApiError, match="invalid or revoked API key"):
        Client(served.url, token="pmk_wrong").query("{ machines { machineId } }")


def test_export_pulls_every_selected_row_as_parquet(served: Served) -> None:
    frame = Client(served.url, token=served.token).export(
        {"pid": {"lessThan": 21}}, from_="2024-05-01T00:00:00Z"
    )
    assert len(frame) == SNAPSHOTS * 20
    assert sorted(frame["pid"].unique()) == list(range(1, 21))
    assert frame["rss_bytes"].max() == 20 * 2**33
    assert isinstance(frame["observed_at"].dtype, pd.DatetimeTZDtype)
    assert frame["start_time"].isna().sum() == SNAPSHOTS * 10
    # Snapshot and listing order.
    assert list(frame["line_number"][:20]) == list(range(1, 21))


async def test_async_export_and_its_errors(served: Served) -> None:
    api = AsyncClient(served.url, token=served.token)
    frame = await api.export(to="2024-05-01T01:30:00Z")
    assert len(frame) == ROWS
    with pytest.raises(ApiError, match=r"HTTP 400: filter: .* unknown field 'pidd'"):
        await api.export({"pidd": {"equalTo": 1}})
    with pytest.raises(ApiError, match="HTTP 401: missing API key"):
        await AsyncClient(served.url).export()


@pytest.fixture
def cut_export(big_database: str, redis_prefix: str) -> Iterator[Served]:
    """The API serving the big snapshot, whose first export's backend is terminated midway."""
    settings = Settings(database_url=big_database, redis_prefix=redis_prefix)
    token = create_api_key(big_database, f"cut-{redis_prefix}")
    with uvicorn_server(settings) as base, killing_export(big_database) as killed:
        yield Served(f"{base}/graphql", token)
    assert killed.is_set(), "the export's backend was terminated"


@pytest.mark.timeout(120)
def test_an_export_cut_midway_raises_api_error(cut_export: Served) -> None:
    with pytest.raises(ApiError, match="the export was cut short, not every row arrived"):
        Client(cut_export.url, token=cut_export.token).export()


@pytest.mark.timeout(120)
async def test_an_async_export_cut_midway_raises_api_error(cut_export: Served) -> None:
    with pytest.raises(ApiError, match="the export was cut short, not every row arrived"):
        await AsyncClient(cut_export.url, token=cut_export.token).export()


def test_from_env_reads_the_url_and_the_key(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_URL_VARIABLE, served.url)
    monkeypatch.setenv(API_KEY_VARIABLE, served.token)
    machines = Client.from_env().query("{ machines { machineId } }")["machines"]
    assert sorted(machine["machineId"] for machine in machines) == ["m1", "m2", "m3"]


@pytest.mark.parametrize(
    ("url", "key", "named"),
    [
        (None, None, "PROCMON_API_URL and PROCMON_API_KEY"),
        ("http://127.0.0.1:1/graphql", None, "PROCMON_API_KEY"),
        (None, "pmk_x", "PROCMON_API_URL"),
        ("http://127.0.0.1:1/graphql", " ", "PROCMON_API_KEY"),
    ],
)
def test_from_env_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, url: str | None, key: str | None, named: str
) -> None:
    for name, value in ((API_URL_VARIABLE, url), (API_KEY_VARIABLE, key)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        Client.from_env()
    assert f"set {named} " in str(caught.value)


@pytest.fixture
def served_history(clean_database: str, redis_prefix: str) -> Iterator[Served]:
    """The API serving tests.graphql_api.history_fleet: keys and interval CPU set by hand."""
    insert_history_fleet(clean_database)
    settings = Settings(database_url=clean_database, redis_prefix=redis_prefix)
    with uvicorn_server(settings) as base:
        yield Served(f"{base}/graphql", create_api_key(clean_database, "history"))


def test_the_history_documents_are_valid_for_the_schema() -> None:
    for document in (LIFETIMES_QUERY, PROCESS_HISTORY_QUERY):
        assert validate(schema._schema, parse(document)) == []


def test_processes_carry_the_history_columns(served_history: Served) -> None:
    frame = Client(served_history.url, token=served_history.token).processes(
        {"processKey": {"equalTo": BUSY}}, order_by="OBSERVED_AT_ASC"
    )
    for column in ("processKey", "startTimePrecision", "intervalSeconds", "intervalCpuPercent"):
        assert column in PROCESS_COLUMNS
    assert list(frame["intervalCpuPercent"][1:]) == [50, 25, 10, 5]


def test_process_history_pages_one_process_oldest_first(served_history: Served) -> None:
    api = Client(served_history.url, token=served_history.token)
    frame = api.process_history(BUSY, page_size=2, to="2024-05-03T00:00:00Z")
    assert list(frame.columns) == list(PROCESS_COLUMNS)
    assert set(frame["processKey"]) == {str(BUSY)}
    assert list(frame["intervalSeconds"][1:]) == [3600, 7200, 39600]
    assert frame["observedAt"].is_monotonic_increasing
    assert isinstance(frame["observedAt"].dtype, pd.DatetimeTZDtype)
    with pytest.raises(ApiError, match="processKey must be a whole number"):
        api.process_history("busy")


def test_process_lifetimes_by_cpu_seconds_into_a_frame(served_history: Served) -> None:
    api = Client(served_history.url, token=served_history.token)
    frame = api.process_lifetimes(from_="2024-05-01T22:30:00Z", to="2024-05-03T01:00:00Z")
    assert list(frame.columns) == list(LIFETIME_COLUMNS)
    # Worked out in tests/graphql_api/test_lifetimes.py.
    assert list(frame["cpuSeconds"]) == [39600, 7560, 720, 0]
    assert list(frame["processKey"][:3]) == [str(REUSED), str(BUSY), str(SERVICE)]
    assert isinstance(frame["firstSeen"].dtype, pd.DatetimeTZDtype)
    top = api.process_lifetimes(
        {"machineId": {"equalTo": "m1"}}, from_=None, to=None, order_by="FIRST_SEEN_ASC", limit=2
    )
    assert list(top["processKey"]) == [str(BUSY), str(IDLE)]
    with pytest.raises(ValueError, match="limit must be at least 1"):
        api.process_lifetimes(from_=None, to=None, limit=0)


async def test_the_async_client_reads_history_the_same(served_history: Served) -> None:
    api = AsyncClient(served_history.url, token=served_history.token)
    lifetimes = await api.process_lifetimes(
        from_="2024-05-02T00:00:00Z", to="2024-05-03T00:00:00Z", limit=1
    )
    # 2 May alone: BUSY's 1800 + 3960 s are under REUSED's 39600.
    assert list(lifetimes["processKey"]) == [str(REUSED)]
    history = await api.process_history(str(REUSED), from_="2024-05-02T02:00:00Z")
    assert list(history["intervalCpuPercent"]) == [100]
