"""``Get-WmiObject Win32_Process`` lists, and the Win32_Process mapping they share with wmic."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.cim import win32_process_row
from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.powershell_list import is_wmi_list_header, parse_wmi_list
from parsers.rows import ProcessRow
from tests.parsers.fixtures import read_fixture

PACIFIC = timezone(timedelta(hours=-7))
AT = datetime(2017, 7, 12, 16, 0, tzinfo=PACIFIC)
FIXTURE = "windows/ws2012r2-Get-WmiObject-Win32_Process-list.out"
PROMPT = "PS C:\\Users\\Administrator>"


def test_the_capture_ends_with_a_prompt_that_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^line 2615: not a Property : value line") as caught:
        parse_wmi_list(read_fixture(FIXTURE), AT)
    assert caught.value.line == PROMPT


def test_ws2012r2_list() -> None:
    raw = read_fixture(FIXTURE)
    raw = raw[: raw.rindex(PROMPT)]
    listing = parse_listing(raw, os_type="windows", command="Get-WmiObject", observed_at=AT)
    assert listing.format == "Win32_Process list"
    rows = listing.rows
    assert len(rows) == 42
    assert rows[0] == ProcessRow(
        line_number=2,
        pid=0,
        process_name="System Idle Process",
        ppid=0,
        rss_bytes=4096,
        memory_usage_bytes=4096,
        vsz_bytes=65536,
        cpu_time_seconds=19988.46875,
        threads=1,
        priority=0,
    )
    assert rows[1] == ProcessRow(
        line_number=64,
        pid=4,
        process_name="System",
        ppid=0,
        rss_bytes=139264,
        memory_usage_bytes=139264,
        vsz_bytes=3432448,
        start_time=datetime(2017, 7, 12, 12, 14, 25, 18613, tzinfo=PACIFIC),
        start_time_precision=1e-06,
        cpu_time_seconds=47.96875,
        threads=75,
        priority=8,
    )
    [firefox] = [row for row in rows if row.line_number == 2296]
    command = firefox.command_line
    assert firefox == ProcessRow(
        line_number=2296,
        pid=2992,
        process_name="firefox.exe",
        ppid=3116,
        command_line=command,
        rss_bytes=72314880,
        memory_usage_bytes=72314880,
        vsz_bytes=1378304000,
        start_time=datetime(2017, 7, 12, 15, 24, 46, 155540, tzinfo=PACIFIC),
        start_time_precision=1e-06,
        cpu_time_seconds=0.96875,
        threads=17,
        priority=8,
        truncated_fields=("command_line",),
    )
    # Ten lines wrapped: cut inside a number they join back exactly; cut at a space, the
    # space is lost.
    assert command is not None
    assert command.startswith('"C:\\Program Files\\Mozilla Firefox\\firefox.exe" -contentproc ')
    assert "|207:5|211:1048576|212:100|" in command
    assert '{d130b7e4-5618-427c-891a-ee8a0888c2a8}|"-greomni "C:\\Program Files' in command
    assert command.endswith('browser"  3116"\\\\.\\pipe\\gecko-crash-server-pipe.3116" tab')


HEADER = "__GENUS          : 2"


def record(*lines: str) -> str:
    """A list of one record: its __GENUS line, then ``lines``."""
    return "\r\n".join(["", HEADER, *lines, "", ""])


def test_wrapped_name_and_empty_values() -> None:
    raw = record(
        "Name             : a-very-long-",
        "                   name.exe",
        "ProcessId        : 8",
        "CommandLine      :",
        "CreationDate     :",
        "KernelModeTime   : 10000000",
        "UserModeTime     :",
    )
    [row] = parse_wmi_list(raw, AT)
    assert row == ProcessRow(
        line_number=2,
        pid=8,
        process_name="a-very-long-name.exe",
        truncated_fields=("process_name",),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "^empty listing$"),
        ("Name : x", "^line 1: not a Get-WmiObject list"),
        (record("Name : x"), "^line 2: record with no ProcessId column"),
        (record("Name : x", "ProcessId : 4", "Name : y"), "^line 5: property repeated"),
        (record("Name : x", "ProcessId : 4", "ThreadCount : -1"), "^line 5: ThreadCount: "),
        (record("Name : x", "ProcessId : 4x"), r"^line 4: ProcessId: '4x' is not"),
        (record("Name : x", "ProcessId : 4", "CreationDate : 2017"), "^line 5: CreationDate: "),
        (record("Name : x", "ProcessId : 4", "Name = y"), "^line 5: not a Property : value"),
        (record("Name :", "ProcessId : 4"), "^line 3: Name: empty"),
        ("\n  continued\n" + HEADER, "^line 2: not a Get-WmiObject list"),
    ],
)
def test_refusals(raw: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_wmi_list(raw, AT)


def test_header_detection() -> None:
    assert is_wmi_list_header("__GENUS                    : 2")
    assert not is_wmi_list_header("__CLASS                    : Win32_Process")
    assert not is_wmi_list_header("Name=x")


def test_mapping_needs_both_cpu_times_and_falls_back_to_caption() -> None:
    row = win32_process_row(
        7, {"ProcessId": "4", "Caption": "System", "KernelModeTime": "5000000"}, UTC
    )
    assert row == ProcessRow(line_number=7, pid=4, process_name="System")
    with pytest.raises(ValueError, match=r"^Name: empty$"):
        win32_process_row(7, {"ProcessId": "4", "Name": ""}, UTC)


@given(st.text(max_size=3000))
def test_arbitrary_text_parses_or_raises_parse_error(raw: str) -> None:
    with contextlib.suppress(ParseError):
        parse_wmi_list(raw, AT)


@given(
    st.lists(st.text(st.sampled_from(" :=_.+-0123456789NameProcsId\r"), max_size=40), max_size=8)
)
def test_header_then_arbitrary_lines(lines: list[str]) -> None:
    with contextlib.suppress(ParseError):
        parse_wmi_list("\n".join([HEADER, "Name : a", "ProcessId : 4", *lines]), AT)
