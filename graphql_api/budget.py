"""The cost budget of one GraphQL request: time, rows and answer bytes across all its fields.

Each statement of a request runs through :func:`budgeted_fetch`, under what is left of the
request's time (a cancellation past it: psycopg then sends PostgreSQL a cancel, so the statement
stops there, with no extra round trip before it). Rows are charged
before a statement runs when its most is known (a page's size, a ``limit``), else once fetched;
``rawOutput`` charges its size in bytes before the text is read. Going over any of them fails
the field with a :class:`graphql_api.errors.UserInputError` naming the setting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, LiteralString, Protocol, TypeVar

from psycopg.rows import DictRow
from psycopg.sql import Composed

from graphql_api.db import ApiPool, fetch_all
from graphql_api.errors import UserInputError

__all__ = ["Budget", "Fetch", "budgeted_fetch", "fetcher"]

_T = TypeVar("_T")
_ASK_LESS = "ask for less (fewer fields or aliases, a narrower time range, a smaller limit)"


@dataclass(slots=True)
class Budget:
    """What is left of one request's budget; ``deadline`` is on the event loop's clock."""

    seconds: float
    deadline: float
    rows: int
    rows_left: int
    response_bytes: int
    bytes_left: int

    @classmethod
    def start(cls, seconds: float, rows: int, response_bytes: int) -> Budget:
        """The whole budget of a request starting now."""
        deadline = asyncio.get_running_loop().time() + seconds
        return cls(seconds, deadline, rows, rows, response_bytes, response_bytes)

    def remaining_seconds(self) -> float:
        """Seconds left before the deadline; refuses the next statement when none are."""
        left = self.deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise self.out_of_time()
        return left

    def out_of_time(self) -> UserInputError:
        """The error of a statement that the deadline cut."""
        return UserInputError(
            f"the request ran past its time budget of {self.seconds:g} s"
            f" (PROCMON_API_REQUEST_SECONDS), across all its fields; {_ASK_LESS}"
        )

    def charge_rows(self, rows: int) -> None:
        """Take ``rows`` from the budget (a negative number gives back what was not used)."""
        self.rows_left -= rows
        if rows > 0 and self.rows_left < 0:
            raise UserInputError(
                f"the request would fetch more than its budget of {self.rows} rows"
                f" (PROCMON_API_REQUEST_ROWS), across all its fields; {_ASK_LESS}"
            )

    def charge_bytes(self, field: str, size: int) -> None:
        """Take ``size`` bytes of answer from the budget, before ``field`` reads them."""
        self.bytes_left -= size
        if self.bytes_left < 0:
            raise UserInputError(
                f"{field}: {size} bytes would take the answer over its limit of"
                f" {self.response_bytes} bytes (PROCMON_API_MAX_RESPONSE_BYTES); {_ASK_LESS}"
            )


class Fetch(Protocol):
    """A request's way to run a statement: :func:`budgeted_fetch` bound to its pool and budget."""

    async def __call__(
        self,
        query: LiteralString | Composed,
        params: Mapping[str, Any],
        *,
        max_rows: int | None = None,
    ) -> list[DictRow]:
        """Run the statement and return its rows."""


async def _within(seconds: float, statement: Awaitable[_T]) -> _T:
    """The statement's result, or TimeoutError once ``seconds`` have passed.

    The statement runs in a task of its own, cancelled once whatever happens: psycopg then
    cancels it in PostgreSQL and waits for that, which a second cancellation would interrupt
    (closing the connection, the statement still running). One comes easily: graphql-core
    cancels the sibling fields of a failed one, while their own deadline may also pass.
    """
    task = asyncio.ensure_future(statement)
    # Read the outcome of a task left to finish alone, so that it is never logged as lost.
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    try:
        finished, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not finished:
        task.cancel()
        await asyncio.wait({task})
        raise TimeoutError
    return task.result()


async def budgeted_fetch(
    pool: ApiPool,
    budget: Budget,
    query: LiteralString | Composed,
    params: Mapping[str, Any],
    *,
    max_rows: int | None = None,
) -> list[DictRow]:
    """Run a statement within the request's time and rows; ``max_rows`` is its most, if known.

    The rows are reserved first, so that fields resolving at once cannot each pass the check
    before any has counted; what the statement did not return is given back.
    """
    if max_rows is not None:
        budget.charge_rows(max_rows)
    rows: list[DictRow] = []
    try:
        rows = await _within(budget.remaining_seconds(), fetch_all(pool, query, params))
    except TimeoutError as exc:
        raise budget.out_of_time() from exc
    finally:
        if max_rows is not None:
            budget.charge_rows(len(rows) - max_rows)
    if max_rows is None:
        budget.charge_rows(len(rows))
    return rows


def fetcher(pool: ApiPool, budget: Budget) -> Fetch:
    """:func:`budgeted_fetch` bound to a request's pool and budget."""
    return partial(budgeted_fetch, pool, budget)
