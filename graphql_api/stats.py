"""``processStats``: the GROUP BY over processes, per group and per time bucket, from the
rows or from a rollup (:mod:`graphql_api.stats_rollups` chooses).

The statement is composed from fixed pieces (the group columns of :data:`GROUP_COLUMNS`, the
aggregates) and the filter's parameterized condition; every value is a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated

import strawberry
from psycopg import sql as psql

from graphql_api import sql
from graphql_api.arguments import time_range
from graphql_api.context import Info
from graphql_api.errors import UserInputError
from graphql_api.filter_inputs import ProcessFilter
from graphql_api.filters import QueryParams, process_condition, rollup_condition
from graphql_api.label_filters import check_label
from graphql_api.scalars import BigInt
from graphql_api.stats_rollups import Rollup, StatsSource, choose_rollup, whole_buckets

__all__ = ["MAX_GROUPS", "ProcessGroupBy", "ProcessStatsGroup", "parse_bucket", "process_stats"]

MAX_GROUPS = 10_000
_BUCKET = re.compile(r"([1-9][0-9]{0,5})(s|m|h|d|w)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Buckets are aligned on this instant (a Monday, midnight UTC), so "1d" buckets start at
# midnight UTC and "1w" buckets on Mondays.
_BUCKET_ORIGIN = datetime.fromisoformat("2001-01-01T00:00:00+00:00")


@strawberry.enum(description="What processStats groups processes by.")
class ProcessGroupBy(Enum):
    """A grouping column of ``processStats``."""

    MACHINE = "machine_id"
    USER = "user"
    PROCESS_NAME = "process_name"
    STATUS = "status"
    OS_TYPE = "os_type"
    LABEL = strawberry.enum_value(
        "label", description="The value of the machine's label that `label` names."
    )


# Which table each grouping column is read from: os_type and labels live on the snapshot.
GROUP_COLUMNS = {
    ProcessGroupBy.MACHINE: psql.SQL("p.machine_id"),
    ProcessGroupBy.USER: psql.SQL('p."user"'),
    ProcessGroupBy.PROCESS_NAME: psql.SQL("p.process_name"),
    ProcessGroupBy.STATUS: psql.SQL("p.status"),
    ProcessGroupBy.OS_TYPE: psql.SQL("c.os_type"),
}
# The same of a rollup's rows (graphql_api.stats_rollups): it is never asked for STATUS.
_ROLLUP_COLUMNS = {
    ProcessGroupBy.MACHINE: psql.SQL("r.machine_id"),
    ProcessGroupBy.USER: psql.SQL('r."user"'),
    ProcessGroupBy.PROCESS_NAME: psql.SQL("r.process_name"),
    ProcessGroupBy.OS_TYPE: psql.SQL("r.os_type"),
}
_OF_SNAPSHOT = frozenset({ProcessGroupBy.OS_TYPE, ProcessGroupBy.LABEL})


@strawberry.type(
    description=(
        "One group of processStats: the values it is grouped by (null for a column not grouped"
        " by, or for processes without a value), and its aggregates over process rows."
    )
)
class ProcessStatsGroup:
    """One row of ``processStats``."""

    machine_id: str | None
    user: str | None
    process_name: str | None
    status: str | None
    os_type: str | None
    label: str | None = strawberry.field(
        description="The value of the label `label` names, when grouped by LABEL (null for"
        " machines without it)."
    )
    bucket_start: datetime | None = strawberry.field(
        description="Start of the time bucket, when `bucket` was given."
    )
    process_count: int = strawberry.field(description="Process rows in the group.")
    snapshot_count: int = strawberry.field(description="Snapshots these rows come from.")
    avg_cpu_percent: float | None
    max_cpu_percent: float | None
    avg_memory_percent: float | None
    max_memory_percent: float | None
    sum_rss_bytes: BigInt | None = strawberry.field(
        description="Sum of RSS over the rows, in bytes (over snapshots too: divide by"
        " snapshotCount for a mean per snapshot)."
    )
    max_rss_bytes: BigInt | None = strawberry.field(description="The highest RSS of the rows.")
    cpu_seconds: float | None = strawberry.field(
        description="CPU seconds the rows' intervals measured (intervalCpuPercent x"
        " intervalSeconds / 100, summed); null when no row has one."
    )
    avg_interval_cpu_percent: float | None = strawberry.field(
        description="Time-weighted mean of intervalCpuPercent: 100 x cpuSeconds / the seconds"
        " the rows' measured intervals cover."
    )
    max_interval_cpu_percent: float | None
    source: StatsSource = strawberry.field(
        description="What the answer was added up from: the rows, or a rollup (the same"
        " numbers, from far fewer rows)."
    )


def parse_bucket(text: str) -> timedelta:
    """Read a bucket width such as ``30s``, ``15m``, ``1h``, ``1d`` or ``1w``."""
    match = _BUCKET.fullmatch(text)
    if match is None:
        raise UserInputError(
            f"processStats: bucket must be a whole number and a unit (s, m, h, d or w),"
            f" e.g. '1h'; got {text!r}"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _label_name(group_by: list[ProcessGroupBy], label: str | None) -> str | None:
    """The label that LABEL groups by, when grouped by it; refusing one without the other."""
    if ProcessGroupBy.LABEL not in group_by:
        if label is not None:
            raise UserInputError(
                "processStats: label names the label that LABEL groups by; add LABEL to groupBy"
            )
        return None
    if label is None:
        raise UserInputError(
            'processStats: groupBy LABEL needs label, the name of the label, e.g. label: "role"'
        )
    return check_label("processStats: label", label)


def _selection(
    group_by: list[ProcessGroupBy],
    table: str,
    label: str | None,
    bucket: timedelta | None,
    params: QueryParams,
) -> tuple[list[psql.Composable], list[psql.Composable]]:
    """The selected columns and the group keys of the rows (``table`` "p") or of a rollup's
    ("r"): the group columns asked for, NULL for the others, and the time bucket."""
    columns: dict[ProcessGroupBy, psql.Composable] = dict(
        GROUP_COLUMNS if table == "p" else _ROLLUP_COLUMNS
    )
    if label is not None:
        labels = psql.Identifier("c" if table == "p" else "r", "labels")
        columns[ProcessGroupBy.LABEL] = psql.SQL("{} ->> {}").format(labels, params.add(label))
    keys: list[psql.Composable] = [columns[column] for column in dict.fromkeys(group_by)]
    selected: list[psql.Composable] = [
        psql.SQL("{} AS {}").format(columns[column], psql.Identifier(column.value))
        if column in group_by
        else psql.SQL("NULL::text AS {}").format(psql.Identifier(column.value))
        for column in ProcessGroupBy
    ]
    if bucket is None:
        selected.append(psql.SQL("NULL::timestamptz AS bucket_start"))
    else:
        time = psql.Identifier(table, "observed_at" if table == "p" else "bucket_start")
        bin_expression = psql.SQL("date_bin({}, {}, {})").format(
            params.add(bucket), time, params.add(_BUCKET_ORIGIN)
        )
        selected.append(psql.SQL("{} AS bucket_start").format(bin_expression))
        keys.append(bin_expression)
    return selected, keys


@dataclass(frozen=True, slots=True)
class _Question:
    """A processStats question, its arguments checked."""

    filter: ProcessFilter | None
    group_by: list[ProcessGroupBy]
    label: str | None
    bucket: timedelta | None
    start: datetime | None
    end: datetime | None
    limit: int


def _rollup_query(rollup: Rollup, q: _Question, params: QueryParams) -> psql.Composed:
    """The statement reading ``rollup`` for the range's whole buckets, the rows for the rest."""
    condition = process_condition(q.filter, params, start=q.start, end=q.end)
    selected, keys = _selection(q.group_by, "p", q.label, q.bucket, params)
    selected_rollup, keys_rollup = _selection(q.group_by, "r", q.label, q.bucket, params)
    first, last = whole_buckets(q.start, q.end, rollup.width, _BUCKET_ORIGIN)
    first_bound, last_bound = params.add(first), params.add(last)
    return psql.SQL(sql.PROCESS_STATS_ROLLUP).format(
        selected_rollup=psql.SQL(", ").join(selected_rollup),
        snapshots=psql.Identifier(rollup.snapshots),
        table=psql.Identifier(rollup.table),
        first=first_bound,
        last=last_bound,
        rollup_where=rollup_condition(q.filter, params),
        group_rollup=psql.SQL(", ").join(keys_rollup or [psql.SQL("()")]),
        selected=psql.SQL(", ").join(selected),
        where=condition.sql,
        start=params.add(q.start),
        end=params.add(q.end),
        group=psql.SQL(", ").join([*keys, psql.SQL("p.command_id")]),
        limit=params.add(q.limit),
    )


