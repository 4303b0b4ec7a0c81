"""What :mod:`procmon.client` asks the API and how it shapes the answers: the GraphQL
documents of its DataFrame methods, their variables, and the DataFrames their nodes make.

Dependency-free but for pandas, imported when a frame is made (the notebook client must not
pull in the server's libraries).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from procmon.columns import FRAME_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_PAGE",
    "LIFETIMES_QUERY",
    "LIFETIME_COLUMNS",
    "PROCESSES_QUERY",
    "PROCESS_COLUMNS",
    "PROCESS_HISTORY_QUERY",
    "frame",
    "given",
    "lifetime_frame",
    "lifetime_variables",
    "process_variables",
]

# The fields of a Process a DataFrame holds (procmon.columns' frame columns), in its order.
PROCESS_COLUMNS = tuple(column.graphql_name for column in FRAME_COLUMNS)
_TIME_COLUMNS = tuple(column.graphql_name for column in FRAME_COLUMNS if column.is_time)

PROCESSES_QUERY = f"""
query Processes($filter: ProcessFilter, $from: DateTime, $to: DateTime,
                $orderBy: ProcessOrderBy, $first: Int, $after: String) {{
  processes(filter: $filter, from: $from, to: $to, orderBy: $orderBy, first: $first,
            after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {" ".join(PROCESS_COLUMNS)} }}
  }}
}}"""

PROCESS_HISTORY_QUERY = f"""
query ProcessHistory($key: ID!, $from: DateTime, $to: DateTime, $first: Int, $after: String) {{
  processHistory(processKey: $key, from: $from, to: $to, first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {" ".join(PROCESS_COLUMNS)} }}
  }}
}}"""

# The fields of a Lifetime a DataFrame holds, in its order; the times among them.
LIFETIME_COLUMNS = (
    "processKey", "machineId", "pid", "processName", "user", "commandLine", "startTime",
    "firstSeen", "lastSeen", "snapshotCount", "cpuSeconds", "avgIntervalCpuPercent",
    "maxIntervalCpuPercent", "maxRssBytes",
)  # fmt: skip
_LIFETIME_TIMES = ("startTime", "firstSeen", "lastSeen")

LIFETIMES_QUERY = f"""
query ProcessLifetimes($filter: LifetimeFilter, $from: DateTime, $to: DateTime,
                       $orderBy: LifetimeOrderBy, $first: Int, $after: String) {{
  processLifetimes(filter: $filter, from: $from, to: $to, orderBy: $orderBy, first: $first,
                   after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {" ".join(LIFETIME_COLUMNS)} }}
  }}
}}"""

DEFAULT_PAGE = 1000


def process_variables(
    filter: Mapping[str, Any] | None,
    from_: datetime | str | None,
    to: datetime | str | None,
    order_by: str | None,
    page_size: int,
) -> dict[str, Any]:
    """The variables of :data:`PROCESSES_QUERY`."""
    return given(filter=filter, **{"from": from_}, to=to, orderBy=order_by, first=page_size)


def given(**variables: Any) -> dict[str, Any]:
    """The variables that have a value: the others are left out rather than null, so that the
    API's defaults (the order above all) apply."""
    return {name: value for name, value in variables.items() if value is not None}


def lifetime_variables(
    filter: Mapping[str, Any] | None,
    from_: datetime | str | None,
    to: datetime | str | None,
    order_by: str | None,
    limit: int | None,
) -> dict[str, Any]:
    """The variables of :data:`LIFETIMES_QUERY` for the first ``limit`` lifetimes (None: all)."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    first = DEFAULT_PAGE if limit is None else min(limit, DEFAULT_PAGE)
    return given(filter=filter, **{"from": from_}, to=to, orderBy=order_by, first=first)


def frame(
    nodes: list[dict[str, Any]],
    columns: tuple[str, ...] = PROCESS_COLUMNS,
    times: tuple[str, ...] = _TIME_COLUMNS,
) -> pd.DataFrame:
    """Nodes as a DataFrame (processes unless told): one row each, times as UTC timestamps."""
    import pandas as pd

    table = pd.DataFrame.from_records(nodes, columns=list(columns))
    for column in times:
        table[column] = pd.to_datetime(table[column], utc=True, format="ISO8601")
    return table


def lifetime_frame(nodes: list[dict[str, Any]], limit: int | None) -> pd.DataFrame:
    """The first ``limit`` (or every one) of these Lifetime nodes as a DataFrame."""
    return frame(nodes[:limit], LIFETIME_COLUMNS, _LIFETIME_TIMES)
