"""Fixtures of the API tests: a small fleet in the database, and the app served over HTTP."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, LiteralString

import httpx
import psycopg
import pytest
import uvicorn
from psycopg.rows import DictRow

from graphql_api import create_app
from graphql_api.budget import Budget, budgeted_fetch
from graphql_api.db import ApiPool
from procmon.api_keys import create_api_key
from procmon.database import create_database, drop_database
from procmon.devstack import free_port
from procmon.settings import Settings
from streams.sql import SUMMARIZE_MACHINES
from tests.conftest import fresh_database_url, make_partitions, migrated_database
from tests.graphql_api.labelled_fleet import store_labelled_fleet

__all__ = [
    "BIG_ROWS",
    "BIG_RSS",
    "BIG_VSZ",
    "Fleet",
    "Serve",
    "at",
    "killing_export",
    "post",
    "uvicorn_server",
]

# Above GraphQL Int's 2^31 - 1: these only fit the BigInt scalar.
BIG_RSS = 5_000_000_000
BIG_VSZ = 2**40 + 5

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def at(text: str) -> datetime:
    """Parse an ISO time of the fixtures (always UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The ids (``commands.id``) of the stored snapshots, by ``machine_id@time``.
Fleet = dict[str, int]


# machine_id, machine_name, os_type, os_version, timestamp: the "alpha" machine was renamed
# and upgraded, and two machines share the name "beta" (so ids break the tie).
_SNAPSHOTS = [
    ("z-host-1", "alpha-old", "linux", "5.4", "2024-05-01T10:00:00"),
    ("z-host-1", "alpha", "linux", "6.1", "2024-05-01T10:05:00"),
    ("z-host-1", "alpha", "linux", "6.1", "2024-05-01T10:10:00"),
    ("b-host-2", "beta", "windows", "10.0.19045", "2024-05-01T09:00:00"),
    ("b-host-2", "beta", "windows", "10.0.19045", "2024-05-02T09:00:00"),
    ("a-host-3", "beta", "macos", "14.4", "2024-05-01T12:00:00"),
]

# Per snapshot key, rows of (line_number, pid, ppid, user, process_name, command_line,
# cpu_percent, memory_percent, rss_bytes, vsz_bytes, status, status_raw, start_time,
# cpu_time_seconds, tty, threads, nice, priority); listed out of line order on purpose.
_PROCESSES: dict[str, list[tuple[Any, ...]]] = {
    "z-host-1@2024-05-01T10:05:00": [
        (3, 7, None, None, "kworker/0:1", None, None, None, None, None, None, None, None,
         None, None, None, None, None),
        (1, 1, 0, "root", "systemd", "/sbin/init splash", 0.5, 0.25, 12_345_678, 170_000_000,
         "sleeping", "Ss", at("2024-04-30T08:00:00"), 12.5, None, 1, 0, 20),
        (2, 4242, 1, "postgres", "postgres", "postgres -D /var/lib/pg", 150.5, 61.75, BIG_RSS,
         BIG_VSZ, "running", "R", at("2024-05-01T09:59:30"), 3600.25, "pts/0", 12, -5, 15),
    ],
    "z-host-1@2024-05-01T10:10:00": [
        (1, 1, 0, "root", "systemd", "/sbin/init splash", 0.0, 0.25, 12_345_678, 170_000_000,
         "sleeping", "Ss", at("2024-04-30T08:00:00"), 12.75, None, 1, 0, 20),
    ],
}  # fmt: skip


def _insert_fleet(database_url: str) -> Fleet:
    ids: dict[str, int] = {}
    with psycopg.connect(database_url) as conn:
        make_partitions(conn, *(at(snapshot[4]) for snapshot in _SNAPSHOTS))
        for machine_id, name, os_type, os_version, timestamp in _SNAPSHOTS:
            key = f"{machine_id}@{timestamp}"
            processes = _PROCESSES.get(key, [])
            row = conn.execute(
                """INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                       command_type, "timestamp", content_hash, schema_version, format,
                       process_count, received_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, 1, 'ps aux', %s, %s) RETURNING id""",
                (machine_id, name, os_type, os_version, "ps-axu", at(timestamp),
                 hashlib.sha256(key.encode()).hexdigest(), len(processes),
                 at("2024-06-01T00:00:00")),
            ).fetchone()  # fmt: skip
            assert row is not None
            conn.execute(
                "INSERT INTO raw_outputs (command_id, timestamp, raw_output) VALUES (%s, %s, %s)",
                (row[0], at(timestamp), f"raw {key}"),
            )
            ids[key] = row[0]
            for process in processes:
                conn.execute(
                    """INSERT INTO processes (command_id, machine_id, observed_at, line_number,
                           pid, ppid, "user", process_name, command_line, cpu_percent,
                           memory_percent, rss_bytes, vsz_bytes, status, status_raw, start_time,
                           cpu_time_seconds, tty, threads, nice, priority)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                           %s, %s, %s, %s, %s)""",
                    (row[0], machine_id, at(timestamp), *process),
                )
        # Stored here in SQL, not by the worker, which keeps the machines table as it goes.
        conn.execute(SUMMARIZE_MACHINES)
    return ids


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """POST a query, check the transport succeeded, and return the JSON body."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# Rows of the big snapshot: its export is far larger than any socket buffer, and statements
# over it take a while.
BIG_ROWS = 300_000


@pytest.fixture(scope="session")
def big_database() -> Iterator[str]:
    """A database of its own with one snapshot of :data:`BIG_ROWS` processes (its listing
    1 MB), for exports and budgets; nothing writes to it."""
    with migrated_database("procmon_big") as url:
        with psycopg.connect(url) as conn:
            make_partitions(conn, at("2024-05-01T00:00:00"))
            conn.execute(
                """WITH snapshot AS (
                     INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                         command_type, "timestamp", content_hash, schema_version, format,
                         process_count)
                     VALUES ('big', 'big', 'linux', '6', 'ps', '2024-05-01T00:00:00Z',
                             repeat('b', 64), 1, 'ps aux', %(rows)s)
                     RETURNING id, "timestamp"
                   ), listing AS (
                     INSERT INTO raw_outputs (command_id, "timestamp", raw_output)
                     SELECT id, "timestamp", repeat('x', 1000000) FROM snapshot)
                   INSERT INTO processes (command_id, line_number, machine_id, observed_at,
                       pid, "user", process_name, command_line, cpu_percent)
                   SELECT snapshot.id, n, 'big', '2024-05-01T00:00:00Z', n, 'u' || (n %% 7),
                          'p' || n, 'cmd ' || md5(n::text) || md5((n + 1)::text), n %% 100
                   FROM snapshot, generate_series(1, %(rows)s) AS n""",
                {"rows": BIG_ROWS},
            )
            conn.execute(SUMMARIZE_MACHINES)
            conn.execute("ANALYZE")
        yield url


@contextmanager
def uvicorn_server(settings: Settings) -> Iterator[str]:
    """Serve the app of ``settings`` with uvicorn on a free port, in a thread; yield its base
    URL. Real sockets, so flow control and cut responses behave as in production."""
    port = free_port()
    app = create_app(settings)
    config = uvicorn.Config(app, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _kill_export_when_streaming(
    database_url: str, stop: threading.Event, killed: threading.Event
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND state = 'idle in transaction' AND query LIKE 'FETCH%%procmon_export%%'"""
            ).fetchall()
            if rows:
                killed.set()
                return
            time.sleep(0.01)


