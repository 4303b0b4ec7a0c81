"""Binary COPY encoding: the compiled encoder, its Python twin, psycopg and PostgreSQL agree."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg._copy_base import BinaryFormatter
from psycopg.adapt import Transformer

from parsers.rows import ProcessRow, ProcessStatus
from procmon.columns import HISTORY_COLUMNS
from streams.copy_rows import (
    COPY_SIGNATURE,
    COPY_TRAILER,
    ENCODER,
    encode_rows,
    encode_rows_python,
    first_out_of_range,
    first_out_of_range_python,
)
from streams.sql import UNTRUNCATED_COLUMN_TYPES

TYPES = UNTRUNCATED_COLUMN_TYPES
HEAD_WIDTH = 3
TAIL_WIDTH = len(HISTORY_COLUMNS)
PARIS = ZoneInfo("Europe/Paris")

_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
_INT4 = st.integers(-(2**31), 2**31 - 1)
_INT8 = st.integers(-(2**63), 2**63 - 1)
_FLOAT4 = st.floats(width=32, allow_nan=False)
_FLOAT8 = st.floats(allow_nan=False)
_AWARE = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30)), PARIS]),
)
_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "int8": _INT8,
    "int4": _INT4,
    "text": _TEXT,
    "float4": _FLOAT4,
    "float8": _FLOAT8,
    "timestamptz": _AWARE,
}


def _values(types: tuple[str, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(*(st.none() | _BY_TYPE[name] for name in types))


_ROWS = st.lists(
    st.tuples(
        _values(TYPES[HEAD_WIDTH:-TAIL_WIDTH]),
        st.sampled_from([(), (), ("user",)]),
    ).map(lambda pair: (*pair[0], pair[1])),
    max_size=5,
)
_TAIL = _values(TYPES[-TAIL_WIDTH:])
_HEADS = _values(TYPES[:HEAD_WIDTH])


def psycopg_bytes(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> bytes:
    """What psycopg's Copy.write_row sends for these rows, after the signature."""
    transformer = Transformer(conn)
    transformer.set_dumper_types(
        [conn.adapters.types[name].oid for name in TYPES], psycopg.pq.Format.BINARY
    )
    formatter = BinaryFormatter(transformer)
    sent = b"".join(bytes(formatter.write_row(row)) for row in rows) + bytes(formatter.end())
    return sent[len(COPY_SIGNATURE) : -len(COPY_TRAILER)]


def test_the_compiled_encoder_is_in_use() -> None:
    # make install compiles it; the Python twin is for machines without a C compiler.
    assert ENCODER == "c"
    assert encode_rows is not encode_rows_python


@settings(max_examples=200)
@given(_HEADS, _ROWS, st.data())
def test_both_encoders_send_what_psycopg_sends(
    database_url: str, head: tuple[Any, ...], rows: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    tails = [data.draw(_TAIL) for _ in rows]
    compiled_cut: list[int] = []
    python_cut: list[int] = []
    compiled = encode_rows(head, rows, TYPES, compiled_cut, tails)
    python = encode_rows_python(head, rows, TYPES, python_cut, tails)
    assert compiled_cut == python_cut == [index for index, row in enumerate(rows) if row[-1]]
    kept = [(*head, *row[:-1], *tail) for row, tail in zip(rows, tails, strict=True) if not row[-1]]
    with psycopg.connect(database_url) as conn:
        assert compiled == python == psycopg_bytes(conn, kept)


def test_postgresql_reads_back_what_was_encoded(database_url: str) -> None:
    names = ", ".join(f"c{n} {name}" for n, name in enumerate(TYPES))
    when = datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=PARIS)
    head = (2**40, "machine-é", datetime(2026, 11, 29, 5, 0, tzinfo=UTC))
    row = ProcessRow(
        line_number=7,
        pid=2**31 - 1,
        process_name="nginx",
        ppid=-(2**31),
        user="rüdiger",
        command_line="nginx: worker 日本",
        cpu_percent=0.5,
        memory_percent=1.25,
        rss_bytes=2**62,
        vsz_bytes=0,
        status=ProcessStatus.SLEEPING,
        status_raw="S<l",
        start_time=when,
        cpu_time_seconds=1234.56789,
        tty="pts/0",
        threads=12,
        nice=-20,
    )
    tail = (2**62 + 5, 60.0, 12.5)
    encoded = encode_rows(head, [row], TYPES, [], [tail])
    with psycopg.connect(database_url) as conn:
        conn.execute(f"CREATE TEMP TABLE copied ({names})")
        with conn.cursor().copy("COPY copied FROM STDIN (FORMAT binary)") as copy:
            copy.write(COPY_SIGNATURE + encoded + COPY_TRAILER)
        stored = conn.execute("SELECT * FROM copied").fetchone()
    assert stored == (*head, *row[:-1], *tail)
    assert stored is not None
    assert stored[HEAD_WIDTH + ProcessRow._fields.index("start_time")] == when
    cpu_percent = stored[HEAD_WIDTH + ProcessRow._fields.index("cpu_percent")]
    assert cpu_percent == struct.unpack("!f", struct.pack("!f", 0.5))[0]


