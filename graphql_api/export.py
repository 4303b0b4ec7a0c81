"""``GET /export/processes``: every process a filter selects, streamed as CSV, NDJSON or Parquet.

The query parameters are those of the GraphQL ``processes`` field: ``filter`` (the same
ProcessFilter, as JSON), ``from``, ``to``, and ``format`` (``csv``, the default, ``ndjson`` or
``parquet``; see :mod:`graphql_api.export_encoders`). Rows come from a server-side cursor a
batch at a time, in snapshot and listing order, so memory stays the same whatever the export's
size; each FETCH is a statement of its own, under the API's statement timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from datetime import datetime
from typing import Any

import psycopg
from graphql import GraphQLError, GraphQLInputObjectType, coerce_input_value
from graphql.utilities import validate_input_value
from psycopg import sql as psql
from psycopg.rows import tuple_row
from psycopg_pool import PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.types.arguments import convert_argument

from graphql_api import sql
from graphql_api.arguments import time_range
from graphql_api.db import ApiConnection, ApiPool
from graphql_api.errors import UserInputError
from graphql_api.export_encoders import ENCODERS, ExportEncoder
from graphql_api.filter_inputs import ProcessFilter
from graphql_api.filters import QueryParams, process_condition
from graphql_api.schema import schema

__all__ = ["EXPORT_BATCH_ROWS", "EXPORT_CURSOR", "export_processes"]

log = logging.getLogger(__name__)

EXPORT_BATCH_ROWS = 2000
EXPORT_CURSOR = "procmon_export"
# Seconds an export waits for a free export connection before it is refused with 503; then
# the client is told to come back after EXPORT_RETRY_AFTER seconds.
EXPORT_CONNECTION_WAIT = 1.0
EXPORT_RETRY_AFTER = 5


def _filter(text: str | None) -> ProcessFilter | None:
    """The ``filter`` parameter read as the GraphQL ProcessFilter input."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"filter: not JSON: {exc}") from exc
    input_type = schema._schema.get_type("ProcessFilter")
    if not isinstance(input_type, GraphQLInputObjectType):  # pragma: no cover - in the schema
        raise TypeError("ProcessFilter is not an input type of the schema")
    problems: list[str] = []

    def on_error(error: GraphQLError, path: Sequence[str | int]) -> None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        problems.append(f"filter{where}: {error.message}")

    validate_input_value(value, input_type, on_error)
    if problems:
        raise UserInputError("; ".join(problems))
    coerced = coerce_input_value(value, input_type)
    converted = convert_argument(
        coerced, ProcessFilter, schema.schema_converter.scalar_registry, schema.config
    )
    assert isinstance(converted, ProcessFilter)
    return converted


