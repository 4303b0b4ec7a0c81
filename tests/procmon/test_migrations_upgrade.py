"""A database made by procmon before versioned migrations, holding data, brought forward by
``migrate``: every row kept as it was, and the API answering with them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from graphql_api import create_app
from procmon.api_keys import hash_token
from procmon.columns import COLUMNS_BY_NAME
from procmon.database import migrate, require_current_schema
from procmon.migrations import packaged_migrations
from procmon.partitions import ENSURE_PARTITIONS
from procmon.settings import Settings
from tests.conftest import PROCESS_ROWS, migrated_database
from tests.procmon.test_migrations import database_made_with
from tests.streams.machines_aggregate import (
    MACHINES_ANSWER,
    as_answer,
    fresh_machines,
    stored_machines,
)

FIXTURE_SCHEMA = (
    Path(__file__).resolve().parent.parent / "fixtures" / "schema_before_migrations.sql"
)
TOKEN = "pmk_" + "k" * 43
TABLES = ("commands", "processes", "ingest_errors", "api_keys")
MACHINES = "{ machines { machineId snapshotCount } }"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _store_listing(
    conn: psycopg.Connection[Any], machine: str, name: str, when: str, processes: list[Any]
) -> None:
    """One snapshot and its processes, as the worker of that version stored them."""
    raw = f"USER PID COMMAND\n{machine} {when}\n"
    row = conn.execute(
        """INSERT INTO commands (machine_id, machine_name, os_type, os_version, command_type,
               "timestamp", content_hash, schema_version, format, process_count, metadata,
               raw_output)
           VALUES (%s, %s, 'linux', '6.1.0-18-amd64', 'ps aux', %s, %s, 1, 'ps aux', %s, %s, %s)
           RETURNING id""",
        (machine, name, _at(when), hashlib.sha256(raw.encode()).hexdigest(), len(processes),
         Jsonb({"load_average": [0.5, 0.4, 0.3]}), raw),
    ).fetchone()  # fmt: skip
    assert row is not None
    for line, (pid, user, program, cpu, rss) in enumerate(processes, start=2):
        conn.execute(
            """INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                   ppid, "user", process_name, command_line, cpu_percent, memory_percent,
                   rss_bytes, vsz_bytes, status, status_raw, start_time, cpu_time_seconds,
                   truncated_fields)
               VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s, %s, 0.4, %s, %s, 'sleeping', 'Ss',
                   %s, 12.5, %s)""",
            (row[0], line, machine, _at(when), pid, user, program, f"/usr/bin/{program} -q",
             cpu, rss, rss * 4, _at("2024-04-30T08:00:00"), ["user"] if len(user) > 7 else []),
        )  # fmt: skip


def _fill(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        _store_listing(conn, "host-a", "alpha", "2024-05-01T10:00:00",
                       [(1, "root", "systemd", 0.0, 12_345_678), (812, "postgres", "postgres",
                        3.5, 5_000_000_000)])  # fmt: skip
        _store_listing(conn, "host-a", "alpha", "2024-05-01T10:05:00",
                       [(1, "root", "systemd", 0.1, 12_345_678)])  # fmt: skip
        _store_listing(conn, "host-b", "beta", "2024-05-01T11:00:00",
                       [(4242, "systemd+", "systemd-resolved", 0.0, 9_000_000)])  # fmt: skip
        conn.execute(
            """INSERT INTO ingest_errors (topic, "partition", "offset", message_key, raw_message,
                   error_class, reason, line_number, machine_id, content_hash)
               VALUES ('procmon.raw-outputs', 3, 1041, 'host-c', '{"machine_id": "host-c"}',
                       'EnvelopeError', 'missing field: timestamp', NULL, 'host-c', NULL),
                      ('procmon.raw-outputs', 5, 77, 'host-d', 'not json', 'EnvelopeError',
                       'not JSON: Expecting value', 1, NULL, NULL)"""
        )
        conn.execute(
            """INSERT INTO api_keys (name, key_hash, role, revoked_at)
               VALUES ('alice-laptop', %s, 'reader', NULL), ('old-admin', %s, 'admin', now())""",
            (hash_token(TOKEN), hash_token("pmk_" + "o" * 43)),
        )


def _columns(database_url: str) -> dict[str, list[str]]:
    """The columns each table has now."""
    with psycopg.connect(database_url) as conn:
        return {
            table: [
                row[0]
                for row in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
                    " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    (table,),
                )
            ]
            for table in TABLES
        }


# Since migration 0006 a listing's text is in raw_outputs: read beside its snapshot's row.
_COMMANDS_WITH_TEXTS = sql.SQL(
    """(SELECT c.*, r.raw_output FROM commands AS c
        JOIN raw_outputs AS r ON r.command_id = c.id AND r."timestamp" = c."timestamp")"""
)


def _read(table: str, column: str) -> sql.Composable:
    """A column of ``table`` (as ``t``), a process column as the API reads it: since 0007 an
    empty list is stored as NULL, the same row as before."""
    if table == "processes":
        return sql.SQL(COLUMNS_BY_NAME[column].read_sql("t"))
    return sql.Identifier(column)


def _rows(
    database_url: str, columns: dict[str, list[str]], *, texts_apart: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each table, in these columns (later migrations add columns of their own);
    ``texts_apart`` once the listings' texts are in a table of their own."""
    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(
                sql.SQL("SELECT {} FROM {} AS t ORDER BY 1, 2").format(
                    sql.SQL(", ").join(_read(table, column) for column in columns[table]),
                    _COMMANDS_WITH_TEXTS
                    if texts_apart and table == "commands"
                    else sql.Identifier(table),
                )
            ).fetchall()
            for table in TABLES
        }


