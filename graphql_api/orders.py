"""The orders lists can be read in, as keyset sort keys.

Each order is a non-null sort expression followed by a unique tie-break, all in one
direction, so that "after this cursor" is one row-value comparison. Nullable columns are
coalesced to a value past every real one: rows without a value come last either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, LiteralString

import strawberry
from psycopg import sql as psql

from graphql_api.filters import QueryParams
from procmon.columns import SORT_COLUMNS, ProcessColumn, SqlType

__all__ = [
    "LifetimeOrderBy",
    "Order",
    "ProcessOrderBy",
    "SnapshotOrderBy",
    "lifetime_order",
    "process_order",
    "snapshot_order",
]


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
    """An order of processes: the listing's, then each of procmon.columns' sort columns in
    its two directions (``COLUMN_DESC``: ``"column desc"``)."""

    _ignore_ = "members column direction"
    LISTING_ORDER = "listing"
    members = vars()
    for column in SORT_COLUMNS:
        for direction in column.sort_directions:
            members[f"{column.name}_{direction}".upper()] = f"{column.name} {direction}"
    if TYPE_CHECKING:
        # Query.processes' default, which the type checker cannot see made above.
        OBSERVED_AT_DESC: ProcessOrderBy


@strawberry.enum(description="Orders of snapshots.")
class SnapshotOrderBy(Enum):
    """An order of snapshots."""

    TIMESTAMP_DESC = "timestamp desc"
    TIMESTAMP_ASC = "timestamp asc"
    PROCESS_COUNT_DESC = "process_count desc"
    PROCESS_COUNT_ASC = "process_count asc"


@strawberry.enum(description="Orders of process lifetimes; ties are broken by processKey.")
class LifetimeOrderBy(Enum):
    """An order of ``processLifetimes``: its column and direction."""

    CPU_SECONDS_DESC = "cpu_seconds desc"
    CPU_SECONDS_ASC = "cpu_seconds asc"
    MAX_RSS_BYTES_DESC = "max_rss_bytes desc"
    FIRST_SEEN_ASC = "first_seen asc"
    FIRST_SEEN_DESC = "first_seen desc"
    LAST_SEEN_DESC = "last_seen desc"
    LAST_SEEN_ASC = "last_seen asc"


# What sorts past every value of a column, when descending and when ascending: numbers
# sort as double precision, whose infinities exist for every numeric column (bytes are exact
# up to 2^53); times coalesce to dates past any real start.
_PAST_NUMBERS: tuple[LiteralString, LiteralString] = ("'-Infinity'", "'Infinity'")
_PAST_TIMES: tuple[LiteralString, LiteralString] = (
    "'0001-01-02 00:00:00+00'::timestamptz",
    "'9999-12-30 00:00:00+00'::timestamptz",
)
_NUMBERS = (SqlType.INT4, SqlType.INT8, SqlType.FLOAT4, SqlType.FLOAT8)
_KEY_TYPES: dict[SqlType, type] = {
    SqlType.INT4: int,
    SqlType.INT8: int,
    SqlType.FLOAT4: float,
    SqlType.FLOAT8: float,
    SqlType.TEXT: str,
    SqlType.TIMESTAMPTZ: datetime,
}


def _sort_key(column: ProcessColumn) -> tuple[LiteralString, LiteralString, type]:
    """The column's sort expression when descending, when ascending, and the key's type.

    A column without NULLs sorts as it is; a nullable one coalesces to a value past all."""
    reference: LiteralString = f"p.{column.sql_name}"
    if not column.nullable:
        return reference, reference, _KEY_TYPES[column.sql_type]
    key_type: type
    if column.sql_type in _NUMBERS:
        value = reference if column.sql_type is SqlType.FLOAT8 else f"{reference}::float8"
        past, key_type = _PAST_NUMBERS, float
    elif column.sql_type is SqlType.TIMESTAMPTZ:
        value, past, key_type = reference, _PAST_TIMES, datetime
    else:
        raise ValueError(f"{column.name}: no value sorts past every {column.sql_type}")
    descending, ascending = (f"coalesce({value}, {bound})" for bound in past)
    return descending, ascending, key_type


_PROCESS_KEYS = {column.name: _sort_key(column) for column in SORT_COLUMNS}
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


# Each lifetime order's expression on the lifetime ``l`` and its key's type; a lifetime
# without an RSS sorts last.
_LIFETIME_KEYS: dict[str, tuple[LiteralString, type]] = {
    "cpu_seconds": ("l.cpu_seconds", float),
    "max_rss_bytes": (f"coalesce(l.max_rss_bytes::float8, {_PAST_NUMBERS[0]})", float),
    "first_seen": ("l.first_seen", datetime),
    "last_seen": ("l.last_seen", datetime),
}
# A process key is of one machine; the machine id only makes the key unique beyond doubt.
_LIFETIME_ROW: tuple[LiteralString, ...] = ("l.process_key", "l.machine_id")


def lifetime_order(order: LifetimeOrderBy) -> Order:
    """The sort key of a lifetime order: its column, then the process key."""
    column, direction = order.value.split()
    expression, kind = _LIFETIME_KEYS[column]
    return Order(order.name, (expression, *_LIFETIME_ROW), (kind, int, str), direction == "desc")
