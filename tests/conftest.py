"""Fixtures shared by the whole suite: a private PostgreSQL database per test session."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import hypothesis
import psycopg
import pytest
import redis
from psycopg import sql
from psycopg.conninfo import make_conninfo

from procmon.columns import COLUMNS
from procmon.database import create_database, drop_database, migrate
from procmon.devstack import start_dev_broker
from procmon.migrations import packaged_migrations
from procmon.partitions import ENSURE_PARTITIONS

# Speed is measured by `make bench`, never by tests: no per-example deadline, and no failure
# when a loaded CI machine generates examples slowly.
hypothesis.settings.register_profile(
    "procmon", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("procmon")

T = TypeVar("T")

# The server the tests use; CI and the developers' machines run one here.
SERVER_URL = os.environ.get("PROCMON_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_database_url(prefix: str) -> str:
    """Return the URL of a new, uniquely named database on the test server (not created)."""
    return make_conninfo(SERVER_URL, dbname=f"{prefix}_{uuid.uuid4().hex[:12]}")


# Every column of processes in the declaration's order, as the API reads it (since migration
# 0007 an empty list is stored as NULL): the same rows whatever the table's column order.
PROCESS_ROWS = sql.SQL("SELECT {} FROM processes AS p ORDER BY command_id, line_number").format(
    sql.SQL(", ").join(sql.SQL(column.read_sql("p")) for column in COLUMNS)
)


def make_partitions(conn: psycopg.Connection[Any], *moments: datetime) -> None:
    """Create the partitions of the UTC days of ``moments``, one day wide, for rows a test
    inserts itself: the worker creates those of the rows it writes, migrate those ahead."""
    conn.execute(ENSURE_PARTITIONS, (list(moments), 1))


def at_once(task: Callable[[], T], times: int) -> list[T]:
    """Run ``task`` in ``times`` threads started together; their results, or the first error."""
    results: list[T] = []
    errors: list[BaseException] = []
    start = threading.Barrier(times)

    def run() -> None:
        try:
            start.wait()
            results.append(task())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@contextlib.contextmanager
def migrated_database(prefix: str, up_to: int | None = None) -> Iterator[str]:
    """A new database with the schema applied (its migrations up to version ``up_to`` only,
    when given), dropped when the block ends."""
    url = fresh_database_url(prefix)
    create_database(url)
    try:
        migrate(
            url,
            migrations=[m for m in packaged_migrations() if up_to is None or m.version <= up_to],
        )
        yield url
    finally:
        drop_database(url)


def stored_counts(database_url: str) -> tuple[int, int, int]:
    """Rows of commands, processes and ingest_errors."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM commands), (SELECT count(*) FROM processes),"
            " (SELECT count(*) FROM ingest_errors)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of this test session with the schema applied; dropped at the end."""
    with migrated_database("procmon_test") as url:
        yield url


@pytest.fixture
def clean_database(database_url: str) -> str:
    """The session database emptied of every row, for tests that count rows."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "TRUNCATE commands, raw_outputs, processes, machines, process_days, process_keys,"
            " ingest_errors, api_keys, stats_hours, stats_days, stats_machine_hours,"
            " stats_machine_days"
            " RESTART IDENTITY CASCADE"
        )
    return database_url


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    """The bootstrap address of a dev broker (tansu, memory storage) for this test session."""
    process, address = start_dev_broker()
    yield address
    process.kill()
    process.wait()


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test alone; its keys are deleted afterwards."""
    prefix = f"procmon-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    drop_redis_keys(prefix)


def drop_redis_keys(prefix: str) -> None:
    """Delete every key under ``prefix`` from the test Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()