async def _answer(database_url: str, query: str, *, redis_prefix: str, api_role: str) -> Any:
    """The answer of the API, served in process over ``database_url``, to ``query``."""
    settings = Settings(
        database_url=database_url, redis_prefix=redis_prefix, api_database_role=api_role
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://procmon.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as client,
    ):
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def earlier_database() -> Iterator[str]:
    """A database made with the schema before migrations, holding a few rows of each table."""
    with database_made_with(FIXTURE_SCHEMA, "procmon_upgrade") as url:
        _fill(url)
        yield url


async def test_an_earlier_database_is_brought_forward_with_every_row(
    earlier_database: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    earlier_columns = _columns(earlier_database)
    before = _rows(earlier_database, earlier_columns)
    assert [len(before[table]) for table in TABLES] == [3, 4, 2, 2]

    with caplog.at_level("INFO", logger="procmon.migrations"):
        run = migrate(earlier_database)
    assert "created before versioned migrations" in caplog.text
    assert [m.filename for m in run.applied] == [m.filename for m in packaged_migrations()]

    assert _rows(earlier_database, earlier_columns, texts_apart=True) == before
    with psycopg.connect(earlier_database) as conn:
        listed = conn.execute(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
        ).fetchall()
    assert listed == [(m.version, m.name, m.checksum) for m in packaged_migrations()]
    require_current_schema(earlier_database)
    # The rows' answer, through the API's read-only role. Not asked before the migrations:
    # this code's API reads columns they add (commands.labels), as `procmon api` says when it
    # refuses to start on a database they have not brought forward.
    after = await _answer(
        earlier_database, MACHINES, redis_prefix=redis_prefix, api_role="procmon_api"
    )
    assert after == {
        "machines": [
            {"machineId": "host-a", "snapshotCount": 2},
            {"machineId": "host-b", "snapshotCount": 1},
        ]
    }


def _store_at_0003(conn: psycopg.Connection[Any], machine: str, when: str, **what: Any) -> None:
    """One snapshot as a worker of migration 0003's time stored it (no machines table)."""
    raw = f"USER PID COMMAND\n{machine} {when} {what}\n"
    conn.execute(
        """INSERT INTO commands (machine_id, machine_name, os_type, os_version, command_type,
               "timestamp", content_hash, schema_version, format, process_count, raw_output,
               labels, cpu_count)
           VALUES (%s, %s, %s, %s, 'ps aux', %s, %s, 2, 'ps aux', 0, %s, %s, %s)""",
        (machine, what.get("name", machine), what.get("os", "linux"), what.get("version", "6.1"),
         _at(when), hashlib.sha256(raw.encode()).hexdigest(), raw,
         Jsonb(what.get("labels", {})), what.get("cpus")),
    )  # fmt: skip


@pytest.fixture
def database_at_0003() -> Iterator[str]:
    """A database migrated to 0003, holding snapshots stored out of order."""
    with migrated_database("procmon_at_0003", up_to=3) as url:
        with psycopg.connect(url) as conn:
            # Stored out of order; renamed, upgraded and given another role at its latest.
            _store_at_0003(conn, "host-a", "2024-05-01T10:05:00", name="a", labels={"r": "x"})
            _store_at_0003(conn, "host-a", "2024-05-01T10:10:00", name="a2", version="6.2",
                           labels={"r": "web"}, cpus=8)  # fmt: skip
            _store_at_0003(conn, "host-a", "2024-05-01T10:00:00", name="a0", cpus=4)
            # Two listings of one moment (ps and top): the greater content hash is the latest.
            _store_at_0003(conn, "host-b", "2024-05-01T11:00:00", name="b-ps", os="freebsd")
            _store_at_0003(conn, "host-b", "2024-05-01T11:00:00", name="b-top", os="freebsd")
            _store_at_0003(conn, "host-c", "2024-04-30T23:59:59", name="c")
        yield url


async def test_an_upgrade_from_0003_fills_machines_and_answers_the_same(
    database_at_0003: str, redis_prefix: str
) -> None:
    url = database_at_0003
    columns = _columns(url)
    rows = _rows(url, columns)
    # What the API of 0003 answered: a grouping of commands on every request.
    before = as_answer(fresh_machines(url))
    assert [m["snapshotCount"] for m in before["machines"]] == [3, 2, 1]

    run = migrate(url)
    assert [m.version for m in run.applied] == [m.version for m in packaged_migrations()[3:]]
    assert _rows(url, columns, texts_apart=True) == rows
    assert stored_machines(url) == fresh_machines(url)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO api_keys (name, key_hash, role) VALUES ('t', %s, 'reader')",
            (hash_token(TOKEN),),
        )
    after = await _answer(url, MACHINES_ANSWER, redis_prefix=redis_prefix, api_role="procmon_api")
    assert after == before


