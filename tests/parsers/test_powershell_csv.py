"""PowerShell CSV of Get-Process objects and of Win32_Process instances."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.powershell_csv import (
    is_get_process_csv_header,
    is_win32_process_csv_header,
    parse_get_process_csv,
    parse_win32_process_csv,
)
from parsers.rows import ProcessRow
from tests.parsers.fixtures import read_fixture
from tests.parsers.windows_render import PROCESSES, Process, get_process_csv

PLUS_TWO = timezone(timedelta(hours=2))
AT = datetime(2020, 10, 10, 13, 0, tzinfo=PLUS_TWO)


def test_ps51_get_process_csv() -> None:
    listing = parse_listing(
        read_fixture("windows/ps51-Get-Process-ConvertTo-Csv-handmade.out"),
        os_type="windows",
        command="Get-Process | ConvertTo-Csv",
        observed_at=AT,
    )
    assert listing.format == "Get-Process csv"
    rows = listing.rows
    assert len(rows) == 4
    # Idle: nulls everywhere access is denied, the thread collection is no count.
    assert rows[0] == ProcessRow(
        line_number=3,
        pid=0,
        process_name="Idle",
        rss_bytes=8192,
        memory_usage_bytes=8192,
        vsz_bytes=8192,
        priority=0,
    )
    assert rows[1] == ProcessRow(
        line_number=4,
        pid=5432,
        process_name="explorer",
        rss_bytes=141328384,
        memory_usage_bytes=141328384,
        vsz_bytes=2203991425024,
        start_time=datetime(2020, 10, 10, 8, 2, 11, tzinfo=PLUS_TWO),
        start_time_precision=1.0,
        cpu_time_seconds=52.703125,
        priority=8,
    )
    # More than a day of CPU: the TimeSpan's days.
    assert rows[3] == ProcessRow(
        line_number=6,
        pid=1196,
        process_name="svchost",
        rss_bytes=28672000,
        memory_usage_bytes=28672000,
        vsz_bytes=2203463737344,
        start_time=datetime(2020, 10, 8, 23, 58, 42, tzinfo=PLUS_TWO),
        start_time_precision=1.0,
        cpu_time_seconds=93784.5,
        priority=8,
    )


def test_ps7_get_process_csv_with_command_lines() -> None:
    rows = parse_get_process_csv(
        read_fixture("windows/ps7-Get-Process-ConvertTo-Csv-handmade.out"), AT
    )
    assert len(rows) == 3
    assert rows[1] == ProcessRow(
        line_number=3,
        pid=8812,
        process_name="pwsh",
        command_line=(
            '"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoLogo -Command '
            '"Get-Process | ConvertTo-Csv"'
        ),
        rss_bytes=100925440,
        memory_usage_bytes=100925440,
        vsz_bytes=2204001161216,
        start_time=datetime(2020, 10, 10, 12, 30, 1, tzinfo=PLUS_TWO),
        start_time_precision=1.0,
        cpu_time_seconds=4.328125,
        priority=8,
    )
    # A protected process: its command line is an empty string, so unknown.
    assert rows[2].command_line is None
    assert (rows[2].pid, rows[2].cpu_time_seconds, rows[2].start_time) == (3104, None, None)


def test_get_cim_instance_csv() -> None:
    listing = parse_listing(
        read_fixture("windows/win10-Get-CimInstance-Win32_Process-ConvertTo-Csv-handmade.out"),
        os_type="windows",
        command="Get-CimInstance Win32_Process | ConvertTo-Csv",
        observed_at=AT,
    )
    assert listing.format == "Win32_Process csv"
    assert len(listing.rows) == 3
    assert listing.rows[0] == ProcessRow(
        line_number=3,
        pid=0,
        process_name="System Idle Process",
        ppid=0,
        rss_bytes=8192,
        memory_usage_bytes=8192,
        vsz_bytes=8192,
        cpu_time_seconds=271.875,
        threads=8,
        priority=0,
    )
    assert listing.rows[2] == ProcessRow(
        line_number=5,
        pid=9120,
        process_name="notepad.exe",
        ppid=5432,
        command_line='"C:\\WINDOWS\\system32\\notepad.exe" "C:\\Users\\ann\\notes, draft.txt"',
        rss_bytes=15360000,
        memory_usage_bytes=15360000,
        vsz_bytes=2199120211968,
        start_time=datetime(2020, 10, 10, 12, 34, 56, tzinfo=PLUS_TWO),
        start_time_precision=1.0,
        cpu_time_seconds=0.046875,
        threads=7,
        priority=8,
    )


def test_get_wmi_object_csv_has_cim_datetimes() -> None:
    raw = (
        "#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_Process\n"
        '"__GENUS","Name","ProcessId","CreationDate","ThreadCount"\n'
        '"2","lsass.exe","536","20201010075832.125000+120","9"\n'
    )
    [row] = parse_listing(raw, os_type="windows", command="x", observed_at=AT).rows
    assert row == ProcessRow(
        line_number=3,
        pid=536,
        process_name="lsass.exe",
        start_time=datetime(2020, 10, 10, 7, 58, 32, 125000, tzinfo=PLUS_TWO),
        start_time_precision=1e-06,
        threads=9,
    )


@pytest.mark.parametrize(
    ("printed", "start", "precision"),
    [
        ("10/10/2020 12:34:56 PM", datetime(2020, 10, 10, 12, 34, 56, tzinfo=PLUS_TWO), 1.0),
        ("10/10/2020 12:34:56", datetime(2020, 10, 10, 12, 34, 56, tzinfo=PLUS_TWO), 1.0),
        ("2020-10-10T12:34:56", datetime(2020, 10, 10, 12, 34, 56, tzinfo=PLUS_TWO), 1.0),
        (
            "2020-10-10T12:34:56.125+02:00",
            datetime(2020, 10, 10, 12, 34, 56, 125000, tzinfo=PLUS_TWO),
            0.001,
        ),
        # .NET's seven digits (100 ns ticks): the moment kept is to the microsecond, cut down.
        (
            "2020-10-10T10:34:56.1234567Z",
            datetime(2020, 10, 10, 12, 34, 56, 123456, tzinfo=PLUS_TWO),
            1e-06,
        ),
    ],
)
def test_start_time_precision_is_what_was_printed(
    printed: str, start: datetime, precision: float
) -> None:
    raw = f'"Id","Name","StartTime"\n"4","a","{printed}"\n"8","b",""\n'
    first, second = parse_get_process_csv(raw, AT)
    assert (first.start_time, first.start_time_precision) == (start, precision)
    assert (second.start_time, second.start_time_precision) == (None, None)


def test_multi_line_values_keep_the_record_s_first_line() -> None:
    raw = '"Id","Name","CommandLine"\r\n"4","a","x\r\ny"\r\n\r\n"8","b",\r\n'
    first, second = parse_get_process_csv(raw, AT)
    assert (first.line_number, first.command_line) == (2, "x\r\ny")
    assert (second.line_number, second.pid, second.command_line) == (5, 8, None)


def test_cpu_without_total_processor_time() -> None:
    raw = '"Id","Name","CPU","Threads"\n"4","a","1E-07","12"\n"8","b","0.5",""\n'
    first, second = parse_get_process_csv(raw, AT)
    assert (first.cpu_time_seconds, first.threads) == (1e-07, 12)
    assert (second.cpu_time_seconds, second.threads) == (0.5, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "^empty listing$"),
        ("#TYPE System.Diagnostics.Process\n", "^empty listing$"),
        ('"Name","Path"\n"a","b"', "^line 1: no Id column: "),
        ('"Id","Path"\n"4","b"', "^line 1: no ProcessName or Name column: "),
        ('"Id","Name","Id"\n', "^line 1: a column appears twice"),
        ('"Id","Name"\n"4"', "^line 2: expected 2 fields, found 1"),
        ('"Id","Name"\n"4","a"x', "^line 2: malformed CSV"),
        ('"Id","Name"\n"4","a\n', "^line 2: malformed CSV"),
        ('"Id","Name"\n"-4","a"', r"^line 2: Id: '-4' is not an integer"),
        ('"Id","Name"\n"4",""', "^line 2: ProcessName: empty"),
        ('"Id","Name","StartTime"\n"4","a","10.10.2020 12:00:00"', "^line 2: StartTime: "),
        ('"Id","Name","CPU"\n"4","a","1,5"', "^line 2: CPU: "),
        ('"Id","Name","TotalProcessorTime"\n"4","a","1:00"', "^line 2: TotalProcessorTime: "),
        ('"Id","Name","Threads"\n"4","a","many"', "^line 2: Threads: "),
        ('"Id","Name","WS"\n"4","a","1.5"', "^line 2: WS: "),
    ],
)
def test_refusals(raw: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_get_process_csv(raw, AT)


def test_win32_refusals() -> None:
    with pytest.raises(ParseError, match=r"^line 1: no ProcessId column"):
        parse_win32_process_csv('"Name","Handle"\n"a","4"', AT)
    with pytest.raises(ParseError, match=r"^line 2: CreationDate: "):
        parse_win32_process_csv('"Name","ProcessId","CreationDate"\n"a","4","yesterday"', AT)


def test_header_detection() -> None:
    assert is_get_process_csv_header("#TYPE System.Diagnostics.Process")
    assert is_get_process_csv_header("#TYPE Selected.System.Diagnostics.Process")
    assert is_get_process_csv_header('"Name","SI","Handles","VM","Id"')
    assert is_get_process_csv_header("Name,Id")
    assert not is_get_process_csv_header('"Image Name","PID","Session Name"')
    assert is_win32_process_csv_header(
        "#TYPE Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_Process"
    )
    assert is_win32_process_csv_header('"Name","Caption","ProcessId"')
    assert not is_win32_process_csv_header("Node,Name,ProcessId")
    assert not is_win32_process_csv_header('"Name","Id"')


@given(st.lists(PROCESSES, max_size=8), st.booleans())
def test_generated_csv_reads_back(processes: list[Process], type_line: bool) -> None:
    rows = parse_get_process_csv(get_process_csv(processes, type_line=type_line), AT)
    assert len(rows) == len(processes)
    for process, row in zip(processes, rows, strict=True):
        assert (row.pid, row.process_name, row.user) == (process.pid, process.name, process.user)
        assert row.command_line == process.command_line
        assert row.memory_usage_bytes == process.working_set
        assert row.vsz_bytes == process.virtual
        expected_cpu = None if process.cpu_ticks is None else process.cpu_ticks / 1e7
        assert row.cpu_time_seconds == pytest.approx(expected_cpu, abs=1e-7)
        if process.created is None:
            assert (row.start_time, row.start_time_precision) == (None, None)
        else:
            wall_clock = process.created.replace(microsecond=0, tzinfo=PLUS_TWO)
            # en-US dates are printed to the second.
            assert (row.start_time, row.start_time_precision) == (wall_clock, 1.0)
        assert row.threads is None


@given(st.text(max_size=3000))
def test_arbitrary_text_parses_or_raises_parse_error(raw: str) -> None:
    for parse in (parse_get_process_csv, parse_win32_process_csv):
        with contextlib.suppress(ParseError):
            parse(raw, AT)


@given(st.lists(st.text(st.sampled_from('",0123456789.:/ AMPabcE-\r'), max_size=60), max_size=6))
def test_headers_then_arbitrary_lines(lines: list[str]) -> None:
    body = "\n".join(lines)
    cases = (
        (parse_get_process_csv, '"Id","Name","CPU","StartTime","TotalProcessorTime","WS"\n'),
        (parse_win32_process_csv, '"ProcessId","Name","CreationDate","KernelModeTime"\n'),
    )
    for parse, header in cases:
        with contextlib.suppress(ParseError):
            parse(header + body, AT)
