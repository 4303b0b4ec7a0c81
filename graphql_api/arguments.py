"""Checks of the arguments clients give, each failing with a message that says what is wrong."""

from __future__ import annotations

import re
from datetime import datetime
from typing import overload

import strawberry

from graphql_api.errors import UserInputError

__all__ = ["aware", "snapshot_id", "time_range"]

_MAX_BIGINT = 2**63 - 1
# Bounded so that int() never meets a huge string (Python refuses over 4300 digits).
_ID_DIGITS = re.compile(r"[0-9]{1,19}")


def snapshot_id(field: str, value: strawberry.ID) -> int:
    """Turn a client's snapshot ID, given to ``field``, into the ``commands.id`` it names."""
    if _ID_DIGITS.fullmatch(value) and 0 < int(value) <= _MAX_BIGINT:
        return int(value)
    raise UserInputError(f"{field}: id must be a positive integer, got {value!r}")


@overload
def aware(field: str, argument: str, value: datetime) -> datetime: ...
@overload
def aware(field: str, argument: str, value: None) -> None: ...
def aware(field: str, argument: str, value: datetime | None) -> datetime | None:
    """Refuse a naive time, which PostgreSQL would read in its own time zone."""
    if value is not None and value.utcoffset() is None:
        raise UserInputError(
            f"{field}: {argument!r} needs a UTC offset, e.g. 2024-05-01T12:00:00Z;"
            f" got {value.isoformat()}"
        )
    return value


@overload
def time_range(field: str, start: datetime, end: datetime) -> tuple[datetime, datetime]: ...
@overload
def time_range(
    field: str, start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]: ...
def time_range(
    field: str, start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Check a half-open range [start, end): both aware, and start before end when both given."""
    start, end = aware(field, "from", start), aware(field, "to", end)
    if start is not None and end is not None and start >= end:
        raise UserInputError(
            f"{field}: 'from' must be before 'to', got from={start.isoformat()}"
            f" and to={end.isoformat()}"
        )
    return start, end
