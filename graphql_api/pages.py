"""Relay-style pages: opaque keyset cursors, ``pageInfo``, and the page-size rules.

A cursor is the sort key of the row it points at, so the next page is a range condition on
an index instead of an ``OFFSET`` that reads and drops every earlier row. It is opaque to
clients (base64 of typed JSON) and checked when it comes back.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry

from graphql_api.arguments import text
from graphql_api.errors import UserInputError

__all__ = ["PageInfo", "decode_cursor", "encode_cursor", "page_size"]

_MAX_CURSOR_LENGTH = 1000


@strawberry.type(description="Where a page stands in the whole list (Relay's PageInfo).")
class PageInfo:
    """``pageInfo`` of a connection; pages go forward only, with ``first`` and ``after``."""

    has_next_page: bool
    has_previous_page: bool = strawberry.field(description="True when `after` was given.")
    start_cursor: str | None
    end_cursor: str | None


def page_size(field: str, first: int | None, default: int, maximum: int) -> int:
    """The rows a page holds: ``first`` when given, within 1 and ``maximum``."""
    if first is None:
        return default
    if not 0 < first <= maximum:
        raise UserInputError(f"{field}: first must be between 1 and {maximum}, got {first}")
    return first


def _tagged(value: object) -> object:
    # Datetimes and infinite floats do not survive plain JSON; everything else does.
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return {"f": "inf" if value > 0 else "-inf"}
    return value


def _untagged(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"t"} and isinstance(value["t"], str):
            return datetime.fromisoformat(value["t"])
        if set(value) == {"f"} and value["f"] in ("inf", "-inf"):
            return float(value["f"])
        raise ValueError("unknown tag")
    return value


def encode_cursor(kind: str, values: Sequence[object]) -> str:
    """The opaque cursor of a row of a list of ``kind``, whose sort key is ``values``."""
    text = json.dumps([kind, [_tagged(value) for value in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(field: str, kind: str, cursor: str, types: Sequence[type]) -> list[Any]:
    """The sort key in ``cursor``, of these types; a cursor of another list or order is refused."""
    problem = f"{field}: 'after' is not a cursor of this list and order; use a pageInfo.endCursor"
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise UserInputError(problem)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_kind, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key = [_untagged(value) for value in values]
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise UserInputError(problem) from exc
    if cursor_kind != kind or len(key) != len(types):
        raise UserInputError(problem)
    for value, expected in zip(key, types, strict=True):
        # bool is an int to Python, not to PostgreSQL; an int is a fine float.
        fits = isinstance(value, expected) or (expected is float and type(value) is int)
        if not fits or type(value) is bool:
            raise UserInputError(problem)
        if isinstance(value, str):
            try:
                text(field, "after", value)
            except UserInputError as exc:
                raise UserInputError(problem) from exc
    return key
