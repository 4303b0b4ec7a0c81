"""PowerShell ``Get-Process`` tables: documented captures, hand-made rows, generated tables."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.powershell import is_get_process_header, parse_get_process
from parsers.rows import ProcessRow
from tests.parsers.fixtures import read_fixture
from tests.parsers.windows_render import (
    CULTURES,
    GET_PROCESS_VIEWS,
    PROCESSES,
    Culture,
    Process,
    get_process_table,
)

AT = datetime(2020, 10, 10, 12, 0, tzinfo=UTC)
KIB, MIB = 1024, 1024 * 1024
PS51_HEADER = "Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName"
PS51_RULER = "-------  ------    -----      -----     ------     --  -- -----------"
USER_HEADER = "Handles      WS(K)   CPU(s)     Id UserName            ProcessName"
USER_RULER = "-------      -----   ------     -- --------            -----------"


def table(*rows: str, header: str = PS51_HEADER, ruler: str = PS51_RULER) -> str:
    """A 5.1 table of the given rows, with CRLF endings and PowerShell's blank lines."""
    return "\r\n".join(["", header, ruler, *rows, "", ""])


def test_ps51_default_table() -> None:
    rows = parse_get_process(read_fixture("windows/ps51-Get-Process-default-table.out"), AT)
    assert rows == [
        ProcessRow(
            line_number=3,
            pid=2604,
            process_name="powershell",
            rss_bytes=40740 * KIB,
            memory_usage_bytes=40740 * KIB,
            cpu_time_seconds=6.48,
        ),
        # The doc's own row, name cut as printed.
        ProcessRow(
            line_number=4,
            pid=3576,
            process_name="powershel",
            rss_bytes=24372 * KIB,
            memory_usage_bytes=24372 * KIB,
            cpu_time_seconds=23.53,
        ),
    ]


def test_ps3_table_whose_indentation_was_lost() -> None:
    rows = parse_get_process(read_fixture("windows/ps3-Get-Process-default-table.out"), AT)
    assert rows == [
        ProcessRow(
            line_number=3,
            pid=5632,
            process_name="powershell",
            rss_bytes=61780 * KIB,
            memory_usage_bytes=61780 * KIB,
            vsz_bytes=567 * MIB,
            cpu_time_seconds=3.18,
        ),
        # The documentation ran this row into the next prompt: read as the name, all of it.
        ProcessRow(
            line_number=4,
            pid=5888,
            process_name=r"powershell PS C:\>get-process -id $pid",
            rss_bytes=63384 * KIB,
            memory_usage_bytes=63384 * KIB,
            vsz_bytes=575 * MIB,
            cpu_time_seconds=3.88,
        ),
    ]


def test_ps5_vm_overflow_and_blank_cpu() -> None:
    rows = parse_get_process(read_fixture("windows/ps5-Get-Process-VM-overflow-ellipsis.out"), AT)
    assert len(rows) == 3
    assert rows[0] == ProcessRow(
        line_number=3,
        pid=3128,
        process_name="dns",
        rss_bytes=461596 * KIB,
        memory_usage_bytes=461596 * KIB,
        truncated_fields=("vsz_bytes",),
    )
    assert rows[2] == ProcessRow(
        line_number=5,
        pid=7180,
        process_name="ServerManager",
        rss_bytes=89572 * KIB,
        memory_usage_bytes=89572 * KIB,
        vsz_bytes=840 * MIB,
    )


def test_ps51_include_user_name() -> None:
    rows = parse_get_process(read_fixture("windows/ps51-Get-Process-IncludeUserName.out"), AT)
    assert rows == [
        ProcessRow(
            line_number=3,
            pid=2188,
            process_name="powershell",
            user="DOMAIN01\\user01",
            rss_bytes=132080 * KIB,
            memory_usage_bytes=132080 * KIB,
            cpu_time_seconds=2.08,
        )
    ]


