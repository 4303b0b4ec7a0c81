"""Process rows as JSON objects keyed by field name, a chunk of rows at a time.

:func:`json_lines` writes each row as one object on a line, :func:`json_elements` the
objects joined by commas (a JSON array's inside). Objects keep ProcessRow's field order;
times are ISO 8601 as ``datetime.isoformat`` writes them (``+00:00``, not ``Z``); text is
UTF-8; numbers are as msgspec writes them. They are compiled (``procmon/_row_json.c``,
built on install) where a C compiler was found; :func:`json_lines_python` and
:func:`json_elements_python`, which have msgspec write the rows, are the same bytes in
Python, used where it was not, and the tests hold the two to them. :data:`ROW_JSON` says
which are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache
from itertools import starmap
from typing import Any, Final, NamedTuple, get_args, get_type_hints

from parsers.rows import ProcessRow

__all__ = [
    "ROW_JSON",
    "encode_value",
    "json_elements",
    "json_elements_python",
    "json_lines",
    "json_lines_python",
]


def encode_value(value: object) -> bytes:
    """One value's JSON as msgspec writes it, a time at UTC offset 0 ending in ``+00:00``.

    The compiled writer hands over to it the values it does not write itself.
    """
    import msgspec

    encoded = msgspec.json.encode(value)
    if isinstance(value, datetime) and encoded.endswith(b'Z"'):
        return encoded[:-2] + b'+00:00"'
    return encoded


def json_lines_python(rows: list[ProcessRow]) -> bytes:
    """Each of ``rows`` as a JSON object keyed by field name, each followed by a newline."""
    writer = _msgspec_writer()
    return writer.as_isoformat(writer.encoder.encode_lines(list(starmap(writer.struct, rows))))


def json_elements_python(rows: list[ProcessRow]) -> bytes:
    """The JSON objects of ``rows``, keyed by field name, joined by commas."""
    writer = _msgspec_writer()
    array = writer.encoder.encode(list(starmap(writer.struct, rows)))
    return writer.as_isoformat(array[1:-1])


class _MsgspecWriter(NamedTuple):
    """Rows as msgspec Structs of ProcessRow's fields, made from each row's tuple in C (no
    dict per row: orjson needs one, and making it is two thirds of orjson's cost a row), then
    written in one call, and the times msgspec ends in ``Z`` respelled as isoformat does."""

    struct: Callable[..., object]
    encoder: Any
    utc_spellings: tuple[tuple[bytes, bytes], ...]

    def as_isoformat(self, encoded: bytes) -> bytes:
        """``encoded`` with each time at UTC offset 0 ending in ``+00:00``."""
        for msgspec_spelling, isoformat_spelling in self.utc_spellings:
            encoded = encoded.replace(msgspec_spelling, isoformat_spelling)
        return encoded


@cache
def _msgspec_writer() -> _MsgspecWriter:
    import msgspec

    fields = ProcessRow._fields
    return _MsgspecWriter(
        # gc=False: a row holds numbers, strings and a tuple of strings, never a cycle.
        struct=msgspec.defstruct("ProcessRowJson", [(name, object) for name in fields], gc=False),
        encoder=msgspec.json.Encoder(),
        utc_spellings=tuple(_utc_spellings(fields, get_type_hints(ProcessRow))),
    )


def _utc_spellings(
    fields: Sequence[str], types: Mapping[str, object]
) -> Iterator[tuple[bytes, bytes]]:
    """How msgspec ends a time at UTC offset 0 (``Z``) and how isoformat does (``+00:00``),
    for each time field, with the text that follows its value.

    That text opens with a quote that ends a string: inside a JSON string every quote is
    escaped, so the pair is found nowhere else (the next field's key, or the object's end).
    """
    for index, name in enumerate(fields):
        if datetime in get_args(types[name]):
            after = b'"}' if index == len(fields) - 1 else f'","{fields[index + 1]}":'.encode()
            yield b"Z" + after, b"+00:00" + after


def _json_lines_compiled(rows: list[ProcessRow]) -> bytes:
    return encode_objects(rows, ProcessRow._fields, b"\n", b"\n", encode_value)


def _json_elements_compiled(rows: list[ProcessRow]) -> bytes:
    return encode_objects(rows, ProcessRow._fields, b",", b"", encode_value)


try:
    from procmon._row_json import encode_objects
except ImportError:  # pragma: no cover - where no C compiler was found on install
    json_lines, json_elements = json_lines_python, json_elements_python
else:
    json_lines, json_elements = _json_lines_compiled, _json_elements_compiled

ROW_JSON: Final = "python" if json_lines is json_lines_python else "c"
"""Which :func:`json_lines` and :func:`json_elements` are used: ``"c"``, or ``"python"``
where none was compiled."""
