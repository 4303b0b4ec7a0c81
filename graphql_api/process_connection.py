"""The connection of processes, and a snapshot's ``processes``: those of a whole page of
snapshots load in one statement (LATERAL per snapshot) through the request's loader.

The snapshot is known here only by what its processes need of it (:class:`PagedSnapshot`), so
that :mod:`graphql_api.types` can import this module and not the other way round.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import strawberry
from psycopg import sql as psql

from graphql_api import sql
from graphql_api.context import Info
from graphql_api.filter_inputs import ProcessFilter
from graphql_api.filters import Condition, QueryParams, process_condition
from graphql_api.loaders import ProcessPage
from graphql_api.orders import ProcessOrderBy, process_order
from graphql_api.page_statements import counter
from graphql_api.pages import decode_cursor, page_size
from graphql_api.process import Process
from graphql_api.relay import Connection, connection_page
from graphql_api.selection import selected_process_columns

__all__ = ["PagedSnapshot", "ProcessConnection", "snapshot_processes"]


@strawberry.type(description="A page of processes (Relay connection).")
class ProcessConnection(Connection[Process]):
    """Processes in pages."""


class PagedSnapshot(Protocol):
    """What the pages of a snapshot's processes need of a :class:`graphql_api.types.Snapshot`."""

    @property
    def command_id(self) -> int:
        """Its row's id in ``commands``."""

    @property
    def timestamp(self) -> datetime:
        """When the machine took the listing: its rows' observed_at, which names their
        partition."""

    @property
    def process_count(self) -> int:
        """How many processes its listing holds."""


async def snapshot_processes(
    root: PagedSnapshot,
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
    request = ProcessPage(
        snapshot_id=root.command_id,
        observed_at=root.timestamp,
        order_by=order_by,
        size=size,
        after=after,
        filter=filter,
        columns=selected_process_columns(info.selected_fields),
    )
    rows = await info.context.processes.load(request)

    def condition(params: QueryParams) -> Condition:
        selected = process_condition(filter, params)
        of_snapshot = psql.SQL("p.command_id = {} AND p.observed_at = {} AND {}").format(
            params.add(root.command_id), params.add(root.timestamp), selected.sql
        )
        return Condition(sql=of_snapshot, needs_snapshots=selected.needs_snapshots)

    count_filtered = counter(info.context.fetch, sql.PROCESS_COUNT, condition)

    async def count() -> int:
        # Unfiltered, the snapshot's own process count answers without a query.
        return root.process_count if filter is None else await count_filtered()

    return connection_page(
        rows,
        order=order,
        size=size,
        after=after,
        node=Process.from_row,
        count=count,
        connection=ProcessConnection,
    )
