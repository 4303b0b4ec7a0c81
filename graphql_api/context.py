"""What every resolver of one request can reach: the pool, the request's budget and its way to
run statements, the caller's role, page sizes and the data loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, LiteralString

import strawberry
from psycopg.rows import DictRow
from strawberry.dataloader import DataLoader

from graphql_api import sql
from graphql_api.budget import Budget, Fetch, budgeted_fetch, fetcher
from graphql_api.db import ApiPool

__all__ = ["ApiContext", "Info", "ProcessPage", "new_context"]


@dataclass(frozen=True, slots=True)
class ProcessPage:
    """One page of one snapshot's processes: the loader's key.

    Pages asked with the same order, size, cursor and filter (``page_key``) of several
    snapshots load in one statement. ``order_by`` is a ProcessOrderBy and ``filter`` a
    ProcessFilter or None (typed loosely: this module comes before those).
    """

    snapshot_id: int
    order_by: Any
    size: int
    after: str | None
    filter: Any = field(compare=False, hash=False)
    page_key: tuple[object, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Filter inputs are dataclasses without a hash; their repr tells them apart.
        key = (self.order_by, self.size, self.after, repr(self.filter))
        object.__setattr__(self, "page_key", key)


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The per-request context; loaders live here because their cache must not outlive it."""

    pool: ApiPool
    budget: Budget
    fetch: Fetch
    processes: DataLoader[ProcessPage, list[DictRow]]
    machines: DataLoader[str, DictRow]
    latest_snapshots: DataLoader[str, DictRow | None]
    raw_output_sizes: DataLoader[int, int]
    raw_outputs: DataLoader[int, str]
    role: str = "reader"
    page_size: int = 100
    max_page_size: int = 1000


Info = strawberry.Info[ApiContext, None]
"""What every resolver is given: the request's :class:`ApiContext`, no root value."""


async def _rows_by(
    fetch: Fetch, query: LiteralString, params: dict[str, list[Any]], key_column: str
) -> dict[Any, DictRow]:
    """The rows of a loader's query, by their ``key_column``."""
    rows = await fetch(query, params)
    return {row[key_column]: row for row in rows}


async def _load_machines(fetch: Fetch, machine_ids: list[str]) -> list[DictRow]:
    by_id = await _rows_by(fetch, sql.MACHINES_BY_IDS, {"machine_ids": machine_ids}, "machine_id")
    return [by_id[machine_id] for machine_id in machine_ids]


async def _load_latest_snapshots(fetch: Fetch, machine_ids: list[str]) -> list[DictRow | None]:
    by_id = await _rows_by(fetch, sql.LATEST_SNAPSHOTS, {"machine_ids": machine_ids}, "machine_id")
    return [by_id.get(machine_id) for machine_id in machine_ids]


async def _load_raw_output_sizes(fetch: Fetch, snapshot_ids: list[int]) -> list[int]:
    by_id = await _rows_by(fetch, sql.RAW_OUTPUT_SIZES, {"ids": snapshot_ids}, "id")
    return [by_id[snapshot_id]["size"] for snapshot_id in snapshot_ids]


async def _load_raw_outputs(fetch: Fetch, snapshot_ids: list[int]) -> list[str]:
    by_id = await _rows_by(fetch, sql.RAW_OUTPUTS, {"ids": snapshot_ids}, "id")
    return [by_id[snapshot_id]["raw_output"] for snapshot_id in snapshot_ids]


def new_context(
    pool: ApiPool,
    budget: Budget,
    role: str = "reader",
    page_size: int = 100,
    max_page_size: int = 1000,
) -> ApiContext:
    """Build the context of one request, whose statements all draw on ``budget``.

    Nested fields load through one loader per kind, so a page of snapshots costs one
    processes query, and a list of machines one latest-snapshot query (no N+1).
    """
    # The page loader composes filters and orders, which build on the types of this module.
    from graphql_api.connections import load_process_pages

    # The loaders' own binding (not ``fetch``'s), so that tests can watch the loaders alone.
    load: Fetch = partial(budgeted_fetch, pool, budget)
    return ApiContext(
        pool=pool,
        budget=budget,
        fetch=fetcher(pool, budget),
        processes=DataLoader(load_fn=partial(load_process_pages, load)),
        machines=DataLoader(load_fn=partial(_load_machines, load)),
        latest_snapshots=DataLoader(load_fn=partial(_load_latest_snapshots, load)),
        raw_output_sizes=DataLoader(load_fn=partial(_load_raw_output_sizes, load)),
        raw_outputs=DataLoader(load_fn=partial(_load_raw_outputs, load)),
        role=role,
        page_size=page_size,
        max_page_size=max_page_size,
    )
