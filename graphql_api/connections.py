"""Connections of processes and snapshots: filtered, ordered, paged by keyset cursors.

``totalCount`` is a resolver of its own, so the count runs only when a query selects it.
A snapshot's ``processes`` for a whole page of snapshots load in one statement (LATERAL per
snapshot) through the request's loader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, LiteralString, TypeVar

import strawberry
from psycopg import sql as psql
from psycopg.rows import DictRow

from graphql_api import sql
from graphql_api.arguments import time_range
from graphql_api.budget import Fetch
from graphql_api.context import Info, ProcessPage
from graphql_api.filter_inputs import ProcessFilter, SnapshotFilter, StringFilter
from graphql_api.filters import Condition, QueryParams, process_condition, snapshot_condition
from graphql_api.orders import (
    Order,
    ProcessOrderBy,
    SnapshotOrderBy,
    process_order,
    snapshot_order,
)
from graphql_api.pages import PageInfo, decode_cursor, encode_cursor, page_size
from graphql_api.process import Process
from graphql_api.types import Snapshot

__all__ = [
    "Connection",
    "Edge",
    "ProcessConnection",
    "SnapshotConnection",
    "load_process_pages",
    "processes",
    "snapshot_processes",
    "snapshots",
]

Node = TypeVar("Node")
Page = TypeVar("Page", bound="Connection[Any]")
FromArgument = Annotated[datetime | None, strawberry.argument(name="from")]


def _cursor_of(root: Edge[Any]) -> str:
    """Encode the edge's cursor, only when a query selects it."""
    return encode_cursor(root.order, root.key)


@strawberry.type(description="A row of a list and its cursor.")
class Edge(Generic[Node]):
    """One edge of a connection."""

    node: Node
    cursor: str = strawberry.field(resolver=_cursor_of)
    order: strawberry.Private[str]
    key: strawberry.Private[list[Any]]


async def _total_count(root: Connection[Any]) -> int:
    """Count every row of the list."""
    return await root.count()


@strawberry.type(description="A page of a list (Relay connection), forward with first/after.")
class Connection(Generic[Node]):
    """A page of rows, named after its node type by strawberry (``ProcessConnection``)."""

    edges: list[Edge[Node]]
    nodes: list[Node] = strawberry.field(description="The edges' nodes, without cursors.")
    page_info: PageInfo
    total_count: int = strawberry.field(
        resolver=_total_count,
        description="Every row of the list, not only the page's; counted only when asked.",
    )
    count: strawberry.Private[Callable[[], Awaitable[int]]]


@strawberry.type(description="A page of processes (Relay connection).")
class ProcessConnection(Connection[Process]):
    """Processes in pages."""


@strawberry.type(description="A page of snapshots (Relay connection).")
class SnapshotConnection(Connection[Snapshot]):
    """Snapshots in pages."""


def _page(
    rows: Sequence[Mapping[str, Any]],
    order: Order,
    size: int,
    after: str | None,
    node: Callable[[Mapping[str, Any]], Node],
    count: Callable[[], Awaitable[int]],
    connection: type[Page],
) -> Page:
    """The page of the rows fetched (one more than ``size``, to know whether more follow)."""
    keys = [f"k{n}" for n in range(len(order.types))]
    edges = [
        Edge(node=node(row), order=order.name, key=[row[k] for k in keys]) for row in rows[:size]
    ]
    info = PageInfo(
        has_next_page=len(rows) > size,
        has_previous_page=after is not None,
        start_cursor=_cursor_of(edges[0]) if edges else None,
        end_cursor=_cursor_of(edges[-1]) if edges else None,
    )
    return connection(edges=edges, nodes=[edge.node for edge in edges], page_info=info, count=count)


def _where(
    field: str, condition: Condition, order: Order, after: str | None, params: QueryParams
) -> psql.Composable:
    if after is None:
        return condition.sql
    key = decode_cursor(field, order.name, after, order.types)
    return psql.SQL("{} AND {}").format(condition.sql, order.after(key, params))


def _statement(template: LiteralString, **parts: psql.Composable) -> psql.Composed:
    return psql.SQL(template).format(**parts)


def _join(condition: Condition) -> psql.Composable:
    return psql.SQL(sql.COMMANDS_JOIN if condition.needs_snapshots else "")


def _counter(
    info: Info, template: LiteralString, condition: Callable[[QueryParams], Condition]
) -> Callable[[], Awaitable[int]]:
    async def count() -> int:
        params = QueryParams()
        where = condition(params)
        statement = _statement(template, join=_join(where), where=where.sql)
        rows = await info.context.fetch(statement, params.values, max_rows=1)
        total: int = rows[0]["total"]
        return total

    return count


