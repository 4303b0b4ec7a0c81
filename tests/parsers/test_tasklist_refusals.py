"""What the tasklist parsers refuse, naming the line at fault."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parsers.errors import ParseError
from parsers.tasklist import parse_tasklist
from parsers.tasklist_records import parse_tasklist_csv, parse_tasklist_list

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
_HEADER = "Image Name                     PID Session Name        Session#    Mem Usage\n"
_RULER = "========================= ======== ================ =========== ============\n"


@pytest.mark.parametrize(
    ("text", "line_number", "message"),
    [
        ("Image Name:   x.exe\nPID: 4\nSession Name: S\nSession#: 0\n", 1, "Mem Usage"),
        ("Image Name: x.exe\nPID: 4\nPID: 5\n", 3, "twice"),
        ("Image Name: x.exe\nColour: red\n", 2, "label"),
        ("PID: 4\n", 1, "Image Name"),
        (
            "Image Name: x\nPID: 4\nSession Name: S\nSession#: 0\nMem Usage: 4 MB\n",
            1,
            "Mem Usage",
        ),
    ],
)
def test_list_refusals(text: str, line_number: int, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_tasklist_list(text, AT)
    assert caught.value.line_number == line_number


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("x.exe                          -4 Services                   0          8 K", "PID"),
        ("x.exe                           4 Services                   x          8 K", "Session"),
        ("x.exe                           4 Services                   0          8 M", "Mem"),
        ("x.exe                           4 Services                   0          8,8 K", "Mem"),
        ("x.exe                           4 Services                   0", "Mem"),
        ("x.exe                     44444444Services                   0          8 K", "space"),
    ],
)
def test_table_refusals(line: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_tasklist(_HEADER + _RULER + line + "\n", AT)
    assert caught.value.line_number == 3
    assert caught.value.line == line


def test_table_needs_its_ruler_matching_the_header() -> None:
    with pytest.raises(ParseError, match="ruler") as caught:
        parse_tasklist(_HEADER + "x.exe 4\n", AT)
    assert caught.value.line_number == 2
    with pytest.raises(ParseError, match="do not match"):
        parse_tasklist(_HEADER + "==== ======== ================ =========== ============\n", AT)


def test_csv_refusals() -> None:
    header = '"Image Name","PID","Session Name","Session#","Mem Usage"\n'
    with pytest.raises(ParseError, match="expected 5 values") as caught:
        parse_tasklist_csv(header + '"x","4","S","0"\n', AT)
    assert caught.value.line_number == 2
    with pytest.raises(ParseError, match="CSV: ") as caught:
        parse_tasklist_csv(header + '"x,"4","S","0","8 K"\n', AT)
    assert caught.value.line_number == 2
    with pytest.raises(ParseError, match="quote left open") as caught:
        parse_tasklist_csv(header + '"x","4","S","0","8\nK"\n', AT)
    assert caught.value.line_number == 2


def test_naive_snapshot_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_tasklist(_HEADER + _RULER, datetime(2026, 1, 1))
