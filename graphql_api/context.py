"""What every resolver of one request can reach: the pool and the request's data loaders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from psycopg.rows import DictRow
from strawberry.dataloader import DataLoader

from graphql_api import sql
from graphql_api.db import ApiPool, fetch_all

__all__ = ["ApiContext", "ProcessPage", "new_context"]


class ProcessPage(NamedTuple):
    """The first ``limit`` processes, in listing order, of the snapshot ``snapshot_id``."""

    snapshot_id: int
    limit: int


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The per-request context; loaders live here because their cache must not outlive it."""

    pool: ApiPool
    processes: DataLoader[ProcessPage, list[DictRow]]
    machines: DataLoader[str, DictRow]
    latest_snapshots: DataLoader[str, DictRow | None]


async def _load_process_pages(pool: ApiPool, pages: list[ProcessPage]) -> list[list[DictRow]]:
    # One query per distinct limit, and a query normally asks one limit for all its snapshots.
    ids_by_limit: defaultdict[int, list[int]] = defaultdict(list)
    for page in pages:
        ids_by_limit[page.limit].append(page.snapshot_id)
    rows_by_page: defaultdict[ProcessPage, list[DictRow]] = defaultdict(list)
    for limit, snapshot_ids in ids_by_limit.items():
        params = {"snapshot_ids": snapshot_ids, "limit": limit}
        for row in await fetch_all(pool, sql.PROCESSES_OF_SNAPSHOTS, params):
            rows_by_page[ProcessPage(row["command_id"], limit)].append(row)
    return [rows_by_page[page] for page in pages]


async def _load_machines(pool: ApiPool, machine_ids: list[str]) -> list[DictRow]:
    rows = await fetch_all(pool, sql.MACHINES_BY_IDS, {"machine_ids": machine_ids})
    by_id = {row["machine_id"]: row for row in rows}
    return [by_id[machine_id] for machine_id in machine_ids]


async def _load_latest_snapshots(pool: ApiPool, machine_ids: list[str]) -> list[DictRow | None]:
    rows = await fetch_all(pool, sql.LATEST_SNAPSHOTS, {"machine_ids": machine_ids})
    by_id = {row["machine_id"]: row for row in rows}
    return [by_id.get(machine_id) for machine_id in machine_ids]


def new_context(pool: ApiPool) -> ApiContext:
    """Build the context of one request.

    Nested fields load through one loader per kind, so a page of snapshots costs one
    processes query, and a list of machines one latest-snapshot query (no N+1).
    """
    return ApiContext(
        pool=pool,
        processes=DataLoader(load_fn=partial(_load_process_pages, pool)),
        machines=DataLoader(load_fn=partial(_load_machines, pool)),
        latest_snapshots=DataLoader(load_fn=partial(_load_latest_snapshots, pool)),
    )
