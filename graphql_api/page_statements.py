"""What a list's statement is composed of around its template in :mod:`graphql_api.sql`: the
columns a page of processes reads, the join to ``commands`` when the filter needs it, the
keyset condition after a cursor, and the count of the whole list (``totalCount``), run only
when asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import LiteralString

from psycopg import sql as psql

from graphql_api import sql
from graphql_api.budget import Fetch
from graphql_api.filters import Condition, QueryParams
from graphql_api.orders import Order
from graphql_api.pages import decode_cursor
from procmon.columns import ProcessColumn

__all__ = ["commands_join", "compose", "counter", "process_columns", "where_after"]


def compose(template: LiteralString, **parts: psql.Composable) -> psql.Composed:
    """The statement of ``template`` with its ``{name}`` slots filled by ``parts``."""
    return psql.SQL(template).format(**parts)


def process_columns(columns: Iterable[ProcessColumn], order: Order) -> psql.Composable:
    """A page's select list: ``columns`` of ``processes AS p``, then ``order``'s sort key."""
    read = [psql.SQL(column.select_sql("p")) for column in columns]
    return psql.SQL(", ").join([*read, order.select()])


def commands_join(condition: Condition) -> psql.Composable:
    """The join to ``commands``, only when the condition reads a snapshot's column."""
    return psql.SQL(sql.COMMANDS_JOIN if condition.needs_snapshots else "")


def where_after(
    field: str, condition: Condition, order: Order, after: str | None, params: QueryParams
) -> psql.Composable:
    """The condition, and "after the row of the cursor ``after``" in ``order`` when given."""
    if after is None:
        return condition.sql
    key = decode_cursor(field, order.name, after, order.types)
    return psql.SQL("{} AND {}").format(condition.sql, order.after(key, params))


def counter(
    fetch: Fetch, template: LiteralString, condition: Callable[[QueryParams], Condition]
) -> Callable[[], Awaitable[int]]:
    """The count of the rows ``condition`` selects, by ``template``; it runs when called."""

    async def count() -> int:
        params = QueryParams()
        where = condition(params)
        statement = compose(template, join=commands_join(where), where=where.sql)
        rows = await fetch(statement, params.values, max_rows=1)
        total: int = rows[0]["total"]
        return total

    return count
