"""``processLifetimes``: one row per process (key) seen in a time range, what it used there.

A range is read in two parts (:data:`graphql_api.sql.LIFETIME_TOTALS`): its whole UTC days
from the daily rollup (``process_days``), and everything the rollup has not counted (the
partial days at the ends, and snapshots of the whole days not counted yet) from the process
rows. The two are disjoint and together cover the range, so the answer is the same whether the
rollup has run or not. Only the page's rows have their names read (one index probe each),
unless the filter asks about them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Self

import strawberry
from psycopg import sql as psql

from graphql_api import sql
from graphql_api.arguments import time_range
from graphql_api.context import Info
from graphql_api.filter_inputs import LifetimeFilter
from graphql_api.filters import Condition, QueryParams, lifetime_condition
from graphql_api.orders import LifetimeOrderBy, lifetime_order
from graphql_api.page_statements import compose, where_after
from graphql_api.pages import page_size
from graphql_api.relay import Connection, connection_page
from graphql_api.scalars import BigInt
from graphql_api.types import Machine

__all__ = ["DayParts", "Lifetime", "LifetimeConnection", "day_parts", "process_lifetimes"]


async def _machine_of(root: Lifetime, info: Info) -> Machine:
    """Load the machine through the request's batching loader."""
    return Machine.from_row(await info.context.machines.load(root.machine_id))


