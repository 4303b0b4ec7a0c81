"""The root ``Query`` and the :data:`schema` object the API serves."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graphql_api import sql
from graphql_api.arguments import snapshot_id, time_range
from graphql_api.context import ApiContext
from graphql_api.db import fetch_all
from graphql_api.domain import (
    MachineRun,
    ProcessTreeNode,
    SnapshotDiff,
    machines_running,
    process_tree,
    snapshot_diff,
)
from graphql_api.errors import UserInputError, is_internal_error
from graphql_api.types import BIGINT_SCALAR, BigInt, Machine, Snapshot

__all__ = ["MAX_SNAPSHOTS", "Query", "schema"]

MAX_SNAPSHOTS = 1000

Info = strawberry.Info[ApiContext, None]


async def _machines(info: Info) -> list[Machine]:
    """List the machines with a summary of their snapshots."""
    rows = await fetch_all(info.context.pool, sql.MACHINES, {})
    return [Machine.from_row(row) for row in rows]


async def _snapshots(
    info: Info,
    machine_id: str,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    limit: int = 100,
) -> list[Snapshot]:
    """List a machine's snapshots in a half-open time range, newest first."""
    if limit <= 0:
        raise UserInputError(f"snapshots: limit must be positive, got {limit}")
    start, end = time_range("snapshots", from_, to)
    params = {
        "machine_id": machine_id,
        "from": start,
        "to": end,
        "limit": min(limit, MAX_SNAPSHOTS),
    }
    rows = await fetch_all(info.context.pool, sql.SNAPSHOTS_OF_MACHINE, params)
    return [Snapshot.from_row(row) for row in rows]


async def _machine(info: Info, id: str) -> Machine | None:
    """Fetch one machine by id."""
    rows = await fetch_all(info.context.pool, sql.MACHINES_BY_IDS, {"machine_ids": [id]})
    return Machine.from_row(rows[0]) if rows else None


async def _snapshot(info: Info, id: strawberry.ID) -> Snapshot | None:
    """Fetch one snapshot by id."""
    rows = await fetch_all(
        info.context.pool, sql.SNAPSHOT_BY_ID, {"id": snapshot_id("snapshot", id)}
    )
    return Snapshot.from_row(rows[0]) if rows else None


@strawberry.type
class Query:
    """The research queries."""

    machines: list[Machine] = strawberry.field(
        resolver=_machines, description="Every machine, ordered by name then id."
    )
    snapshots: list[Snapshot] = strawberry.field(
        resolver=_snapshots,
        description=(
            "Snapshots of one machine, newest first, taken at or after `from` and before `to`;"
            f" at most `limit`, capped at {MAX_SNAPSHOTS}."
        ),
    )
    machine: Machine | None = strawberry.field(
        resolver=_machine, description="The machine with this id, or null when there is none."
    )
    snapshot: Snapshot | None = strawberry.field(
        resolver=_snapshot, description="The snapshot with this id, or null when there is none."
    )
    machines_running: list[MachineRun] = strawberry.field(
        resolver=machines_running,
        description=(
            "The machines whose snapshots taken at or after `from` and before `to` show a"
            " process named `processName` (exactly), with when and how often; by machine id."
        ),
    )
    snapshot_diff: SnapshotDiff = strawberry.field(
        resolver=snapshot_diff,
        description=(
            "What started, stopped and changed between two snapshots of one machine; a process"
            " is the same in both when its pid, start time and name are."
        ),
    )
    process_tree: list[ProcessTreeNode] = strawberry.field(
        resolver=process_tree,
        description=(
            "A snapshot's processes as a tree by parent pid, depth first, siblings by pid."
        ),
    )


class _Schema(strawberry.Schema):
    """The strawberry schema, logging only the errors that are the server's fault."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log internal errors with their traceback; a client's mistake is not worth a log."""
        super().process_errors([e for e in errors if is_internal_error(e)], execution_context)


def _mask_errors() -> MaskErrors:
    # A factory, not an instance: strawberry then gives each request its own extension.
    return MaskErrors(should_mask_error=is_internal_error)


# Bounds on one request's document, so that no query is too costly to even look at.
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000

schema: strawberry.Schema = _Schema(
    query=Query,
    config=StrawberryConfig(scalar_map={BigInt: BIGINT_SCALAR}),
    extensions=[
        # Factories: strawberry makes each request its own extensions; the two caches are
        # shared between them all the same.
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        ParserCache,
        ValidationCache,
        _mask_errors,
    ],
)