def test_ps7_table_in_mib() -> None:
    listing = parse_listing(
        read_fixture("windows/ps7-Get-Process-default-table.out"),
        os_type="windows",
        command="Get-Process",
        observed_at=AT,
    )
    assert listing.format == "Get-Process table"
    assert listing.rows == [
        # 105.95 MiB is 111,096,627.2 bytes.
        ProcessRow(
            line_number=3,
            pid=1192,
            process_name="pwsh",
            rss_bytes=111_096_627,
            memory_usage_bytes=111_096_627,
            cpu_time_seconds=4.33,
        ),
        # 117.61 MiB is 123,323,023.36 bytes.
        ProcessRow(
            line_number=4,
            pid=10580,
            process_name="pwsh",
            rss_bytes=123_323_023,
            memory_usage_bytes=123_323_023,
            cpu_time_seconds=2.16,
        ),
    ]


def user_row(handles: str, ws: str, cpu: str, pid: str, user: str, name: str) -> str:
    """A row of the 5.1 ``-IncludeUserName`` view, in its column widths."""
    return f"{handles:>7} {ws:>10} {cpu:>8} {pid:>6} {user:<19} {name}"


def test_user_names_with_spaces_blank_and_cut() -> None:
    raw = table(
        user_row("812", "14208", "0.50", "944", "NT AUTHORITY\\LOC...", "svchost host"),
        user_row("35", "1024", "", "4", "", "System"),
        user_row("1331", "61204", "1,234.56", "7788", "CONTOSO\\ann", "explorer"),
        header=USER_HEADER,
        ruler=USER_RULER,
    )
    first, second, third = parse_get_process(raw, AT)
    assert first == ProcessRow(
        line_number=4,
        pid=944,
        process_name="svchost host",
        user="NT AUTHORITY\\LOC...",
        rss_bytes=14208 * KIB,
        memory_usage_bytes=14208 * KIB,
        cpu_time_seconds=0.5,
        truncated_fields=("user",),
    )
    assert (second.user, second.cpu_time_seconds, second.pid) == (None, None, 4)
    assert (third.user, third.cpu_time_seconds) == ("CONTOSO\\ann", 1234.56)


def test_a_user_name_wider_than_its_column_is_not_format_table_output() -> None:
    long_user = user_row("812", "14208", "0.50", "944", "NT AUTHORITY\\LOCAL SERVICE", "svchost")
    with pytest.raises(ParseError, match="line 4: row not aligned"):
        parse_get_process(table(long_user, header=USER_HEADER, ruler=USER_RULER), AT)


@pytest.mark.parametrize(
    ("cpu", "seconds"),
    [
        ("1,234.56", 1234.56),
        ("1.234,56", 1234.56),
        ("1\u202f234,56", 1234.56),
        ("1\u00a0234,56", 1234.56),
        ("1'234.56", 1234.56),
        ("0,50", 0.5),
        ("12", 12.0),
    ],
)
def test_cpu_in_any_culture(cpu: str, seconds: float) -> None:
    [row] = parse_get_process(
        table(f"    561      44    47564      40740 {cpu:>10}   2604   1 a"), AT
    )
    assert row.cpu_time_seconds == seconds


@pytest.mark.parametrize("cpu", ["1,234", "1.234", "1,234,56", "1,23.45", "-1.00", "1.2.3,45"])
def test_ambiguous_or_broken_cpu_is_refused(cpu: str) -> None:
    with pytest.raises(ParseError, match=r"^line 4: CPU\(s\): "):
        parse_get_process(table(f"    561      44    47564      40740 {cpu:>10}   2604   1 a"), AT)