@pytest.mark.parametrize(
    ("value", "column", "error"),
    [
        (2**31, 4, OverflowError),
        (-(2**31) - 1, 4, OverflowError),
        (2**63, 11, OverflowError),
        ("7", 4, TypeError),
        (7, 5, TypeError),
        (datetime(2026, 1, 1), 16, ValueError),
        ("2026-01-01", 16, TypeError),
        (1e39, 9, OverflowError),
    ],
)
def test_values_a_column_cannot_take_are_refused_by_both(
    value: object, column: int, error: type[Exception]
) -> None:
    head = (1, "m", datetime(2026, 1, 1, tzinfo=UTC))
    row: list[object] = [None] * (len(TYPES) - HEAD_WIDTH - TAIL_WIDTH) + [()]
    row[column - HEAD_WIDTH] = value
    for encode in (encode_rows, encode_rows_python):
        with pytest.raises(error):
            encode(head, [tuple(row)], TYPES, [], [(None,) * TAIL_WIDTH])


def test_bad_arguments_are_refused() -> None:
    for encode in (encode_rows, encode_rows_python):
        with pytest.raises(ValueError, match="not one this encoder writes"):
            encode((), [(1, ())], ("int2",), [], [()])
        with pytest.raises(ValueError, match="row 0"):
            encode((), [(1, 2, ())], ("int8",), [], [()])
        with pytest.raises(ValueError, match="a tail for each row"):
            encode((), [(1, ())], ("int8",), [], [])
        with pytest.raises(ValueError, match="tail 0"):
            encode((), [(1, ())], ("int8",), [], [None])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        encode_rows([], [], (), [], [])  # type: ignore[arg-type]


_INTEGER_COLUMNS = ((0, "int4"), (1, "int8"), (2, "int4"))
_INTEGERS = st.one_of(
    st.none(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63)]),
)


def _first_unfit_by_hand(rows: list[tuple[Any, ...]]) -> tuple[int, int] | None:
    """The first (row, field), in row then column order, that its type cannot hold."""
    bounds = {"int4": 2**31, "int8": 2**63}
    for row_index, row in enumerate(rows):
        for index, type_name in _INTEGER_COLUMNS:
            value = row[index]
            if value is not None and not -bounds[type_name] <= value < bounds[type_name]:
                return row_index, index
    return None


@settings(max_examples=300)
@given(st.lists(st.tuples(_INTEGERS, _INTEGERS, _INTEGERS, st.text(max_size=3)), max_size=6))
def test_both_range_checks_find_the_first_integer_its_column_cannot_hold(
    rows: list[tuple[Any, ...]],
) -> None:
    expected = _first_unfit_by_hand(rows)
    assert first_out_of_range(rows, _INTEGER_COLUMNS) == expected
    assert first_out_of_range_python(rows, _INTEGER_COLUMNS) == expected


def test_both_range_checks_refuse_what_is_not_a_whole_number_and_bad_columns() -> None:
    for check in (first_out_of_range, first_out_of_range_python):
        assert check([(1, 2, 3), (1, 2.5, 3)], _INTEGER_COLUMNS) == (1, 1)
        assert check([(1, "7", 3)], _INTEGER_COLUMNS) == (0, 1)
        with pytest.raises(ValueError, match=r"column 0: not an \(index, 'int4' or 'int8'\) pair"):
            check([(1,)], ((0, "int2"),))
