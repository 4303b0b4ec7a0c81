"""Fixtures shared by the whole suite: a private PostgreSQL database per test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from procmon.database import create_database, drop_database, migrate

# The server the tests use; CI and the developers' machines run one here.
SERVER_URL = os.environ.get("PROCMON_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/test")


def fresh_database_url(prefix: str) -> str:
    """Return the URL of a new, uniquely named database on the test server (not created)."""
    return make_conninfo(SERVER_URL, dbname=f"{prefix}_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database of this test session with the schema applied; dropped at the end."""
    url = fresh_database_url("procmon_test")
    create_database(url)
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture
def clean_database(database_url: str) -> str:
    """The session database emptied of every row, for tests that count rows."""
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE commands, processes, ingest_errors RESTART IDENTITY CASCADE")
    return database_url