@contextmanager
def killing_export(database_url: str) -> Iterator[threading.Event]:
    """Terminate the backend of the first export that has fetched a batch and sits between
    fetches, so that its next fetch fails after the status line went out; yield an event set
    once it was."""
    stop, killed = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=_kill_export_when_streaming, args=(database_url, stop, killed), daemon=True
    )
    thread.start()
    try:
        yield killed
    finally:
        stop.set()
        thread.join(10)


@pytest.fixture
def fleet(clean_database: str) -> Fleet:
    """Three machines with six snapshots in the (emptied) session database."""
    return _insert_fleet(clean_database)


@pytest.fixture
def serve(redis_prefix: str) -> Serve:
    """Serve the real app over a database URL, lifespan included, to an HTTP client.

    The client sends a reader key named ``tests``, created in that database, unless
    ``require_key`` is off (for databases without the schema), when the app serves without
    keys. Other keyword arguments are settings of the app.
    """

    @asynccontextmanager
    async def serving(
        database_url: str, require_key: bool = True, **settings_: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(
            database_url=database_url,
            redis_prefix=redis_prefix,
            api_require_key=require_key,
            **settings_,
        )
        headers = {}
        if require_key:
            token = create_api_key(database_url, name="tests", role="reader")
            headers["Authorization"] = f"Bearer {token}"
        app = create_app(settings)
        # ASGITransport does not run the lifespan, and the lifespan is what opens the pool.
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://procmon.test",
                headers=headers,
            ) as client,
        ):
            yield client

    return serving


@pytest.fixture
async def client(fleet: Fleet, database_url: str, serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app serving the fleet."""
    async with serve(database_url) as http:
        yield http


@pytest.fixture
async def labelled(
    clean_database: str, serve: Serve, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app serving the labelled fleet (tests.graphql_api.labelled_fleet)."""
    await store_labelled_fleet(clean_database, tmp_path)
    async with serve(clean_database) as http:
        yield http


@pytest.fixture
def loader_queries(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Mapping[str, Any]]]:
    """The queries the request's data loaders run, with their parameters, as they run."""
    calls: list[tuple[str, Mapping[str, Any]]] = []

    async def counting_fetch(
        pool: ApiPool,
        budget: Budget,
        query: LiteralString,
        params: Mapping[str, Any],
        *,
        max_rows: int | None = None,
    ) -> list[DictRow]:
        calls.append((query, params))
        return await budgeted_fetch(pool, budget, query, params, max_rows=max_rows)

    monkeypatch.setattr("graphql_api.context.budgeted_fetch", counting_fetch)
    return calls


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """A database that exists but has no schema: every API query fails inside PostgreSQL."""
    url = fresh_database_url("procmon_empty")
    create_database(url)
    yield url
    drop_database(url)