async def processes(
    info: Info,
    filter: ProcessFilter | None = None,
    from_: FromArgument = None,
    to: datetime | None = None,
    order_by: ProcessOrderBy = ProcessOrderBy.OBSERVED_AT_DESC,
    first: int | None = None,
    after: str | None = None,
) -> ProcessConnection:
    """Processes of every snapshot the filter selects, seen in [from, to)."""
    start, end = time_range("processes", from_, to)
    size = page_size("processes", first, info.context.page_size, info.context.max_page_size)
    order = process_order(order_by)

    def condition(params: QueryParams) -> Condition:
        return process_condition(filter, params, start=start, end=end)

    params = QueryParams()
    selected = condition(params)
    statement = _statement(
        sql.PROCESS_PAGE,
        keys=order.select(),
        join=_join(selected),
        where=_where("processes", selected, order, after, params),
        order=order.order_by(),
        limit=params.add(size + 1),
    )
    rows = await info.context.fetch(statement, params.values, max_rows=size + 1)
    count = _counter(info, sql.PROCESS_COUNT, condition)
    return _page(rows, order, size, after, Process.from_row, count, ProcessConnection)


async def snapshots(
    info: Info,
    machine_id: str | None = None,
    filter: SnapshotFilter | None = None,
    from_: FromArgument = None,
    to: datetime | None = None,
    order_by: SnapshotOrderBy = SnapshotOrderBy.TIMESTAMP_DESC,
    first: int | None = None,
    after: str | None = None,
) -> SnapshotConnection:
    """Snapshots the filter selects, taken in [from, to); ``machineId`` is a shorthand."""
    start, end = time_range("snapshots", from_, to)
    size = page_size("snapshots", first, info.context.page_size, info.context.max_page_size)
    order = snapshot_order(order_by)
    if machine_id is not None:
        shorthand = SnapshotFilter(machine_id=StringFilter(equal_to=machine_id))
        filter = shorthand if filter is None else SnapshotFilter(and_=[shorthand, filter])

    def condition(params: QueryParams) -> Condition:
        return snapshot_condition(filter, params, start=start, end=end)

    params = QueryParams()
    statement = _statement(
        sql.SNAPSHOT_PAGE,
        keys=order.select(),
        where=_where("snapshots", condition(params), order, after, params),
        order=order.order_by(),
        limit=params.add(size + 1),
    )
    rows = await info.context.fetch(statement, params.values, max_rows=size + 1)
    count = _counter(info, sql.SNAPSHOT_COUNT, condition)
    return _page(rows, order, size, after, Snapshot.from_row, count, SnapshotConnection)


async def snapshot_processes(
    root: Snapshot,
    info: Info,
    filter: ProcessFilter | None = None,
    order_by: ProcessOrderBy = ProcessOrderBy.LISTING_ORDER,
    first: int | None = None,
    after: str | None = None,
) -> ProcessConnection:
    """A snapshot's processes, in listing order unless ``orderBy`` says otherwise."""
    size = page_size("processes", first, info.context.page_size, info.context.max_page_size)
    order = process_order(order_by)
    if after is not None:
        # Checked here, so that a bad cursor fails this field, not the batch it would load in.
        decode_cursor("processes", order.name, after, order.types)
    request = ProcessPage(root.command_id, order_by, size, after, filter)
    rows = await info.context.processes.load(request)

    def condition(params: QueryParams) -> Condition:
        selected = process_condition(filter, params)
        of_snapshot = psql.SQL("p.command_id = {} AND {}").format(
            params.add(root.command_id), selected.sql
        )
        return Condition(sql=of_snapshot, needs_snapshots=selected.needs_snapshots)

    count_filtered = _counter(info, sql.PROCESS_COUNT, condition)

    async def count() -> int:
        # Unfiltered, the snapshot's own process count answers without a query.
        return root.process_count if filter is None else await count_filtered()

    return _page(rows, order, size, after, Process.from_row, count, ProcessConnection)


async def load_process_pages(fetch: Fetch, requests: Sequence[ProcessPage]) -> list[list[DictRow]]:
    """The rows of each request's page: one statement per distinct page asked."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for request in requests:
        groups.setdefault(request.page_key, []).append(request.snapshot_id)
    rows_by_request: dict[tuple[int, tuple[object, ...]], list[DictRow]] = {}
    for request in requests:
        if request.page_key not in groups:
            continue
        ids = groups.pop(request.page_key)
        order = process_order(request.order_by)
        params = QueryParams()
        condition = process_condition(request.filter, params)
        statement = _statement(
            sql.PROCESS_PAGES_OF_SNAPSHOTS,
            ids=params.add(ids),
            keys=order.select(),
            join=_join(condition),
            where=_where("processes", condition, order, request.after, params),
            order=order.order_by(),
            limit=params.add(request.size + 1),
        )
        for snapshot_id in ids:
            rows_by_request[(snapshot_id, request.page_key)] = []
        most = len(ids) * (request.size + 1)
        for row in await fetch(statement, params.values, max_rows=most):
            rows_by_request[(row["command_id"], request.page_key)].append(row)
    return [rows_by_request[(r.snapshot_id, r.page_key)] for r in requests]
