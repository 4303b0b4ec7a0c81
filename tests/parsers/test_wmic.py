"""``wmic process get``: its table, ``/format:list`` and ``/format:csv``, captured and generated."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.rows import ProcessRow
from parsers.wmic import parse_wmic_csv, parse_wmic_list, parse_wmic_table
from tests.parsers.fixtures import read_fixture
from tests.parsers.windows_render import PROCESSES, Process, wmic_list, wmic_table

PLUS_TWO = timezone(timedelta(hours=2))
AT = datetime(2020, 10, 10, 13, 0, tzinfo=PLUS_TWO)


def test_win7_table() -> None:
    raw = read_fixture("windows/win7-wmic-path-win32_process-get-name-pid-ppid-cmdline.out")
    rows = parse_wmic_table(raw, AT)
    assert len(rows) == 49
    assert [row.line_number for row in rows] == list(range(2, 51))
    assert rows[0] == ProcessRow(line_number=2, pid=0, process_name="System Idle Process", ppid=0)
    by_line = {row.line_number: row for row in rows}
    assert by_line[21] == ProcessRow(
        line_number=21,
        pid=1436,
        process_name="taskhost.exe",
        ppid=520,
        command_line='"taskhost.exe"',
    )
    # The widest command line: it sets the column's width, two spaces before Name.
    assert by_line[47] == ProcessRow(
        line_number=47,
        pid=2988,
        process_name="powershell.exe",
        ppid=2372,
        command_line=(
            r'"C:\Windows\System32\WindowsPowerShell\v1.0\Powershell.exe" -NoExit '
            r"-ExecutionPolicy Unrestricted -File "
            r'"C:\Users\yibn\AppData\Local\GitHub\PoshGit_869d4c5159797755bc04749db47b166136e59132'
            r'\profile.example.ps1"'
        ),
    )
    assert by_line[50].command_line == (
        r'"C:\Program Files\Sublime Text 2\sublime_text.exe" '
        r'"C:\Users\yibn\Documents\GitHub\workbench\x.txt"'
    )


def test_vscode_format_list() -> None:
    listing = parse_listing(
        read_fixture("windows/wmic-process-get-format-list-vscode-python-test.out"),
        os_type="windows",
        command="wmic process get Name,ProcessId,CommandLine /format:list",
        observed_at=AT,
    )
    assert listing.format == "wmic process list"
    assert [row.line_number for row in listing.rows] == [2, 7, 12, 17, 22]
    assert listing.rows[0] == ProcessRow(line_number=2, pid=4, process_name="System")
    assert listing.rows[2] == ProcessRow(
        line_number=12, pid=5728, process_name="sihost.exe", command_line="sihost.exe"
    )
    assert listing.rows[4] == ProcessRow(
        line_number=22,
        pid=6028,
        process_name="python.exe",
        command_line=(
            r"C:\Users\Contoso\AppData\Local\Programs\Python\Python37\python.exe "
            "c:/Users/Contoso/Documents/hello_world.py"
        ),
    )


def test_hand_made_format_csv() -> None:
    raw = read_fixture("windows/win10-wmic-process-get-format-csv-handmade.out")
    rows = parse_listing(raw, os_type="windows", command="wmic", observed_at=AT).rows
    assert len(rows) == 4
    assert rows[0] == ProcessRow(
        line_number=3,
        pid=0,
        process_name="System Idle Process",
        ppid=0,
        rss_bytes=8192,
        memory_usage_bytes=8192,
        vsz_bytes=8192,
        cpu_time_seconds=271.875,
        threads=8,
    )
    # The command line's comma split it: it takes its fields back.
    assert rows[2] == ProcessRow(
        line_number=5,
        pid=9120,
        process_name="notepad.exe",
        ppid=5432,
        command_line=r'"C:\WINDOWS\system32\notepad.exe" "C:\Users\ann\notes, draft.txt"',
        rss_bytes=15360000,
        memory_usage_bytes=15360000,
        vsz_bytes=2199120211968,
        start_time=datetime(2020, 10, 10, 12, 34, 56, 123456, tzinfo=PLUS_TWO),
        start_time_precision=1e-06,
        cpu_time_seconds=0.046875,
        threads=7,
    )
    # UTC-5 in the CIM datetime, given in the snapshot's zone.
    assert rows[3].start_time == datetime(2020, 10, 9, 4, 58, 42, tzinfo=UTC)
    assert rows[3].start_time_precision == 1e-06
    assert rows[3].cpu_time_seconds == 375.0


TABLE_HEADER = "Name          ProcessId  "


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "^empty listing$"),
        ("Name  Handle  \r\r\nx.exe  4  ", "^line 1: no ProcessId column"),
        ("ProcessId  Handle  \r\r\n4  4  ", "^line 1: no Name or Caption column"),
        ("Name  ProcessId  Name  \n", "^line 1: a column appears twice"),
        (TABLE_HEADER + "\nsome.long.name.exe4  ", "^line 2: value runs across"),
        (TABLE_HEADER + "\nx.exe         -4", r"^line 2: ProcessId: '-4' is not an integer"),
        (TABLE_HEADER + "\n              4", "^line 2: Name: empty"),
        ("Name=x.exe\nProcessId=4\nBogus=1", "^line 3: not a Property=value line"),
        ("Name=x.exe\nProcessId=4\nName=y", "^line 3: property repeated"),
        ("Name=x.exe\n\nProcessId=4", "^line 1: record with no ProcessId column"),
        ("Name=x.exe\nProcessId=4\nThreadCount=many", "^line 1: ThreadCount: "),
        ("Node,Name,ProcessId\nPC,x.exe", "^line 2: expected 3 fields, found 2"),
        ("Node,Name,ProcessId\nPC,x,y.exe,4", "^line 2: expected 3 fields, found 4"),
        ("Node,Name,Name\n", "^line 1: no ProcessId"),
        (
            "Node,CommandLine,ExecutablePath,Name,ProcessId\nPC,a,b,c,d.exe,4",
            "^line 2: expected 5 fields, found 6",
        ),
        ("Node,CreationDate,Name,ProcessId\nPC,10.10.2020,x.exe,4", "^line 2: CreationDate: "),
    ],
)
def test_refusals(raw: str, message: str) -> None:
    parse = parse_wmic_list
    if raw.startswith("Node"):
        parse = parse_wmic_csv
    elif raw.startswith(("Name ", "ProcessId ")):
        parse = parse_wmic_table
    with pytest.raises(ParseError, match=message):
        parse(raw, AT)


def test_a_header_not_of_its_format_is_refused() -> None:
    for parse in (parse_wmic_table, parse_wmic_list, parse_wmic_csv):
        with pytest.raises(ParseError, match=r"^line 2: not a"):
            parse("\n Image Name   PID\n", AT)


def check_rows(processes: list[Process], rows: list[ProcessRow]) -> None:
    """Each row says exactly what wmic printed of its process."""
    assert len(rows) == len(processes)
    for process, row in zip(processes, rows, strict=True):
        assert row.pid == process.pid
        assert row.ppid == process.ppid
        assert row.process_name == process.name + ".exe"
        assert row.command_line == process.command_line
        assert row.memory_usage_bytes == process.working_set
        assert row.vsz_bytes == process.virtual
        assert row.threads == process.threads
        assert row.priority == process.priority
        assert row.cpu_time_seconds == (process.kernel_ticks + (process.cpu_ticks or 0)) / 1e7
        assert row.start_time == process.created
        if row.start_time is None:
            assert row.start_time_precision is None
        else:
            assert row.start_time.utcoffset() == AT.utcoffset()
            # A CIM datetime is printed to the microsecond.
            assert row.start_time_precision == 1e-06


@given(st.lists(PROCESSES, max_size=8))
def test_generated_tables_read_back(processes: list[Process]) -> None:
    check_rows(processes, parse_wmic_table(wmic_table(processes), AT))


@given(st.lists(PROCESSES, min_size=1, max_size=8))
def test_generated_lists_read_back(processes: list[Process]) -> None:
    check_rows(processes, parse_wmic_list(wmic_list(processes), AT))


@given(st.text(max_size=3000))
def test_arbitrary_text_parses_or_raises_parse_error(raw: str) -> None:
    for parse in (parse_wmic_table, parse_wmic_list, parse_wmic_csv):
        with contextlib.suppress(ParseError):
            parse(raw, AT)


_LINE_CHARS = st.sampled_from(" =,.+-0123456789abcxe\r")


@given(st.lists(st.text(_LINE_CHARS, max_size=60), max_size=6))
def test_headers_then_arbitrary_lines(lines: list[str]) -> None:
    body = "".join(line + "\r\r\n" for line in lines)
    cases = (
        (parse_wmic_table, "CreationDate  KernelModeTime  Name  ProcessId  \r\r\n" + body),
        (parse_wmic_list, "Name=a.exe\r\r\nProcessId=1\r\r\n" + body),
        (parse_wmic_csv, "Node,CommandLine,CreationDate,Name,ProcessId\r\r\n" + body),
    )
    for parse, raw in cases:
        with contextlib.suppress(ParseError):
            parse(raw, AT)
