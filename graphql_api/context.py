"""What every resolver of one request can reach: the pool and the request's data loaders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
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


def new_context(pool: ApiPool) -> ApiContext:
    """Build the context of one request.

    ``snapshots { processes }`` resolves every snapshot's processes through one loader, so
    a page of snapshots costs one processes query instead of one per snapshot (no N+1).
    """

    async def load(pages: list[ProcessPage]) -> list[list[DictRow]]:
        return await _load_process_pages(pool, pages)

    return ApiContext(pool=pool, processes=DataLoader(load_fn=load))