_PROCESS_PARTITIONS = """SELECT partition_name, first_day, end_day FROM procmon_partitions
                         WHERE parent_table = 'processes' ORDER BY first_day"""


@pytest.fixture
def database_at_0006() -> Iterator[str]:
    """A database migrated to 0006, holding rows in a one-day and a three-day partition of
    processes, some with fields cut short."""
    with migrated_database("procmon_at_0006", up_to=6) as url:
        with psycopg.connect(url) as conn:
            conn.execute(ENSURE_PARTITIONS, ([_at("2024-05-01T00:00:00")], 1))
            conn.execute(ENSURE_PARTITIONS, ([_at("2024-05-10T00:00:00")], 3))
            for machine, when in (("host-a", "2024-05-01T10:00:00"),
                                  ("host-b", "2024-05-10T23:00:00"),
                                  ("host-a", "2024-05-09T01:00:00")):  # fmt: skip
                conn.execute(
                    """WITH snapshot AS (
                         INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                             command_type, "timestamp", content_hash, schema_version, format,
                             process_count)
                         VALUES (%(machine)s, %(machine)s, 'linux', '6', 'ps aux', %(when)s,
                                 encode(sha256(convert_to(%(machine)s || %(when)s, 'UTF8')),
                                        'hex'), 2, 'ps aux', 3)
                         RETURNING id, "timestamp")
                       INSERT INTO processes (command_id, line_number, machine_id,
                           observed_at, pid, ppid, "user", process_name, command_line,
                           cpu_percent, memory_percent, rss_bytes, vsz_bytes,
                           memory_usage_bytes, status, status_raw, start_time,
                           cpu_time_seconds, tty, threads, nice, priority, truncated_fields,
                           start_time_precision, process_key, interval_seconds,
                           interval_cpu_percent)
                       SELECT s.id, n + 1, %(machine)s, s."timestamp", 100 + n, 1,
                              CASE WHEN n = 2 THEN 'systemd+' ELSE 'root' END, 'p' || n,
                              '/usr/bin/p' || n || ' --flag', n * 1.5, 0.25, n * 4096,
                              n * 8192, NULL, 'sleeping', 'S', s."timestamp" - interval '1h',
                              n * 2.5, 'pts/' || n, n, -n, 20 + n,
                              CASE WHEN n = 2 THEN ARRAY['user', 'command_line']
                                   ELSE '{}' END,
                              60, 1000 * n + s.id, 60, n * 0.5
                       FROM snapshot AS s, generate_series(0, 2) AS n""",
                    {"machine": machine, "when": _at(when)},
                )
        yield url


def test_the_leaner_rows_of_0007_keep_every_row_and_partition(database_at_0006: str) -> None:
    url = database_at_0006
    with psycopg.connect(url) as conn:
        rows = conn.execute(PROCESS_ROWS).fetchall()
        partitions = conn.execute(_PROCESS_PARTITIONS).fetchall()
    assert len(rows) == 9
    # The three-day partition is kept as it was, not cut into days.
    assert [(p[1], p[2]) for p in partitions if p[0] == "processes_20240508"] == [
        (date(2024, 5, 8), date(2024, 5, 11))
    ]

    run = migrate(url)
    assert [m.version for m in run.applied] == [7]
    with psycopg.connect(url) as conn:
        assert conn.execute(PROCESS_ROWS).fetchall() == rows
        assert conn.execute(_PROCESS_PARTITIONS).fetchall() == partitions
        # Nothing cut is stored as NULL; a cut field as it was.
        stored = conn.execute(
            "SELECT truncated_fields, count(*) FROM processes GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert stored == [(["user", "command_line"], 3), (None, 6)]
        # The 8-byte columns lead, the texts follow the 4-byte ones.
        order = [
            row[0]
            for row in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'processes'::regclass"
                " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            )
        ]
        assert order[:2] == ["command_id", "observed_at"]
        assert order.index("line_number") < order.index("machine_id")
        left = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'processes_before_0007%'"
        ).fetchone()
        assert left == (0,)
        # Each partition's rows are found through its new indexes.
        conn.execute("SET enable_seqscan = off")
        found = conn.execute(
            "SELECT count(*) FROM processes WHERE machine_id = 'host-a'"
            " AND observed_at >= '2024-05-08T00:00:00Z'"
        ).fetchone()
        assert found == (3,)
    require_current_schema(url)
