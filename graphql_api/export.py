"""``GET /export/processes``: every process a filter selects, streamed as CSV, NDJSON or Parquet.

The query parameters are those of the GraphQL ``processes`` field: ``filter`` (the same
ProcessFilter, as JSON), ``from``, ``to``, and ``format`` (``csv``, the default, ``ndjson`` or
``parquet``; see :mod:`graphql_api.export_encoders`). Rows come from a server-side cursor a
batch at a time, in snapshot and listing order, so memory stays the same whatever the export's
size; each FETCH is a statement of its own, under the API's statement timeout.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from graphql import GraphQLError, GraphQLInputObjectType, coerce_input_value
from graphql.utilities import validate_input_value
from psycopg import sql as psql
from psycopg.rows import tuple_row
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry.types.arguments import convert_argument

from graphql_api import sql
from graphql_api.arguments import time_range
from graphql_api.db import ApiPool
from graphql_api.errors import UserInputError
from graphql_api.export_encoders import ENCODERS, ExportEncoder
from graphql_api.filter_inputs import ProcessFilter
from graphql_api.filters import QueryParams, process_condition
from graphql_api.schema import schema

__all__ = ["EXPORT_BATCH_ROWS", "export_processes"]

EXPORT_BATCH_ROWS = 2000


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


async def _stream(
    pool: ApiPool, statement: psql.Composed, params: dict[str, Any], encoder: ExportEncoder
) -> AsyncIterator[bytes]:
    # A named cursor: rows stay in PostgreSQL until fetched, a batch at a time.
    async with (
        pool.connection() as conn,
        conn.transaction(),
        conn.cursor(name="procmon_export", row_factory=tuple_row) as cursor,
    ):
        await cursor.execute(statement, params)
        if header := encoder.start([column.name for column in cursor.description or ()]):
            yield header
        while rows := await cursor.fetchmany(EXPORT_BATCH_ROWS):
            if data := encoder.encode(rows):
                yield data
        if footer := encoder.finish():
            yield footer


async def export_processes(request: Request, pool: ApiPool) -> Response:
    """Stream the processes of the request's filter and time range."""
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
        return JSONResponse({"errors": [{"message": str(exc)}]}, status_code=400)
    statement = psql.SQL(sql.EXPORT_PROCESSES).format(
        join=psql.SQL(sql.COMMANDS_JOIN if condition.needs_snapshots else ""),
        where=condition.sql,
    )
    encoder = ENCODERS[kind]()
    return StreamingResponse(
        _stream(pool, statement, params.values, encoder),
        media_type=encoder.media_type,
        headers={"Content-Disposition": f'attachment; filename="processes.{kind}"'},
    )
