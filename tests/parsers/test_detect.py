"""Choosing the parser by the header, and refusing listings of unknown formats."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers import parse_listing, parse_ps_aux
from parsers.bsd_ps import PS_AUX_HEADERS
from parsers.detect import SUPPORTED_FORMATS
from parsers.errors import ParseError
from tests.parsers.fixtures import read_fixture
from tests.parsers.strategies import LINES, SNAPSHOT_TIMES

OBSERVED_AT = datetime(2019, 11, 1, 12, 0, tzinfo=UTC)
PS_EF_HEADER = "UID        PID  PPID  C STIME TTY          TIME CMD"
# Windows qprocess, which no parser reads.
QPROCESS = (
    "\r\n"
    " USERNAME              SESSIONNAME         ID    PID  IMAGE\r\n"
    ">ann                   console              1   4711  explorer.exe\r\n"
)


@pytest.mark.parametrize(
    ("fixture", "os_type", "command"),
    [
        ("linux-centos-7.7/ps-axu.out", "linux", "ps axu"),
        ("linux-ubuntu-18.04/ps-axu.out", "linux", "ps aux"),
        ("macos-10.11.6/ps-axu.out", "macos", "ps auxww"),
    ],
)
def test_ps_aux_listings_go_to_the_ps_aux_parser(fixture: str, os_type: str, command: str) -> None:
    raw = read_fixture(fixture)
    rows = parse_listing(raw, os_type=os_type, command=command, observed_at=OBSERVED_AT).rows
    assert rows
    assert rows == parse_ps_aux(raw, OBSERVED_AT)


def test_the_header_decides_whatever_the_agent_says() -> None:
    raw = read_fixture("linux-ubuntu-18.04/ps-axu.out")
    rows = parse_listing(raw, os_type="windows", command="tasklist", observed_at=OBSERVED_AT).rows
    assert len(rows) == 172


def test_unknown_header_is_quoted_with_its_line_number() -> None:
    with pytest.raises(ParseError) as caught:
        parse_listing(QPROCESS, os_type="windows", command="qprocess", observed_at=OBSERVED_AT)
    header = " USERNAME              SESSIONNAME         ID    PID  IMAGE"
    assert (caught.value.line_number, caught.value.line) == (2, header)
    assert str(caught.value) == (
        "line 2: no supported listing format has this header (sent as os 'windows', command"
        f" 'qprocess'): {header!r}"
    )


def test_a_ps_listing_without_pids_is_unknown() -> None:
    # ps -o user,args: columns ps documents, but no PID to tell its processes apart.
    raw = "USER     COMMAND\nroot     /sbin/init\n"
    with pytest.raises(ParseError) as caught:
        parse_listing(raw, os_type="linux", command="ps -o user,args", observed_at=OBSERVED_AT)
    assert str(caught.value) == (
        "line 1: no supported listing format has this header (sent as os 'linux', command"
        " 'ps -o user,args'): 'USER     COMMAND'"
    )


def test_what_was_not_sent_is_not_named() -> None:
    with pytest.raises(ParseError) as caught:
        parse_listing("NAME\nx\n", os_type="linux", command="", observed_at=OBSERVED_AT)
    assert str(caught.value) == (
        "line 1: no supported listing format has this header (sent as os 'linux'): 'NAME'"
    )


def test_ps_elf_reads_as_a_column_list() -> None:
    # ADDR, SZ and WCHAN are skipped; F is skipped too, S is the state.
    raw = (
        "F S UID        PID  PPID  C PRI  NI ADDR SZ WCHAN  STIME TTY          TIME CMD\n"
        "4 S root         1     0  0  80   0 - 42108 -      Oct25 ?        00:00:03 /sbin/init\n"
    )
    listing = parse_listing(raw, os_type="linux", command="ps -elf", observed_at=OBSERVED_AT)
    assert listing.format == "ps -o"
    [row] = listing.rows
    assert (row.pid, row.ppid, row.user, row.process_name, row.status_raw, row.priority) == (
        1,
        0,
        "root",
        "init",
        "S",
        80,
    )


@pytest.mark.parametrize("raw", ["", "\r\n \n"])
def test_empty_input_is_refused(raw: str) -> None:
    with pytest.raises(ParseError, match=r"^empty listing$"):
        parse_listing(raw, os_type="linux", command="ps aux", observed_at=OBSERVED_AT)


def test_supported_formats() -> None:
    ps_aux = SUPPORTED_FORMATS[0]
    assert ps_aux.name == "ps aux"
    assert set(ps_aux.os_types) == {"linux", "macos", "freebsd", "openbsd", "netbsd"}
    assert set(ps_aux.commands) == {"ps aux", "ps axu", "ps auxww"}
    raw = read_fixture("macos-10.11.6/ps-axu.out")
    assert ps_aux.parse(raw, OBSERVED_AT).rows == parse_ps_aux(raw, OBSERVED_AT)
    assert ps_aux.matches_header(read_fixture("macos-10.11.6/ps-axu.out").split("\n")[0])
    assert ps_aux.matches_header(read_fixture("linux-centos-7.7/ps-axu.out").split("\n")[0])
    assert not ps_aux.matches_header(PS_EF_HEADER)
    assert not ps_aux.matches_header("USER PID %CPU %MEM VSZ RSS TTY STAT START TIME")


OS_TYPES = st.sampled_from(["linux", "macos", "freebsd", "windows", ""])


@given(raw=st.text(max_size=2000), os_type=OS_TYPES, observed_at=SNAPSHOT_TIMES)
def test_arbitrary_text_parses_or_raises_parse_error(
    raw: str, os_type: str, observed_at: datetime
) -> None:
    try:
        rows = parse_listing(raw, os_type=os_type, command="ps aux", observed_at=observed_at).rows
    except ParseError:
        return
    # Only a listing led by a supported header can get this far.
    header = next(line for line in raw.split("\n") if line.strip()).removesuffix("\r")
    assert any(listing_format.matches_header(header) for listing_format in SUPPORTED_FORMATS)
    assert all(row.start_time is None or row.start_time <= observed_at for row in rows)


@given(
    header=st.sampled_from([*(" ".join(header) for header in PS_AUX_HEADERS), PS_EF_HEADER]),
    lines=st.lists(LINES, max_size=20),
    observed_at=SNAPSHOT_TIMES,
)
def test_header_then_arbitrary_lines_parse_or_raise_parse_error(
    header: str, lines: list[str], observed_at: datetime
) -> None:
    try:
        rows = parse_listing(
            "\n".join([header, *lines]), os_type="linux", command="ps aux", observed_at=observed_at
        ).rows
    except ParseError:
        return
    assert all(row.start_time is None or row.start_time <= observed_at for row in rows)


def test_supported_formats_hold_every_family_in_detection_order() -> None:
    names = [listing_format.name for listing_format in SUPPORTED_FORMATS]
    assert len(names) == len(set(names))
    # One format of each family, in the order detection tries the families.
    leaders = ["ps aux", "ps -ef", "Get-Process table", "Get-Process csv", "Win32_Process list"]
    leaders += ["wmic process table", "tasklist", "tasklist csv", "top -b", "top -l", "top (BSD)"]
    assert [name for name in names if name in leaders] == leaders


def test_a_ps_listing_loads_no_parser_of_other_families() -> None:
    # A family is imported when detection first tries it: `procmon parse` of a ps listing, a
    # program compared with jc, then does not wait for the parsers of top or Windows.
    script = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from parsers import parse_listing\n"
        f"raw = {read_fixture('linux-local/ps-ef.out')!r}\n"
        "listing = parse_listing(raw, os_type='linux', command='ps -ef',"
        " observed_at=datetime(2026, 11, 28, tzinfo=UTC))\n"
        "assert listing.format == 'ps -ef', listing.format\n"
        "print(' '.join(module for module in sys.modules if module.startswith('parsers.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert {"parsers.bsd_ps", "parsers.ps_ef"} <= loaded
    others = {"powershell", "powershell_csv", "powershell_list", "wmic", "tasklist", "top_linux"}
    others |= {"tasklist_records", "top_macos", "top_bsd"}
    assert not loaded & {f"parsers.{family}" for family in others}