@strawberry.type(description="One process over a time range: when it was seen, what it used.")
class Lifetime:
    """One row of ``processLifetimes``."""

    process_key: strawberry.ID = strawberry.field(description="The process (Process.processKey).")
    machine_id: str
    machine: Machine = strawberry.field(
        resolver=_machine_of, description="The machine, as of its latest snapshot."
    )
    pid: int = strawberry.field(description="As of its last sighting in the range.")
    process_name: str = strawberry.field(description="As of its last sighting in the range.")
    user: str | None = strawberry.field(description="As of its last sighting in the range.")
    command_line: str | None = strawberry.field(description="As of its last sighting in the range.")
    start_time: datetime | None = strawberry.field(
        description="As of its last sighting in the range."
    )
    first_seen: datetime = strawberry.field(description="Its first snapshot in the range.")
    last_seen: datetime = strawberry.field(description="Its last snapshot in the range.")
    snapshot_count: int = strawberry.field(description="Snapshots of the range showing it.")
    cpu_seconds: float = strawberry.field(
        description=(
            "CPU seconds used in the range, from the CPU-time deltas between snapshots (a delta"
            " counts where its interval ends); 0 when no interval was measured."
        )
    )
    avg_interval_cpu_percent: float | None = strawberry.field(
        description=(
            "Time-weighted mean of intervalCpuPercent: 100 x cpuSeconds / the seconds its"
            " measured intervals cover; null when none was measured."
        )
    )
    max_interval_cpu_percent: float | None = strawberry.field(
        description="Its highest intervalCpuPercent in the range."
    )
    max_rss_bytes: BigInt | None = strawberry.field(description="Its highest RSS in the range.")

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build a lifetime from a row of ``LIFETIME_PAGE``."""
        return cls(
            process_key=strawberry.ID(str(row["process_key"])),
            machine_id=row["machine_id"],
            pid=row["pid"],
            process_name=row["process_name"],
            user=row["user"],
            command_line=row["command_line"],
            start_time=row["start_time"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            snapshot_count=row["snapshot_count"],
            cpu_seconds=row["cpu_seconds"],
            avg_interval_cpu_percent=row["avg_interval_cpu_percent"],
            max_interval_cpu_percent=row["max_interval_cpu_percent"],
            max_rss_bytes=row["max_rss_bytes"],
        )


@strawberry.type(description="A page of process lifetimes (Relay connection).")
class LifetimeConnection(Connection[Lifetime]):
    """Lifetimes in pages."""


@dataclass(frozen=True, slots=True)
class DayParts:
    """A range [start, end) cut into its whole UTC days [first_day, end_day) and the partial
    days before and after them; None is unbounded. ``whole_days`` is False when the range
    holds no whole day."""

    start: datetime | None
    end: datetime | None
    first_day: date | None
    end_day: date | None
    whole_days: bool


_DAY = timedelta(days=1)
# The range is added up from its parts, not read as one day's rows.
_ADDED_UP: dict[str, psql.Composable] = {"one_day": psql.SQL("FALSE"), "added": psql.SQL("TRUE")}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def day_parts(start: datetime | None, end: datetime | None) -> DayParts:
    """Cut [start, end) into its whole UTC days and the rest."""
    first_day = end_day = None
    if start is not None:
        utc = start.astimezone(UTC)
        first_day = utc.date() if utc == _midnight(utc.date()) else utc.date() + timedelta(days=1)
    if end is not None:
        end_day = end.astimezone(UTC).date()
    whole = first_day is None or end_day is None or first_day < end_day
    return DayParts(start, end, first_day, end_day, whole)


def _between(
    column: psql.Composable, low: object, high: object, params: QueryParams
) -> psql.Composable:
    """``low <= column < high``, a None bound left out."""
    bounds: list[psql.Composable] = [psql.SQL("TRUE")]
    if low is not None:
        bounds.append(psql.SQL("{} >= {}").format(column, params.add(low)))
    if high is not None:
        bounds.append(psql.SQL("{} < {}").format(column, params.add(high)))
    return psql.SQL(" AND ").join(bounds)


def _one_whole_day(parts: DayParts) -> bool:
    """The range is one whole UTC day and nothing more."""
    first, end = parts.first_day, parts.end_day
    return (
        first is not None
        and end is not None
        and end - first == _DAY
        and parts.start == _midnight(first)
        and parts.end == _midnight(end)
    )


def _parts_sql(parts: DayParts, params: QueryParams) -> dict[str, psql.Composable]:
    """The conditions of :data:`graphql_api.sql.LIFETIME_TOTALS`: ``days`` (on process_days
    ``r``), ``raw`` (on commands ``c``), and ``one_day`` and ``added``, which read one whole
    day straight from its process_days rows when the rollup has counted all of it."""
    stamp = psql.SQL('c."timestamp"')
    if not parts.whole_days:
        whole_range = _between(stamp, parts.start, parts.end, params)
        return {"days": psql.SQL("FALSE"), "raw": whole_range, **_ADDED_UP}
    days = _between(psql.SQL("r.day"), parts.first_day, parts.end_day, params)
    first = None if parts.first_day is None else _midnight(parts.first_day)
    end = None if parts.end_day is None else _midnight(parts.end_day)
    uncounted = psql.SQL("(c.rolled_up_at IS NULL AND {})").format(
        _between(stamp, first, end, params)
    )
    raw: list[psql.Composable] = [uncounted]
    if first is not None and parts.start is not None and parts.start < first:
        raw.append(psql.SQL("({})").format(_between(stamp, parts.start, first, params)))
    if end is not None and parts.end is not None and end < parts.end:
        raw.append(psql.SQL("({})").format(_between(stamp, end, parts.end, params)))
    pieces = {"days": days, "raw": psql.SQL(" OR ").join(raw), **_ADDED_UP}
    if _one_whole_day(parts):
        # One whole day, nothing else: the day's rows, unless a snapshot is still uncounted.
        pieces["one_day"] = psql.SQL("r.day = {}").format(params.add(parts.first_day))
        pieces["added"] = psql.SQL("EXISTS (SELECT FROM commands AS c WHERE {})").format(uncounted)
    return pieces


async def process_lifetimes(
    info: Info,
    filter: LifetimeFilter | None = None,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    order_by: LifetimeOrderBy = LifetimeOrderBy.CPU_SECONDS_DESC,
    first: int | None = None,
    after: str | None = None,
) -> LifetimeConnection:
    """The processes seen in [from, to) that the filter selects, one row per process key."""
    field = "processLifetimes"
    start, end = time_range(field, from_, to)
    size = page_size(field, first, info.context.page_size, info.context.max_page_size)
    order = lifetime_order(order_by)
    parts = day_parts(start, end)

    def pieces(params: QueryParams) -> tuple[Condition, dict[str, psql.Composable]]:
        # Placeholders are numbered as added: each statement compiles its own, in one order.
        selected = lifetime_condition(filter, params)
        ranges = _parts_sql(parts, params)
        joins = [
            psql.SQL(join)
            for join, needed in (
                (sql.LIFETIME_MACHINE, selected.needs_machine),
                (sql.LIFETIME_SIGHTING, selected.needs_sighting),
            )
            if needed
        ]
        common = {**ranges, "rows": selected.rows, "joins": psql.SQL(" ").join(joins)}
        return Condition(sql=selected.sql, needs_snapshots=False), common

    params = QueryParams()
    selected, common = pieces(params)
    page = {
        **common,
        "keys": order.select(),
        "where": where_after(field, selected, order, after, params),
        "order": order.order_by(),
        "limit": params.add(size + 1),
    }
    rows = []
    if _one_whole_day(parts):
        # Its rows of process_days are the answer once the rollup counted the whole day;
        # none come while it has not (or when the day had none): then it is added up.
        day_page = compose(sql.LIFETIME_DAY_PAGE, **page)
        rows = await info.context.fetch(day_page, params.values, max_rows=size + 1)
    if not rows:
        statement = compose(sql.LIFETIME_PAGE, **page)
        rows = await info.context.fetch(statement, params.values, max_rows=size + 1)

    async def count() -> int:
        count_params = QueryParams()
        counted, count_common = pieces(count_params)
        statement = compose(sql.LIFETIME_COUNT, **count_common, where=counted.sql)
        total: int = (await info.context.fetch(statement, count_params.values, max_rows=1))[0][
            "total"
        ]
        return total

    return connection_page(
        rows,
        order=order,
        size=size,
        after=after,
        node=Lifetime.from_row,
        count=count,
        connection=LifetimeConnection,
    )
