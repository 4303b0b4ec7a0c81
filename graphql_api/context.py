"""What every resolver of one request can reach: the pool, the request's budget and its way to
run statements, the caller's role, page sizes and the data loaders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import strawberry
from psycopg.rows import DictRow
from strawberry.dataloader import DataLoader

from graphql_api.budget import Budget, Fetch, budgeted_fetch, fetcher
from graphql_api.db import ApiPool
from graphql_api.loaders import (
    ProcessPage,
    SnapshotKey,
    load_cpu_counts,
    load_latest_snapshots,
    load_machines,
    load_process_pages,
    load_raw_output_sizes,
    load_raw_outputs,
)

__all__ = ["ApiContext", "Info", "new_context"]


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The per-request context; loaders live here because their cache must not outlive it."""

    pool: ApiPool
    budget: Budget
    fetch: Fetch
    processes: DataLoader[ProcessPage, list[DictRow]]
    machines: DataLoader[str, DictRow]
    latest_snapshots: DataLoader[str, DictRow | None]
    raw_output_sizes: DataLoader[SnapshotKey, int]
    raw_outputs: DataLoader[SnapshotKey, str | None]
    cpu_counts: DataLoader[int, int | None]
    page_size: int
    max_page_size: int
    role: str = "reader"


Info = strawberry.Info[ApiContext, None]
"""What every resolver is given: the request's :class:`ApiContext`, no root value."""


def new_context(
    pool: ApiPool,
    budget: Budget,
    *,
    page_size: int,
    max_page_size: int,
    role: str = "reader",
) -> ApiContext:
    """Build the context of one request, whose statements all draw on ``budget``.

    ``page_size`` and ``max_page_size`` are the settings ``api_page_size`` and
    ``api_max_page_size`` in force. Nested fields load through one loader per kind, so a
    page of snapshots costs one processes query, and a list of machines one latest-snapshot
    query (no N+1).
    """
    # The loaders' own binding (not ``fetch``'s), so that tests can watch the loaders alone.
    load: Fetch = partial(budgeted_fetch, pool, budget)
    return ApiContext(
        pool=pool,
        budget=budget,
        fetch=fetcher(pool, budget),
        processes=DataLoader(load_fn=partial(load_process_pages, load)),
        machines=DataLoader(load_fn=partial(load_machines, load)),
        latest_snapshots=DataLoader(load_fn=partial(load_latest_snapshots, load)),
        raw_output_sizes=DataLoader(load_fn=partial(load_raw_output_sizes, load)),
        raw_outputs=DataLoader(load_fn=partial(load_raw_outputs, load)),
        cpu_counts=DataLoader(load_fn=partial(load_cpu_counts, load)),
        page_size=page_size,
        max_page_size=max_page_size,
        role=role,
    )
