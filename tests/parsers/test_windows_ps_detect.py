"""Detection of the PowerShell and wmic formats, and parse_listing fuzzed with their headers."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.detect import parse_listing
from parsers.errors import ParseError

AT = datetime(2020, 10, 10, 12, 0, tzinfo=UTC)
HEADERS = {
    "Get-Process table": "Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName\n"
    "-------  ------    -----      -----     ------     --  -- -----------",
    "Get-Process csv": '#TYPE System.Diagnostics.Process\n"Name","Id"',
    "Win32_Process csv": '"Name","Caption","ProcessId"',
    "Win32_Process list": "__GENUS   : 2\nName      : x.exe\nProcessId : 4",
    "wmic process table": "Name          ProcessId  ",
    "wmic process list": "\r\r\nName=x.exe\r\r\nProcessId=4",
    "wmic process csv": "\r\r\nNode,Name,ProcessId",
}


@pytest.mark.parametrize(("name", "header"), HEADERS.items())
def test_each_header_picks_its_format(name: str, header: str) -> None:
    listing = parse_listing(header + "\n", os_type="windows", command="x", observed_at=AT)
    assert listing.format == name
    if name.endswith("list"):
        assert [row.pid for row in listing.rows] == [4]
    else:
        assert listing.rows == []


@given(st.sampled_from(sorted(HEADERS.values())), st.text(max_size=3000))
def test_parse_listing_after_a_header_returns_or_raises_parse_error(header: str, body: str) -> None:
    with contextlib.suppress(ParseError):
        parse_listing(header + "\n" + body, os_type="windows", command="x", observed_at=AT)


@given(st.text(max_size=3000))
def test_parse_listing_of_anything_returns_or_raises_parse_error(raw: str) -> None:
    with contextlib.suppress(ParseError):
        parse_listing(raw, os_type="windows", command="x", observed_at=AT)
