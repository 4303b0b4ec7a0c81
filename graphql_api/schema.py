"""The root ``Query`` and the schema the API serves: :func:`build_schema` for the settings in
force, whose descriptions quote their page sizes, and :data:`schema`, that of the default
settings (exported to ``schema.graphql``)."""

from __future__ import annotations

from functools import cache, partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext

from graphql_api import sql
from graphql_api.arguments import snapshot_id, text
from graphql_api.connections import SnapshotConnection, process_history, processes, snapshots
from graphql_api.context import Info
from graphql_api.domain import (
    MachineRun,
    ProcessTreeNode,
    SnapshotDiff,
    machines_running,
    process_tree,
    snapshot_diff,
)
from graphql_api.errors import is_internal_error
from graphql_api.execution import LeafFieldsExecutionContext
from graphql_api.lifetimes import LifetimeConnection, process_lifetimes
from graphql_api.process_connection import ProcessConnection
from graphql_api.scalars import BIGINT_SCALAR, BigInt
from graphql_api.selection import selects
from graphql_api.stats import ProcessStatsGroup, process_stats
from graphql_api.types import Machine, Snapshot
from procmon.settings import Settings

__all__ = ["build_schema", "schema"]


async def _machines(info: Info) -> list[Machine]:
    """List the machines with a summary of their snapshots."""
    rows = await info.context.fetch(sql.MACHINES, {})
    return [Machine.from_row(row) for row in rows]


async def _machine(info: Info, id: str) -> Machine | None:
    """Fetch one machine by id, with its newest snapshot in the same statement when that is
    asked too (the request's loader then has it)."""
    machine_id = text("machine", "id", id)
    if not selects(info.selected_fields, "latestSnapshot"):
        rows = await info.context.fetch(sql.MACHINES_BY_IDS, {"machine_ids": [machine_id]})
        return Machine.from_row(rows[0]) if rows else None
    rows = await info.context.fetch(sql.MACHINE_WITH_LATEST_SNAPSHOT, {"machine_id": machine_id})
    if not rows:
        return None
    row = rows[0]
    latest = {name: row[sql.LATEST_PREFIX + name] for name in sql.SNAPSHOT_NAMES}
    info.context.latest_snapshots.prime(row["machine_id"], None if latest["id"] is None else latest)
    return Machine.from_row(row)


async def _snapshot(info: Info, id: strawberry.ID) -> Snapshot | None:
    """Fetch one snapshot by id."""
    rows = await info.context.fetch(sql.SNAPSHOT_BY_ID, {"id": snapshot_id("snapshot", id)})
    return Snapshot.from_row(rows[0]) if rows else None


def _query_type(page_size: int, max_page_size: int) -> type:
    """The root type, its descriptions quoting the page sizes in force."""

    @strawberry.type
    class Query:
        """The research queries."""

        machines: list[Machine] = strawberry.field(
            resolver=_machines, description="Every machine, ordered by name then id."
        )
        snapshots: SnapshotConnection = strawberry.field(
            resolver=snapshots,
            description=(
                "Snapshots taken at or after `from` and before `to` that the filter selects"
                " (`machineId` is a shorthand for one machine), newest first unless `orderBy` says"
                f" otherwise; pages of `first` (default {page_size}, at most {max_page_size}) after"
                " the cursor `after`."
            ),
        )
        processes: ProcessConnection = strawberry.field(
            resolver=processes,
            description=(
                "Processes of every snapshot, seen at or after `from` and before `to`, that the"
                " filter selects; newest first unless `orderBy` says otherwise; paged as snapshots."
            ),
        )
        process_history: ProcessConnection = strawberry.field(
            resolver=process_history,
            description=(
                "The rows of one process (its `processKey`) seen at or after `from` and before"
                " `to`, oldest first; paged as snapshots."
            ),
        )
        process_lifetimes: LifetimeConnection = strawberry.field(
            resolver=process_lifetimes,
            description=(
                "One row per process (key) seen at or after `from` and before `to` that the"
                " filter selects: when it was seen and the CPU it used there, by CPU seconds"
                " unless `orderBy` says otherwise; paged as snapshots. Exact whether the daily"
                " rollup has counted the range or not."
            ),
        )
        process_stats: list[ProcessStatsGroup] = strawberry.field(
            resolver=process_stats,
            description=(
                "Aggregates of the processes the filter selects in [from, to), per group of"
                " `groupBy` (LABEL: by the value of the machine's label `label`) and per time"
                " `bucket` (e.g. '1h', '15m', '1d') when given; groups ordered by their values,"
                " at most `limit` (default 1000, at most 10000)."
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

    return Query


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

# The limiters' validation rules, made once: a limiter made per request brings rule classes
# of its own, and the validation cache, keyed by the rules too, would then never hit.
_LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


class _MemoizedNames(NameConverter):
    """Strawberry's GraphQL names, remembered: reading a filter argument asks again, on every
    request, for the name of every field of every input type (2 ms of a filtered query)."""

    def __init__(self) -> None:
        super().__init__()
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        """The camelCase name of a Python name."""
        converted = self._names.get(name)
        if converted is None:
            converted = self._names[name] = super().apply_naming_config(name)
        return converted


@cache
def _schema_with_pages(page_size: int, max_page_size: int) -> strawberry.Schema:
    """The schema of these page sizes, built once: every app of the same settings serves one
    schema object, so the validation cache (keyed by the schema) is shared between them."""
    return _Schema(
        query=_query_type(page_size, max_page_size),
        config=StrawberryConfig(
            scalar_map={BigInt: BIGINT_SCALAR}, name_converter=_MemoizedNames()
        ),
        execution_context_class=LeafFieldsExecutionContext,
        extensions=[
            # Factories: strawberry makes each request its own extensions; the parser and
            # validation caches live at module level, shared between them all the same.
            partial(AddValidationRules, _LIMIT_RULES),
            partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
            ParserCache,
            ValidationCache,
            _mask_errors,
        ],
    )


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema served with ``settings``: its descriptions quote their page sizes."""
    return _schema_with_pages(settings.api_page_size, settings.api_max_page_size)


def _default(setting: str) -> int:
    # The field's declared default, not the environment's value: the exported schema is
    # the same wherever it is exported.
    value: int = Settings.model_fields[setting].default
    return value


schema: strawberry.Schema = _schema_with_pages(
    _default("api_page_size"), _default("api_max_page_size")
)
"""The schema of the default settings, as ``schema.graphql`` holds it."""