def _rows_query(q: _Question, params: QueryParams) -> psql.Composed:
    """The statement reading the rows alone."""
    condition = process_condition(q.filter, params, start=q.start, end=q.end)
    selected, keys = _selection(q.group_by, "p", q.label, q.bucket, params)
    join = condition.needs_snapshots or not _OF_SNAPSHOT.isdisjoint(q.group_by)
    return psql.SQL(sql.PROCESS_STATS).format(
        selected=psql.SQL(", ").join(selected),
        join=psql.SQL(sql.COMMANDS_JOIN if join else ""),
        where=condition.sql,
        group=psql.SQL(", ").join([*keys, psql.SQL("p.command_id")]),
        limit=params.add(q.limit),
    )


async def process_stats(
    info: Info,
    group_by: list[ProcessGroupBy],
    filter: ProcessFilter | None = None,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    bucket: str | None = None,
    label: Annotated[
        str | None,
        strawberry.argument(description="The label whose values LABEL groups by, e.g. role."),
    ] = None,
    limit: int = 1000,
) -> list[ProcessStatsGroup]:
    """Aggregate the processes the filter selects in [from, to) by ``group_by`` and bucket,
    from a rollup where one holds the question's groups, else from the rows."""
    if not 0 < limit <= MAX_GROUPS:
        raise UserInputError(f"processStats: limit must be between 1 and {MAX_GROUPS}, got {limit}")
    start, end = time_range("processStats", from_, to)
    q = _Question(
        filter=filter,
        group_by=group_by,
        label=_label_name(group_by, label),
        bucket=None if bucket is None else parse_bucket(bucket),
        start=start,
        end=end,
        limit=limit,
    )
    rollup = choose_rollup(
        grouped={column.value for column in group_by},
        filter=filter,
        bucket=q.bucket,
        start=start,
        end=end,
        origin=_BUCKET_ORIGIN,
    )
    params = QueryParams()
    query = _rows_query(q, params) if rollup is None else _rollup_query(rollup, q, params)
    rows = await info.context.fetch(query, params.values, max_rows=limit)
    source = StatsSource.RAW if rollup is None else rollup.source
    return [
        ProcessStatsGroup(
            machine_id=row["machine_id"],
            user=row["user"],
            process_name=row["process_name"],
            status=row["status"],
            os_type=row["os_type"],
            label=row["label"],
            bucket_start=row["bucket_start"],
            process_count=row["process_count"],
            snapshot_count=row["snapshot_count"],
            avg_cpu_percent=row["avg_cpu_percent"],
            max_cpu_percent=row["max_cpu_percent"],
            avg_memory_percent=row["avg_memory_percent"],
            max_memory_percent=row["max_memory_percent"],
            sum_rss_bytes=row["sum_rss_bytes"],
            max_rss_bytes=row["max_rss_bytes"],
            cpu_seconds=row["cpu_seconds"],
            avg_interval_cpu_percent=row["avg_interval_cpu_percent"],
            max_interval_cpu_percent=row["max_interval_cpu_percent"],
            source=source,
        )
        for row in rows
    ]
