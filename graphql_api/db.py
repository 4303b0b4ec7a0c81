"""The API's PostgreSQL connection pool, and the two ways the API reads through it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg.sql import Composed
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from graphql_api import sql
from graphql_api.errors import UserInputError
from procmon.database import WriteAccessCheck, api_database_url
from procmon.settings import Settings

__all__ = [
    "CONNECTION_TIMEOUT",
    "HEALTH_TIMEOUT",
    "ApiConnection",
    "ApiPool",
    "check_health",
    "create_export_pool",
    "create_pool",
    "fetch_all",
    "using_connection",
]

_T = TypeVar("_T")
ApiConnection = AsyncConnection[DictRow]
ApiPool = AsyncConnectionPool[ApiConnection]

# Seconds a query waits for a free connection before failing: a request should fail
# visibly rather than hang while PostgreSQL is away.
CONNECTION_TIMEOUT = 10.0
# Below the probes' own timeouts (2 s in docker-compose.yml), so a probe reads the reason.
HEALTH_TIMEOUT = 1.0


async def _use_utc(conn: ApiConnection) -> None:
    await conn.execute(sql.SET_UTC)


async def _configure(conn: ApiConnection, check_role: WriteAccessCheck) -> None:
    await _use_utc(conn)
    await check_role(conn)


def create_pool(
    settings: Settings, *, size: int | None = None, name: str = "procmon-api"
) -> ApiPool:
    """Build the API's pool (of ``size`` connections, else ``api_pool_size``), not yet open.

    The owner opens it with ``await pool.open(wait=False)`` so that the API starts even
    while PostgreSQL is unreachable (``/healthz`` then says so) and connects once it is back.
    It reads from the replica of ``api_read_database_url`` when one is given, as the
    read-only role of ``api_database_role`` (warning once if that role could write).
    Connections are in autocommit (the API only reads, so no transaction is left idle),
    return rows as dicts, speak UTC, and cancel a statement after ``api_statement_timeout``.
    """
    return AsyncConnectionPool(
        api_database_url(settings),
        min_size=1,
        max_size=size or settings.api_pool_size,
        open=False,
        timeout=CONNECTION_TIMEOUT,
        configure=partial(_configure, check_role=WriteAccessCheck()),
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            # Every query of a request stops at the timeout, so one request can't hog the pool;
            # read-only even if the role is not (a role can turn this off, but only on purpose).
            "options": f"-c statement_timeout={round(settings.api_statement_timeout * 1000)}"
            " -c default_transaction_read_only=on",
        },
        connection_class=AsyncConnection[DictRow],
        name=name,
    )


def create_export_pool(settings: Settings) -> ApiPool:
    """The exports' own pool of ``api_export_connections``, as :func:`create_pool` makes them.

    An export holds its connection while its client reads; apart, exports never take the
    connections GraphQL, key checks and ``/healthz`` need.
    """
    return create_pool(settings, size=settings.api_export_connections, name="procmon-export")


async def using_connection(pool: ApiPool, use: Callable[[ApiConnection], Awaitable[_T]]) -> _T:
    """Run ``use`` on a connection of the pool, once more on another if it was closed.

    A connection that PostgreSQL closed (a restart, an idle timeout) fails its first query;
    then the pool checks its idle connections, dropping every closed one, and the query runs
    again. Checking every connection before each use instead would cost a round trip a query.
    """
    for attempt in (1, 2):
        try:
            async with pool.connection() as conn:
                return await use(conn)
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.OperationalError:
            if attempt == 2:
                raise
            await pool.check()
    raise AssertionError("unreachable: the loop returns or raises")


async def fetch_all(
    pool: ApiPool, query: LiteralString | Composed, params: Mapping[str, Any]
) -> list[DictRow]:
    """Run a query of :mod:`graphql_api.sql`, or one composed with a filter; return its rows."""

    async def run(conn: ApiConnection) -> list[DictRow]:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()

    try:
        return await using_connection(pool, run)
    except psycopg.errors.QueryCanceled as exc:
        raise UserInputError(
            "the query ran longer than the API's statement timeout and was cancelled;"
            " ask for less (a narrower time range, a smaller limit)"
        ) from exc


async def check_health(pool: ApiPool) -> str | None:
    """Return ``None`` when the pool can run a query, else the reason it cannot."""
    try:
        async with pool.connection(timeout=HEALTH_TIMEOUT) as conn:
            await conn.execute(sql.HEALTH_CHECK)
    except PoolTimeout:
        return f"no database connection available within {HEALTH_TIMEOUT:g} s"
    except psycopg.Error as exc:
        return str(exc)
    return None
