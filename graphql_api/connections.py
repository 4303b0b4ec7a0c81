"""The root lists ``processes`` and ``snapshots``: filtered, ordered, paged by keyset cursors.

A snapshot's own ``processes`` are in :mod:`graphql_api.process_connection`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import strawberry
from psycopg import sql as psql

from graphql_api import sql
from graphql_api.arguments import process_key, time_range
from graphql_api.context import Info
from graphql_api.filter_inputs import ProcessFilter, SnapshotFilter, StringFilter
from graphql_api.filters import Condition, QueryParams, process_condition, snapshot_condition
from graphql_api.orders import (
    Order,
    ProcessOrderBy,
    SnapshotOrderBy,
    process_order,
    snapshot_order,
)
from graphql_api.page_statements import (
    commands_join,
    compose,
    counter,
    process_columns,
    where_after,
)
from graphql_api.pages import page_size
from graphql_api.process import Process
from graphql_api.process_connection import ProcessConnection
from graphql_api.relay import Connection, connection_page
from graphql_api.selection import selected_process_columns, selects
from graphql_api.types import Snapshot

__all__ = ["SnapshotConnection", "process_history", "processes", "snapshots"]

FromArgument = Annotated[datetime | None, strawberry.argument(name="from")]


@strawberry.type(description="A page of snapshots (Relay connection).")
class SnapshotConnection(Connection[Snapshot]):
    """Snapshots in pages."""


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

    return await _process_page(info, "processes", condition, order, size, after)


async def _process_page(
    info: Info,
    field: str,
    condition: Callable[[QueryParams], Condition],
    order: Order,
    size: int,
    after: str | None,
) -> ProcessConnection:
    """The page of processes that ``condition`` selects, in ``order``, after ``after``."""
    params = QueryParams()
    selected = condition(params)
    statement = compose(
        sql.PROCESS_PAGE,
        columns=process_columns(selected_process_columns(info.selected_fields), order),
        join=commands_join(selected),
        where=where_after(field, selected, order, after, params),
        order=order.order_by(),
        limit=params.add(size + 1),
    )
    rows = await info.context.fetch(statement, params.values, max_rows=size + 1)
    return connection_page(
        rows,
        order=order,
        size=size,
        after=after,
        node=Process.from_row,
        count=counter(info.context.fetch, sql.PROCESS_COUNT, condition),
        connection=ProcessConnection,
    )


# A process's rows, oldest first, then the rows' own key.
_HISTORY_ORDER = Order(
    "HISTORY", ("p.observed_at", "p.command_id", "p.line_number"), (datetime, int, int), False
)


async def process_history(
    info: Info,
    process_key_: Annotated[strawberry.ID, strawberry.argument(name="processKey")],
    from_: FromArgument = None,
    to: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
) -> ProcessConnection:
    """The rows of one process (``processKey``) seen in [from, to), oldest first."""
    field = "processHistory"
    key = process_key(field, process_key_)
    start, end = time_range(field, from_, to)
    size = page_size(field, first, info.context.page_size, info.context.max_page_size)

    def condition(params: QueryParams) -> Condition:
        in_range = process_condition(None, params, start=start, end=end)
        # Its machine's rows from where it was first seen (process_keys), through the index
        # of a machine's rows over time; each row's key is read from the table (the index,
        # deduplicated, carries none: migration 0007).
        of_key = psql.SQL(
            "(p.machine_id, p.observed_at) >= (SELECT machine_id, first_seen FROM process_keys"
            " WHERE process_key = {key}) AND p.machine_id = (SELECT machine_id FROM process_keys"
            " WHERE process_key = {key}) AND p.process_key = {key} AND {range}"
        ).format(key=params.add(key), range=in_range.sql)
        return Condition(sql=of_key, needs_snapshots=False)

    return await _process_page(info, field, condition, _HISTORY_ORDER, size, after)


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
    selected = condition(params)
    counted = selects(info.selected_fields, "totalCount")
    statement = compose(
        sql.SNAPSHOT_PAGE,
        keys=order.select(),
        total=compose(sql.SNAPSHOT_PAGE_TOTAL, where=selected.sql) if counted else psql.SQL(""),
        where=where_after("snapshots", selected, order, after, params),
        order=order.order_by(),
        limit=params.add(size + 1),
    )
    rows = await info.context.fetch(statement, params.values, max_rows=size + 1)
    count = counter(info.context.fetch, sql.SNAPSHOT_COUNT, condition)
    # A page past the end holds no row to carry the count: its own statement counts it.
    if counted and rows:
        total: int = rows[0]["total"]

        async def count_of_page() -> int:
            return total

        count = count_of_page
    return connection_page(
        rows,
        order=order,
        size=size,
        after=after,
        node=Snapshot.from_row,
        count=count,
        connection=SnapshotConnection,
    )