def test_ellipsis_in_pid_or_other_columns() -> None:
    with pytest.raises(ParseError, match="line 4: Id: cut short"):
        parse_get_process(table("    561      44    47564      40740       6.48 ...604   1 a"), AT)
    [row] = parse_get_process(
        table("    561      44 ...47564      40740       6.48   2604   1 a"), AT
    )
    assert row.truncated_fields == ()
    assert row.memory_usage_bytes == 40740 * KIB


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "^empty listing$"),
        (PS51_HEADER, "^line 1: expected the ruler"),
        (PS51_HEADER + "\n" + "    561 ...", "^line 2: expected the ruler"),
        ("Handles Id Id ProcessName\n------- -- -- -----------", "^line 1: unexpected"),
        ("ProcessName Id\n----------- --", "^line 1: not a Get-Process header"),
        (table("    561      44    47564      40740       6.48   2604   1 "), "ProcessName: empty"),
        (table("    561      44    47564      40740       6.48   2604"), "ProcessName: empty"),
        (table("    561      44    47564      40740       6.48   26x4   1 a"), "line 4: Id: "),
        (table("    561      44    47564      40740       6.48          1 a"), "line 4: Id: empty"),
        (
            table("    561      44    47564      4074x       6.48   2604   1 a"),
            r"line 4: WS\(K\): ",
        ),
        (table("561 44 47564 6.48 2604 1"), "line 4: row not aligned"),
    ],
)
def test_refusals(raw: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_get_process(raw, AT)


def test_a_blank_cpu_does_not_shift_a_numeric_name_into_the_numbers() -> None:
    [row] = parse_get_process(
        table("      0       0        0          0                 4   1 7"), AT
    )
    assert row == ProcessRow(
        line_number=4, pid=4, process_name="7", rss_bytes=0, memory_usage_bytes=0
    )


def test_a_shifted_row_with_every_number_is_read_word_by_word() -> None:
    [row] = parse_get_process(
        table("    561      44    47564    40740       6.48   2604   1 a b"), AT
    )
    assert (row.pid, row.process_name, row.memory_usage_bytes) == (2604, "a b", 40740 * KIB)


def test_header_and_ruler_only() -> None:
    assert parse_get_process(table(), AT) == []


def test_naive_snapshot_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_get_process(table(), datetime(2020, 1, 1))


def test_header_detection() -> None:
    assert is_get_process_header(PS51_HEADER)
    assert is_get_process_header(" NPM(K)    PM(M)      WS(M)     CPU(s)      Id  SI ProcessName")
    assert not is_get_process_header("Id ProcessName Handles")
    assert not is_get_process_header("USER PID %CPU ProcessName")


_FIELDS = {"WS": "memory_usage_bytes", "VM": "vsz_bytes", "CPU": "cpu_time_seconds"}


@given(
    st.lists(PROCESSES, max_size=8),
    st.integers(0, len(GET_PROCESS_VIEWS) - 1),
    st.sampled_from(CULTURES),
)
def test_generated_tables_read_back(
    processes: list[Process], view_index: int, culture: Culture
) -> None:
    raw, _ = get_process_table(processes, view_index, culture)
    rows = parse_get_process(raw, AT)
    labels = [label for label, _ in GET_PROCESS_VIEWS[view_index].columns]
    for process, row in zip(processes, rows, strict=True):
        _, cut = get_process_table([process], view_index, culture)
        assert row.pid == process.pid
        assert row.process_name == process.name
        expected_cut = tuple(
            _FIELDS[label.split("(")[0]] if label != "UserName" else "user"
            for label in cut
            if label.split("(")[0] in _FIELDS or label == "UserName"
        )
        assert row.truncated_fields == expected_cut
        ws_label = next(label for label in labels if label.startswith("WS"))
        if "memory_usage_bytes" not in expected_cut:
            tolerance = KIB / 2 if ws_label == "WS(K)" else MIB / 200 + 1
            assert row.memory_usage_bytes is not None
            assert abs(row.memory_usage_bytes - process.working_set) <= tolerance
        if "VM(M)" in labels and "vsz_bytes" not in expected_cut:
            assert row.vsz_bytes is not None
            assert abs(row.vsz_bytes - process.virtual) <= MIB / 2
        elif "VM(M)" not in labels:
            assert row.vsz_bytes is None
        if process.cpu_ticks is None:
            assert row.cpu_time_seconds is None
        elif "cpu_time_seconds" not in expected_cut:
            assert row.cpu_time_seconds is not None
            assert abs(row.cpu_time_seconds - process.cpu_ticks / 1e7) <= 0.005 + 1e-9
        if view_index == 2 and "user" not in expected_cut:
            assert row.user == process.user


@given(st.text(max_size=3000))
def test_arbitrary_text_parses_or_raises_parse_error(raw: str) -> None:
    with contextlib.suppress(ParseError):
        parse_get_process(raw, AT)


@given(st.lists(st.text(st.sampled_from(" 0123456789.,…-abcDOMAIN\\"), max_size=90), max_size=6))
def test_header_then_arbitrary_lines(lines: list[str]) -> None:
    for header, ruler in ((PS51_HEADER, PS51_RULER), (USER_HEADER, USER_RULER)):
        with contextlib.suppress(ParseError):
            parse_get_process(table(*lines, header=header, ruler=ruler), AT)
