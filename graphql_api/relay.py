"""Relay connections: the generic ``Edge`` and ``Connection`` types, and the page of them the
rows of a keyset statement make (see :mod:`graphql_api.page_statements`).

``totalCount`` is a resolver of its own, so the count runs only when a query selects it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from graphql_api.orders import Order
from graphql_api.pages import PageInfo, encode_cursor

__all__ = ["Connection", "Edge", "connection_page"]

Node = TypeVar("Node")
Page = TypeVar("Page", bound="Connection[Any]")


def _cursor_of(root: Edge[Any]) -> str:
    """Encode the edge's cursor, only when a query selects it."""
    return encode_cursor(root.order, root.key)


@strawberry.type(description="A row of a list and its cursor.")
class Edge(Generic[Node]):
    """One edge of a connection."""

    node: Node
    cursor: str = strawberry.field(resolver=_cursor_of)
    order: strawberry.Private[str]
    key: strawberry.Private[list[Any]]


async def _total_count(root: Connection[Any]) -> int:
    """Count every row of the list."""
    return await root.count()


@strawberry.type(description="A page of a list (Relay connection), forward with first/after.")
class Connection(Generic[Node]):
    """A page of rows, named after its node type by strawberry (``ProcessConnection``)."""

    edges: list[Edge[Node]]
    nodes: list[Node] = strawberry.field(description="The edges' nodes, without cursors.")
    page_info: PageInfo
    total_count: int = strawberry.field(
        resolver=_total_count,
        description="Every row of the list, not only the page's; counted only when asked.",
    )
    count: strawberry.Private[Callable[[], Awaitable[int]]]


def connection_page(
    rows: Sequence[Mapping[str, Any]],
    *,
    order: Order,
    size: int,
    after: str | None,
    node: Callable[[Mapping[str, Any]], Node],
    count: Callable[[], Awaitable[int]],
    connection: type[Page],
) -> Page:
    """The page of the rows fetched (one more than ``size``, to know whether more follow)."""
    keys = [f"k{n}" for n in range(len(order.types))]
    edges = [
        Edge(node=node(row), order=order.name, key=[row[k] for k in keys]) for row in rows[:size]
    ]
    info = PageInfo(
        has_next_page=len(rows) > size,
        has_previous_page=after is not None,
        start_cursor=_cursor_of(edges[0]) if edges else None,
        end_cursor=_cursor_of(edges[-1]) if edges else None,
    )
    return connection(edges=edges, nodes=[edge.node for edge in edges], page_info=info, count=count)