def _time(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise UserInputError(f"{name}: not an ISO 8601 time: {text!r}") from exc


async def _chunks(
    conn: ApiConnection, statement: psql.Composed, params: dict[str, Any], encoder: ExportEncoder
) -> AsyncGenerator[bytes]:
    """The export's bytes; the first chunk comes once the first batch is fetched, so that a
    query failing at once still gets an HTTP error rather than a 200 cut short."""
    # A named cursor: rows stay in PostgreSQL until fetched, a batch at a time.
    async with (
        conn.transaction(),
        conn.cursor(name=EXPORT_CURSOR, row_factory=tuple_row) as cursor,
    ):
        await cursor.execute(statement, params)
        rows = await cursor.fetchmany(EXPORT_BATCH_ROWS)
        yield encoder.start([column.name for column in cursor.description or ()])
        while rows:
            if data := encoder.encode(rows):
                yield data
            rows = await cursor.fetchmany(EXPORT_BATCH_ROWS)
        yield encoder.finish()


class _ExportResponse(Response):
    """The streamed export, over a connection of the export pool held only while it runs.

    Once the status line is out, a failure (the database, a client taking no data for
    ``write_timeout`` seconds) can only cut the response: it ends without its last chunk, which
    HTTP clients report as an incomplete body (curl exits with 18), and the log says why.
    """

    def __init__(
        self,
        pool: ApiPool,
        query: tuple[psql.Composed, dict[str, Any]],
        encoder: ExportEncoder,
        kind: str,
        write_timeout: float,
    ) -> None:
        super().__init__(media_type=encoder.media_type)
        self._pool, self._query, self._encoder = pool, query, encoder
        self._write_timeout = write_timeout
        self._start_headers = [
            (b"content-type", encoder.media_type.encode()),
            (b"content-disposition", f'attachment; filename="processes.{kind}"'.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the export, or answer 503 when every export connection is taken."""
        try:
            async with self._pool.connection(timeout=EXPORT_CONNECTION_WAIT) as conn:
                await self._send_export(conn, scope, receive, send)
        except PoolTimeout:
            busy = (
                f"every export connection ({self._pool.max_size}) is in use"
                " (PROCMON_API_EXPORT_CONNECTIONS); retry in a few seconds"
            )
            await _error(busy, 503, retry=True)(scope, receive, send)

    async def _send_export(
        self, conn: ApiConnection, scope: Scope, receive: Receive, send: Send
    ) -> None:
        left = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, left))
        start: Message = {"type": "http.response.start", "status": 200}
        try:
            async with aclosing(_chunks(conn, *self._query, self._encoder)) as chunks:
                async for chunk in chunks:
                    if start:
                        await self._send(send, {**start, "headers": self._start_headers})
                        start = {}
                    if left.is_set():
                        return
                    await self._send(send, _body(chunk, more=True))
            await self._send(send, _body(b"", more=False))
        except TimeoutError:
            log.warning(
                "export cut: the client took no data for %g s; its connection is freed",
                self._write_timeout,
            )
        except psycopg.errors.QueryCanceled:
            reason = "a fetch ran longer than the API's statement timeout; ask for less"
            await self._fail(reason, 400, (scope, receive, send) if start else None)
        except psycopg.Error as exc:
            reason = f"the database failed: {exc}"
            await self._fail(reason, 503, (scope, receive, send) if start else None)
        finally:
            watcher.cancel()

    async def _send(self, send: Send, message: Message) -> None:
        # A client that stops reading blocks send() under flow control; past the timeout the
        # export ends, and the cursor's transaction with it.
        async with asyncio.timeout(self._write_timeout):
            await send(message)

    @staticmethod
    async def _fail(
        reason: str, status: int, unstarted: tuple[Scope, Receive, Send] | None
    ) -> None:
        """Answer ``status`` when nothing was sent yet; else only log: the response is cut."""
        if unstarted is None:
            log.warning("export cut after it started: %s", reason)
            return
        log.warning("export refused: %s", reason)
        await _error(f"export failed: {reason}", status, retry=status == 503)(*unstarted)


def _body(chunk: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


async def _watch_disconnect(receive: Receive, left: asyncio.Event) -> None:
    """Set ``left`` when the client goes away (the server's send then drops the data)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    left.set()


def _error(message: str, status: int, *, retry: bool = False) -> JSONResponse:
    headers = {"Retry-After": str(EXPORT_RETRY_AFTER)} if retry else None
    return JSONResponse({"errors": [{"message": message}]}, status_code=status, headers=headers)


async def export_processes(request: Request, pool: ApiPool, write_timeout: float) -> Response:
    """Stream the processes of the request's filter and time range, from a connection of
    ``pool`` (the export pool) held while it streams."""
    query = request.query_params
    kind = query.get("format", "csv")
    try:
        if kind not in ENCODERS:
            raise UserInputError(f"format must be csv, ndjson or parquet, got {kind!r}")
        start, end = time_range(
            "export", _time("from", query.get("from")), _time("to", query.get("to"))
        )
        params = QueryParams()
        condition = process_condition(_filter(query.get("filter")), params, start=start, end=end)
    except UserInputError as exc:
        return _error(str(exc), 400)
    statement = psql.SQL(sql.EXPORT_PROCESSES).format(
        join=psql.SQL(sql.COMMANDS_JOIN if condition.needs_snapshots else ""),
        where=condition.sql,
    )
    return _ExportResponse(
        pool,
        (statement, params.values),
        ENCODERS[kind](),
        kind,
        write_timeout=write_timeout,
    )
