"""The orders lists can be read in, as keyset sort keys.

Each order is a non-null sort expression followed by a unique tie-break, all in one
direction, so that "after this cursor" is one row-value comparison. Nullable columns are
coalesced to a value past every real one: rows without a value come last either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import LiteralString

import strawberry
from psycopg import sql as psql

from graphql_api.filters import QueryParams

__all__ = ["Order", "ProcessOrderBy", "SnapshotOrderBy", "process_order", "snapshot_order"]


@dataclass(frozen=True, slots=True)
class Order:
    """A sort key: its expressions (the last ones unique together) and their direction."""

    name: str
    expressions: tuple[LiteralString, ...]
    types: tuple[type, ...]
    descending: bool

    def select(self) -> psql.Composable:
        """The key's columns, selected as ``k0``, ``k1``... to build the rows' cursors."""
        return psql.SQL(", ").join(
            psql.SQL("{} AS {}").format(psql.SQL(expression), psql.Identifier(f"k{n}"))
            for n, expression in enumerate(self.expressions)
        )

    def order_by(self) -> psql.Composable:
        """The ORDER BY list."""
        direction = " DESC" if self.descending else ""
        return psql.SQL(", ").join(
            psql.SQL(expression + direction) for expression in self.expressions
        )

    def after(self, key: list[object], params: QueryParams) -> psql.Composable:
        """The condition "after the row whose key is ``key``" in this order."""
        return psql.SQL("({}) {} ({})").format(
            psql.SQL(", ").join(psql.SQL(expression) for expression in self.expressions),
            psql.SQL("<" if self.descending else ">"),
            psql.SQL(", ").join(params.add(value) for value in key),
        )


@strawberry.enum(description="Orders of processes; rows without the value come last.")
class ProcessOrderBy(Enum):
    """An order of processes."""

    LISTING_ORDER = "listing"
    OBSERVED_AT_DESC = "observed_at desc"
    OBSERVED_AT_ASC = "observed_at asc"
    CPU_PERCENT_DESC = "cpu_percent desc"
    CPU_PERCENT_ASC = "cpu_percent asc"
    MEMORY_PERCENT_DESC = "memory_percent desc"
    MEMORY_PERCENT_ASC = "memory_percent asc"
    RSS_BYTES_DESC = "rss_bytes desc"
    RSS_BYTES_ASC = "rss_bytes asc"
    CPU_TIME_SECONDS_DESC = "cpu_time_seconds desc"
    CPU_TIME_SECONDS_ASC = "cpu_time_seconds asc"
    START_TIME_DESC = "start_time desc"
    START_TIME_ASC = "start_time asc"
    PID_ASC = "pid asc"
    PID_DESC = "pid desc"
    PROCESS_NAME_ASC = "process_name asc"
    PROCESS_NAME_DESC = "process_name desc"


@strawberry.enum(description="Orders of snapshots.")
class SnapshotOrderBy(Enum):
    """An order of snapshots."""

    TIMESTAMP_DESC = "timestamp desc"
    TIMESTAMP_ASC = "timestamp asc"
    PROCESS_COUNT_DESC = "process_count desc"
    PROCESS_COUNT_ASC = "process_count asc"


# Per column: the sort expression when descending, when ascending, and the key's type.
# Numbers sort as double precision, whose infinities exist for every numeric column (bytes
# are exact up to 2^53); times coalesce to dates past any real start.
_PROCESS_KEYS: dict[str, tuple[LiteralString, LiteralString, type]] = {
    "observed_at": ("p.observed_at", "p.observed_at", datetime),
    "cpu_percent": (
        "coalesce(p.cpu_percent::float8, '-Infinity')",
        "coalesce(p.cpu_percent::float8, 'Infinity')",
        float,
    ),
    "memory_percent": (
        "coalesce(p.memory_percent::float8, '-Infinity')",
        "coalesce(p.memory_percent::float8, 'Infinity')",
        float,
    ),
    "rss_bytes": (
        "coalesce(p.rss_bytes::float8, '-Infinity')",
        "coalesce(p.rss_bytes::float8, 'Infinity')",
        float,
    ),
    "cpu_time_seconds": (
        "coalesce(p.cpu_time_seconds, '-Infinity')",
        "coalesce(p.cpu_time_seconds, 'Infinity')",
        float,
    ),
    "start_time": (
        "coalesce(p.start_time, '0001-01-02 00:00:00+00'::timestamptz)",
        "coalesce(p.start_time, '9999-12-30 00:00:00+00'::timestamptz)",
        datetime,
    ),
    "pid": ("p.pid", "p.pid", int),
    "process_name": ("p.process_name", "p.process_name", str),
}
_ROW: tuple[LiteralString, ...] = ("p.command_id", "p.line_number")


def process_order(order: ProcessOrderBy) -> Order:
    """The sort key of a process order: its column, then the row's own key."""
    if order is ProcessOrderBy.LISTING_ORDER:
        return Order(order.name, _ROW, (int, int), descending=False)
    column, direction = order.value.split()
    descending_expression, ascending_expression, kind = _PROCESS_KEYS[column]
    descending = direction == "desc"
    expression = descending_expression if descending else ascending_expression
    return Order(order.name, (expression, *_ROW), (kind, int, int), descending)


def snapshot_order(order: SnapshotOrderBy) -> Order:
    """The sort key of a snapshot order: its column, then the snapshot's id."""
    descending = order.value.endswith("desc")
    if order.value.startswith("timestamp"):
        return Order(order.name, ('c."timestamp"', "c.id"), (datetime, int), descending)
    return Order(order.name, ("c.process_count", "c.id"), (int, int), descending)
