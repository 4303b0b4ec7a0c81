"""The API reads as a role that cannot write: a bug in a query path writes nothing."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest
from psycopg import sql

from graphql_api.db import ApiConnection, ApiPool, create_pool, fetch_all, using_connection
from procmon.database import migrate
from procmon.settings import Settings
from tests.conftest import SERVER_URL, migrated_database
from tests.graphql_api.conftest import Fleet, post

WRITES = [
    "INSERT INTO api_keys (name, key_hash, role) VALUES ('intruder', '\\x00', 'admin')",
    "UPDATE api_keys SET revoked_at = NULL",
    "DELETE FROM commands",
    "CREATE TABLE intruder (x int)",
]


@pytest.fixture
async def api_pool(fleet: Fleet, database_url: str) -> AsyncIterator[ApiPool]:
    """A pool of the API as it is built for the session database."""
    pool = create_pool(Settings(database_url=database_url))
    await pool.open()
    yield pool
    await pool.close()


async def _run(pool: ApiPool, *statements: str) -> None:
    async def run(conn: ApiConnection) -> None:
        for statement in statements:
            await conn.execute(statement.encode())

    await using_connection(pool, run)


@pytest.mark.parametrize("write", WRITES)
async def test_a_write_through_the_api_connection_fails(
    api_pool: ApiPool, database_url: str, write: str
) -> None:
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        await _run(api_pool, write)
    # Turning read-only off, as an injected statement could, leaves the role's privileges.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        await _run(api_pool, "SET default_transaction_read_only = off", write)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM commands").fetchone() == (6,)
        assert conn.execute("SELECT count(*) FROM api_keys").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('intruder')").fetchone() == (None,)


async def test_the_api_connects_as_its_role_and_not_as_the_owner(api_pool: ApiPool) -> None:
    [row] = await fetch_all(
        api_pool,
        "SELECT current_user AS role, r.rolsuper AS superuser,"
        " current_setting('default_transaction_read_only') AS read_only"
        " FROM pg_roles r WHERE r.rolname = current_user",
        {},
    )
    assert row == {"role": "procmon_api", "superuser": False, "read_only": "on"}


async def test_queries_key_checks_and_exports_need_nothing_but_select(
    client: httpx.AsyncClient, database_url: str
) -> None:
    body = await post(client, "{ machines { machineId snapshotCount } }")
    assert "errors" not in body
    assert len(body["data"]["machines"]) == 3
    # A server-side cursor in a read-only transaction.
    export = await client.get("/export/processes", params={"format": "ndjson"})
    assert export.status_code == 200, export.text
    assert len(export.text.splitlines()) == 4
    wrong = await client.post(
        "/graphql",
        json={"query": "{ machines { machineId } }"},
        headers={"Authorization": "Bearer pmk_wrong"},
    )
    assert wrong.status_code == 401
    with psycopg.connect(database_url) as conn:
        users = conn.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    assert users == [("procmon_api",)]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "procmon.database" and record.levelno == logging.WARNING
    ]


async def _open_and_query(settings: Settings) -> None:
    """Open the API's pool, run queries over several connections at once, close it."""
    pool = create_pool(settings)
    await pool.open()
    try:
        await asyncio.gather(*(fetch_all(pool, "SELECT pg_sleep(0.05)", {}) for _ in range(3)))
    finally:
        await pool.close()


async def test_the_api_warns_once_when_its_role_is_a_superuser(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await _open_and_query(Settings(database_url=database_url))
    assert _warnings(caplog) == []
    # An empty role: the URL's own user, here the superuser `postgres`.
    await _open_and_query(Settings(database_url=database_url, api_database_role=""))
    [warning] = _warnings(caplog)
    assert "as 'postgres', which can write (it is a superuser;" in warning
    assert "PROCMON_API_DATABASE_ROLE" in warning


@pytest.fixture
def writing_role() -> Iterator[tuple[str, str]]:
    """A database whose API role was later granted INSERT on ``commands``."""
    role = f"procmon_api_{uuid.uuid4().hex[:8]}"
    try:
        with migrated_database("procmon_writer") as url:
            migrate(url, api_role=role)
            with psycopg.connect(url) as conn:
                conn.execute(sql.SQL("GRANT INSERT ON commands TO {}").format(sql.Identifier(role)))
            yield url, role
    finally:
        with psycopg.connect(SERVER_URL, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


async def test_the_api_warns_when_its_role_may_write_to_a_table(
    writing_role: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, role = writing_role
    await _open_and_query(Settings(database_url=url, api_database_role=role))
    [warning] = _warnings(caplog)
    assert f"as '{role}', which can write (it may write to commands)" in warning
