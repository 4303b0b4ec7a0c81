"""Which rollup a ``processStats`` question can be answered from, if any.

The rollups (``stats_hours``, ``stats_days``, ``stats_machine_hours``,
``stats_machine_days``; README "Rollups") hold sums, counts and highest values per machine,
OS type, labels, UTC hour or day, and, in the first two, process name and user. A question
is answered from one when its buckets are whole hours (or days), it groups by nothing else,
and its filter names only those dimensions; the answer is then the same, number for number,
as from the rows.

A snapshot is counted once per group: across machines and buckets the rollup's snapshot
counts add up, but within one machine a snapshot has rows of several names and users. The
rollup keeps, beside the snapshots of each name and user, those counted once per name and
once per user; a filter on the name or user must therefore be one the question groups by
(else the rows answer it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import LiteralString

import strawberry

from graphql_api.filter_inputs import ProcessFilter
from graphql_api.filters import ROLLUP_FIELDS, filter_fields

__all__ = ["Rollup", "StatsSource", "choose_rollup", "whole_buckets"]

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


@strawberry.enum(description="What processStats added its answer up from.")
class StatsSource(Enum):
    """The source of a ``processStats`` answer."""

    RAW = strawberry.enum_value("raw", description="The process rows.")
    HOURLY = strawberry.enum_value(
        "hourly",
        description="The hourly rollups, and the rows of what they do not hold (partial"
        " hours at the range's ends, snapshots not yet counted).",
    )
    DAILY = strawberry.enum_value(
        "daily",
        description="The daily rollups, and the rows of the snapshots not yet counted.",
    )


@dataclass(frozen=True, slots=True)
class Rollup:
    """The rollup table that answers a question, its buckets' width, and its column that
    counts each of the question's snapshots once."""

    source: StatsSource
    table: LiteralString
    width: timedelta
    snapshots: LiteralString


def _aligned(moment: datetime | None, width: timedelta, origin: datetime) -> bool:
    return moment is None or (moment - origin) % width == timedelta(0)


def whole_buckets(
    start: datetime | None, end: datetime | None, width: timedelta, origin: datetime
) -> tuple[datetime | None, datetime | None]:
    """The first and last bounds of the range's whole buckets of ``width`` (None: unbounded).
    The first may lie past the last, when the range holds no whole bucket."""
    first = None if start is None else origin + -((origin - start) // width) * width
    last = None if end is None else origin + ((end - origin) // width) * width
    return first, last


def choose_rollup(
    *,
    grouped: set[str],
    filter: ProcessFilter | None,
    bucket: timedelta | None,
    start: datetime | None,
    end: datetime | None,
    origin: datetime,
) -> Rollup | None:
    """The rollup answering a question grouped by ``grouped`` (the filter fields' names of the
    group columns, plus ``label``), or None when only the rows can."""
    if not grouped <= ROLLUP_FIELDS | {"label"} or (bucket is not None and bucket % _HOUR):
        return None
    fields = filter_fields(filter)
    by_row = grouped & {"process_name", "user"}
    if not fields <= ROLLUP_FIELDS or not fields & {"process_name", "user"} <= by_row:
        return None
    daily = (bucket is None or bucket % _DAY == timedelta(0)) and all(
        _aligned(moment, _DAY, origin) for moment in (start, end)
    )
    source = StatsSource.DAILY if daily else StatsSource.HOURLY
    unit = "days" if daily else "hours"
    width = _DAY if daily else _HOUR
    if not by_row:
        return Rollup(source, f"stats_machine_{unit}", width, "snapshot_count")
    snapshots: LiteralString = {
        frozenset({"process_name", "user"}): "snapshot_count",
        frozenset({"process_name"}): "name_snapshot_count",
        frozenset({"user"}): "user_snapshot_count",
    }[frozenset(by_row)]
    return Rollup(source, f"stats_{unit}", width, snapshots)
