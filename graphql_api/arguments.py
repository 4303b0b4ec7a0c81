"""Checks of the arguments clients give, each failing with a message that says what is wrong."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import overload

import strawberry

from graphql_api.errors import UserInputError

__all__ = ["aware", "check_offset", "process_key", "snapshot_id", "text", "time_range"]

_MAX_BIGINT = 2**63 - 1
# Bounded so that int() never meets a huge string (Python refuses over 4300 digits).
_ID_DIGITS = re.compile(r"[0-9]{1,19}")
# PostgreSQL reads UTC offsets of less than 16 hours either way (Python's go up to 24).
_MAX_OFFSET = timedelta(hours=16)


def text(field: str, argument: str, value: str) -> str:
    """Refuse text that PostgreSQL cannot hold: NUL, or a lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise UserInputError(f"{field}: {argument} cannot contain the NUL character (\\u0000)")
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise UserInputError(
            f"{field}: {argument} is not valid Unicode text (a lone surrogate"
            f" {value[exc.start]!r} at {exc.start})"
        ) from exc
    return value


def check_offset(where: str, value: datetime) -> None:
    """Refuse a time whose UTC offset PostgreSQL cannot read."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) >= _MAX_OFFSET:
        raise UserInputError(
            f"{where}: a UTC offset must be less than 16 hours either way; got {value.isoformat()}"
        )


def snapshot_id(field: str, value: strawberry.ID) -> int:
    """Turn a client's snapshot ID, given to ``field``, into the ``commands.id`` it names."""
    if _ID_DIGITS.fullmatch(value) and 0 < int(value) <= _MAX_BIGINT:
        return int(value)
    raise UserInputError(f"{field}: id must be a positive integer, got {value!r}")


def process_key(field: str, value: strawberry.ID) -> int:
    """Turn a client's process key, given to ``field``, into the ``process_key`` it names."""
    if _ID_DIGITS.fullmatch(value) and int(value) <= _MAX_BIGINT:
        return int(value)
    raise UserInputError(
        f"{field}: processKey must be a whole number from 0 to {_MAX_BIGINT}, got {value!r}"
    )


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
    if value is not None:
        check_offset(f"{field}: {argument!r}", value)
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
