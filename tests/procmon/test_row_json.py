"""The JSON writer of `procmon parse`: the compiled one is in use, and writes what its msgspec
twin writes, byte for byte, for rows of any values."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from parsers.rows import ProcessRow, ProcessStatus
from procmon._row_json import encode_objects
from procmon.row_json import (
    ROW_JSON,
    encode_value,
    json_elements,
    json_elements_python,
    json_lines,
    json_lines_python,
)

# Offsets of whole minutes (which the compiled writer spells) and with seconds (which it
# hands to msgspec, which cuts them).
offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23))
zones = st.one_of(st.just(UTC), st.builds(timezone, offsets))
times = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones)
# Floats as ps and top print them (up to four decimals), and any float at all.
decimals = st.builds(
    lambda whole, digits, places: whole + digits / 10**places,
    st.integers(0, 10**10),
    st.integers(0, 9999),
    st.integers(0, 4),
)
floats = st.one_of(
    decimals, st.floats(), st.floats(allow_nan=False, min_value=-1e10, max_value=1e10)
)
numbers = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers())
text = st.text(st.characters(codec="utf-8"))


def optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


rows = st.builds(
    ProcessRow,
    line_number=st.integers(1, 10**7),
    pid=numbers,
    process_name=text,
    ppid=optional(numbers),
    user=optional(text),
    command_line=optional(text),
    cpu_percent=optional(floats),
    memory_percent=optional(floats),
    rss_bytes=optional(numbers),
    vsz_bytes=optional(numbers),
    memory_usage_bytes=optional(numbers),
    status=optional(st.sampled_from(ProcessStatus)),
    status_raw=optional(text),
    start_time=optional(times),
    start_time_precision=optional(floats),
    cpu_time_seconds=optional(floats),
    tty=optional(text),
    threads=optional(numbers),
    nice=optional(numbers),
    priority=optional(numbers),
    truncated_fields=st.lists(text, max_size=3).map(tuple),
)


def test_the_compiled_writer_is_in_use() -> None:
    # make install compiles it; the msgspec twin is for machines without a C compiler.
    assert ROW_JSON == "c"
    assert json_lines is not json_lines_python
    assert json_elements is not json_elements_python


@given(st.lists(rows, max_size=4))
@example([ProcessRow(line_number=2, pid=1, process_name='a "quoted"\\ \x00\x1f\x7f\u2028 é 😀')])
def test_the_compiled_writer_writes_what_msgspec_writes(chunk: list[ProcessRow]) -> None:
    assert json_lines(chunk) == json_lines_python(chunk)
    assert json_elements(chunk) == json_elements_python(chunk)


@pytest.mark.parametrize(
    "value",
    [
        0.0,
        -0.0,
        0.1,
        0.3,
        0.1 + 0.2,
        2.5,
        -12.34,
        86400.0,
        0.0001,
        0.00015,
        1e-05,
        123456789.5,
        999999999.9999,
        1e9,
        1e15,
        1e16,
        1.2345678901234567e19,
        5e-324,
        math.pi,
        math.nan,
        math.inf,
        -math.inf,
    ],
)
def test_floats_are_spelled_as_msgspec_spells_them(value: float) -> None:
    row = ProcessRow(line_number=2, pid=1, process_name="sh", cpu_percent=value)
    assert json_lines([row]) == json_lines_python([row])


@given(st.floats())
def test_any_float_reads_back_as_itself(value: float) -> None:
    row = ProcessRow(line_number=2, pid=1, process_name="sh", cpu_time_seconds=value)
    [line] = json_lines([row]).splitlines()
    written = json.loads(line)["cpu_time_seconds"]
    assert written == value if math.isfinite(value) else written is None


def test_times_end_in_their_offset_as_isoformat_writes_it() -> None:
    stamps = [
        datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 10, 0, 0, 7, tzinfo=UTC),
        datetime(5, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
        datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(minutes=-30))),
    ]
    written = [
        json.loads(line)["start_time"]
        for line in json_lines(
            [ProcessRow(line_number=2, pid=1, process_name="sh", start_time=t) for t in stamps]
        ).splitlines()
    ]
    assert written == [stamp.isoformat() for stamp in stamps]


def test_values_it_does_not_write_itself_go_to_the_fallback() -> None:
    seen: list[object] = []

    def fallback(value: object) -> bytes:
        seen.append(value)
        return encode_value(value)

    naive = datetime(2026, 11, 28, 10, 0)
    row = (2**70, 1e-05, naive, (1, "a"), True, None, "é")
    keys = ("a", "b", "c", "d", "e", "f", "g")
    encoded = encode_objects([row], keys, b"\n", b"\n", fallback)
    assert seen == [2**70, 1e-05, naive, (1, "a")]
    assert encoded == (
        b'{"a":1180591620717411303424,"b":0.00001,"c":"2026-11-28T10:00:00",'
        b'"d":[1,"a"],"e":true,"f":null,"g":"\xc3\xa9"}\n'
    )


def test_objects_are_joined_by_the_separator_and_followed_by_the_end() -> None:
    rows = [(1,), (2,), (3,)]
    assert encode_objects(rows, ("n",), b",", b"]", encode_value) == b'{"n":1},{"n":2},{"n":3}]'
    assert encode_objects([], ("n",), b",", b"]", encode_value) == b""


@pytest.mark.parametrize(
    ("rows", "keys", "fallback", "error"),
    [
        ([(1, 2)], ("a",), encode_value, "row 0: not a tuple of 1 values"),
        ([(1,), [1]], ("a",), encode_value, "row 1: not a tuple of 1 values"),
        ([(1,)], (), encode_value, "keys: a tuple of 1 to 64 names"),
        ([(1j,)], ("a",), lambda value: "1j", "fallback: returned '1j' for 1j, not bytes"),
    ],
)
def test_rows_it_cannot_write_are_refused(
    rows: list[Any], keys: tuple[str, ...], fallback: Any, error: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=re.escape(error)):
        encode_objects(rows, keys, b"\n", b"\n", fallback)
