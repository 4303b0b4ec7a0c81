"""The data loaders of a request and their keys: each gathers the loads of one kind that a
query's fields ask for and answers them with one statement (no N+1).

:func:`graphql_api.context.new_context` binds each to the request's way to run statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, LiteralString

from psycopg.rows import DictRow

from graphql_api import sql
from graphql_api.budget import Fetch
from graphql_api.filter_inputs import ProcessFilter
from graphql_api.filters import QueryParams, process_condition
from graphql_api.orders import ProcessOrderBy, process_order
from graphql_api.page_statements import commands_join, compose, process_columns, where_after
from procmon.columns import API_COLUMNS, COLUMNS_BY_NAME, ProcessColumn

__all__ = [
    "ProcessPage",
    "SnapshotKey",
    "load_cpu_counts",
    "load_latest_snapshots",
    "load_machines",
    "load_process_pages",
    "load_raw_output_sizes",
    "load_raw_outputs",
]


_SNAPSHOT_ID = COLUMNS_BY_NAME["command_id"]

# A snapshot as the loaders of its listing know it: its id and its timestamp, which names the
# partition of its text.
SnapshotKey = tuple[int, datetime]


@dataclass(frozen=True, slots=True)
class ProcessPage:
    """One page of one snapshot's processes: the key of the processes loader.

    Pages asked with the same order, size, cursor and filter (``page_key``) of several
    snapshots load in one statement.
    """

    snapshot_id: int
    # The snapshot's timestamp, its rows' observed_at: the partition they are in.
    observed_at: datetime = field(compare=False, hash=False)
    order_by: ProcessOrderBy
    size: int
    after: str | None
    filter: ProcessFilter | None = field(compare=False, hash=False)
    # The columns the request selects of the processes (graphql_api.selection).
    columns: tuple[ProcessColumn, ...] = API_COLUMNS
    page_key: tuple[object, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Filter inputs are dataclasses without a hash; their repr tells them apart.
        key = (self.order_by, self.size, self.after, repr(self.filter), self.columns)
        object.__setattr__(self, "page_key", key)


async def _rows_by(
    fetch: Fetch, query: LiteralString, params: dict[str, list[Any]], key_column: str
) -> dict[Any, DictRow]:
    """The rows of a loader's query, by their ``key_column``."""
    rows = await fetch(query, params)
    return {row[key_column]: row for row in rows}


async def load_machines(fetch: Fetch, machine_ids: list[str]) -> list[DictRow]:
    """The summary row of each machine (``MACHINES_BY_IDS``)."""
    by_id = await _rows_by(fetch, sql.MACHINES_BY_IDS, {"machine_ids": machine_ids}, "machine_id")
    return [by_id[machine_id] for machine_id in machine_ids]


async def load_latest_snapshots(fetch: Fetch, machine_ids: list[str]) -> list[DictRow | None]:
    """Each machine's newest snapshot, or None for a machine without one."""
    by_id = await _rows_by(fetch, sql.LATEST_SNAPSHOTS, {"machine_ids": machine_ids}, "machine_id")
    return [by_id.get(machine_id) for machine_id in machine_ids]


async def load_cpu_counts(fetch: Fetch, snapshot_ids: list[int]) -> list[int | None]:
    """The machine's CPU count of each snapshot, None where its envelope did not say."""
    by_id = await _rows_by(fetch, sql.CPU_COUNTS, {"ids": snapshot_ids}, "id")
    return [by_id[snapshot_id]["cpu_count"] for snapshot_id in snapshot_ids]


def _of_snapshots(snapshots: list[SnapshotKey]) -> dict[str, list[Any]]:
    return {"ids": [key[0] for key in snapshots], "times": [key[1] for key in snapshots]}


async def load_raw_output_sizes(fetch: Fetch, snapshots: list[SnapshotKey]) -> list[int]:
    """The size of each snapshot's raw listing, read without the listing itself; 0 for one
    whose text retention removed."""
    by_id = await _rows_by(fetch, sql.RAW_OUTPUT_SIZES, _of_snapshots(snapshots), "id")
    return [by_id[key[0]]["size"] or 0 for key in snapshots]


async def load_raw_outputs(fetch: Fetch, snapshots: list[SnapshotKey]) -> list[str | None]:
    """Each snapshot's raw listing, None where retention removed it."""
    by_id = await _rows_by(fetch, sql.RAW_OUTPUTS, _of_snapshots(snapshots), "id")
    return [by_id[key[0]]["raw_output"] for key in snapshots]


async def load_process_pages(fetch: Fetch, requests: Sequence[ProcessPage]) -> list[list[DictRow]]:
    """The rows of each request's page: one statement per distinct page asked."""
    groups: dict[tuple[object, ...], list[ProcessPage]] = {}
    for request in requests:
        groups.setdefault(request.page_key, []).append(request)
    rows_by_request: dict[tuple[int, tuple[object, ...]], list[DictRow]] = {}
    for request in requests:
        if request.page_key not in groups:
            continue
        pages = groups.pop(request.page_key)
        ids = [page.snapshot_id for page in pages]
        order = process_order(request.order_by)
        params = QueryParams()
        condition = process_condition(request.filter, params)
        statement = compose(
            sql.PROCESS_PAGES_OF_SNAPSHOTS,
            ids=params.add(ids),
            times=params.add([page.observed_at for page in pages]),
            # Each row's snapshot id tells the pages apart.
            columns=process_columns(dict.fromkeys((*request.columns, _SNAPSHOT_ID)), order),
            join=commands_join(condition),
            where=where_after("processes", condition, order, request.after, params),
            order=order.order_by(),
            limit=params.add(request.size + 1),
        )
        for snapshot_id in ids:
            rows_by_request[(snapshot_id, request.page_key)] = []
        most = len(ids) * (request.size + 1)
        for row in await fetch(statement, params.values, max_rows=most):
            rows_by_request[(row["command_id"], request.page_key)].append(row)
    return [rows_by_request[(r.snapshot_id, r.page_key)] for r in requests]
