"""Process rows as PostgreSQL binary ``COPY`` data, a listing at a time.

The writer sends :data:`COPY_SIGNATURE`, then :func:`encode_rows` of each listing, then
:data:`COPY_TRAILER`: the bytes psycopg's ``Copy.write_row`` would send row by row, without
the call and the coroutine per row, which cost the worker more than the encoding itself.
:func:`encode_rows` is compiled (``streams/_copy_rows.c``, built on install) where a C
compiler was found; :func:`encode_rows_python` is the same in Python, used where it was not,
and the tests hold both to psycopg's own bytes. :data:`ENCODER` says which is used.
:func:`first_out_of_range`, compiled beside it, finds the integers their columns cannot hold
before a listing's rows are encoded.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

__all__ = [
    "COPY_SIGNATURE",
    "COPY_TRAILER",
    "ENCODER",
    "encode_rows",
    "encode_rows_python",
    "first_out_of_range",
    "first_out_of_range_python",
]

COPY_SIGNATURE: Final = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
"""The header of binary COPY data: the signature, no flags, no header extension."""
COPY_TRAILER: Final = struct.pack("!h", -1)
"""The end of binary COPY data."""

Row = TypeVar("Row", bound=tuple[Any, ...])

_NULL: Final = struct.pack("!i", -1)
_POSTGRES_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def _int8(value: int) -> bytes:
    return struct.pack("!iq", 8, _in_range(value, 64, "int8"))


def _int4(value: int) -> bytes:
    return struct.pack("!ii", 4, _in_range(value, 32, "int4"))


def _in_range(value: int, bits: int, type_name: str) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{type_name}: expected an int, got {value!r}")
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise OverflowError(f"{type_name}: {value} is out of range")
    return value


def _text(value: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"text: expected a str, got {value!r}")
    encoded = value.encode()
    return struct.pack("!i", len(encoded)) + encoded


def _float4(value: float) -> bytes:
    return struct.pack("!if", 4, value)


def _float8(value: float) -> bytes:
    return struct.pack("!id", 8, value)


def _timestamptz(value: datetime) -> bytes:
    if not isinstance(value, datetime):
        raise TypeError(f"timestamptz: expected a datetime, got {value!r}")
    if value.utcoffset() is None:
        raise ValueError(f"timestamptz: naive datetime {value!r}")
    return struct.pack("!iq", 8, (value - _POSTGRES_EPOCH) // _MICROSECOND)


_ENCODERS: Final[dict[str, Callable[[Any], bytes]]] = {
    "int8": _int8,
    "int4": _int4,
    "text": _text,
    "float4": _float4,
    "float8": _float8,
    "timestamptz": _timestamptz,
}


def encode_rows_python(
    head: tuple[object, ...],
    rows: list[Row],
    types: tuple[str, ...],
    truncated: list[int],
    tails: Sequence[tuple[object, ...]],
) -> bytes:
    """The binary COPY tuples of ``head + row[:-1] + tail`` for each row whose last field is
    empty, ``tail`` being its item of ``tails`` (the row's history, which the parser's row
    does not hold).

    ``types`` names each column's PostgreSQL type (``int8``, ``int4``, ``text``, ``float4``,
    ``float8``, ``timestamptz``); None is NULL. The indexes of rows whose last field
    (``truncated_fields``) is not empty are appended to ``truncated`` instead, for a COPY that
    carries that column.
    """
    encoders = []
    for name in types:
        if name not in _ENCODERS:
            raise ValueError(f"types: {name!r} is not one this encoder writes")
        encoders.append(_ENCODERS[name])
    if len(tails) != len(rows):
        raise ValueError("encode_rows: a tail for each row")
    field_count = struct.pack("!h", len(types))
    parts: list[bytes] = []
    for index, (row, tail) in enumerate(zip(rows, tails, strict=True)):
        if not isinstance(tail, tuple):
            raise ValueError(f"tail {index}: not a tuple")
        width = len(types) - len(head) - len(tail) + 1
        if not isinstance(row, tuple) or len(row) != width:
            raise ValueError(f"row {index}: not a tuple of {width} fields")
        if row[-1]:
            truncated.append(index)
            continue
        parts.append(field_count)
        for encode, value in zip(encoders, (*head, *row[:-1], *tail), strict=True):
            parts.append(_NULL if value is None else encode(value))
    return b"".join(parts)


_INTEGER_BITS: Final = {"int4": 32, "int8": 64}


def first_out_of_range_python(
    rows: list[Row], columns: tuple[tuple[int, str], ...]
) -> tuple[int, int] | None:
    """(row index, field index) of the first value of ``rows``, in row then column order,
    that is not None and not an int its column holds, or None when every one fits.

    ``columns`` pairs a field's index with its type, ``int4`` or ``int8``: checked before
    the COPY, a value PostgreSQL cannot hold makes its listing a dead letter that says which,
    rather than refusing the whole batch.
    """
    limits = []
    for position, (index, type_name) in enumerate(columns):
        if type_name not in _INTEGER_BITS:
            raise ValueError(f"column {position}: not an (index, 'int4' or 'int8') pair")
        limits.append((index, 2 ** (_INTEGER_BITS[type_name] - 1)))
    for row_index, row in enumerate(rows):
        for index, limit in limits:
            value = row[index]
            if value is not None and not (isinstance(value, int) and -limit <= value < limit):
                return row_index, index
    return None


try:
    from streams._copy_rows import encode_rows, first_out_of_range
except ImportError:  # pragma: no cover - where no C compiler was found on install
    encode_rows = encode_rows_python
    first_out_of_range = first_out_of_range_python

ENCODER: Final = "python" if encode_rows is encode_rows_python else "c"
"""Which :func:`encode_rows` is used: ``"c"``, or ``"python"`` where none was compiled."""
