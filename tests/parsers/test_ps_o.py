"""``ps -o`` column lists: fixtures checked by hand, each column's forms, rendering round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parsers import parse_listing
from parsers.errors import ParseError
from parsers.ps_ef import is_ps_o_header, parse_ps_o
from parsers.rows import ProcessRow, ProcessStatus
from tests.parsers.fixtures import read_fixture

LOCAL = "linux-local/ps-eo-pid-ppid-user-lstart-etime-nlwp-ni-pri-stat-rss-vsz-comm-args.out"
# tests/fixtures/SOURCES.md: captured at 2026-11-28 13:43:31 UTC, with TZ=UTC.
LOCAL_AT = datetime(2026, 11, 28, 13, 43, 31, tzinfo=UTC)
OBSERVED_AT = datetime(2021, 10, 26, 12, 0, tzinfo=UTC)


def by_line(rows: list[ProcessRow]) -> dict[int, ProcessRow]:
    """The rows keyed by the line they were read from."""
    return {row.line_number: row for row in rows}


def test_macos_ps_ax_ww_o_pid_ppid_uid_gid_args() -> None:
    raw = read_fixture("macos/osx-ps-ax-ww-o-pid-ppid-uid-gid-args.out")
    rows = parse_listing(raw, os_type="macos", command="ps", observed_at=OBSERVED_AT).rows
    assert len(rows) == 12
    chosen = by_line(rows)
    assert chosen[2] == ProcessRow(
        line_number=2, pid=1, process_name="launchd", ppid=0, user="0", command_line="/sbin/launchd"
    )
    assert chosen[4] == ProcessRow(
        line_number=4,
        pid=45,
        process_name="UserEventAgent",
        ppid=1,
        user="0",
        command_line="/usr/libexec/UserEventAgent (System)",
    )
    assert chosen[8] == ProcessRow(
        line_number=8,
        pid=53,
        process_name="appleeventsd",
        ppid=1,
        user="55",
        command_line="/System/Library/CoreServices/appleeventsd --server",
    )


def test_local_procps_lstart_etime_comm_and_args() -> None:
    listing = parse_listing(
        read_fixture(LOCAL), os_type="linux", command="ps -eo", observed_at=LOCAL_AT
    )
    assert listing.format == "ps -o"
    assert len(listing.rows) == 90
    chosen = by_line(listing.rows)
    # A real-time thread: procps prints "-" for its nice value.
    assert chosen[17] == ProcessRow(
        line_number=17,
        pid=18,
        process_name="migration/0",
        ppid=2,
        user="root",
        command_line="[migration/0]",
        rss_bytes=0,
        vsz_bytes=0,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        start_time=datetime(2026, 11, 28, 11, 15, 18, tzinfo=UTC),
        start_time_precision=1.0,
        threads=1,
        nice=None,
        priority=139,
    )
    assert chosen[60] == ProcessRow(
        line_number=60,
        pid=2195,
        process_name="postgres",
        ppid=2190,
        user="postgres",
        command_line="postgres: 15/main: logical replication launcher",
        rss_bytes=8952 * 1024,
        vsz_bytes=218684 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Ss",
        start_time=datetime(2026, 11, 28, 11, 15, 50, tzinfo=UTC),
        start_time_precision=1.0,
        threads=1,
        nice=0,
        priority=19,
    )
    # VSZ overflows its column; procps takes the room back before COMMAND.
    assert chosen[71] == ProcessRow(
        line_number=71,
        pid=3776,
        process_name="mariadbd",
        ppid=1,
        user="mysql",
        command_line="/usr/sbin/mariadbd",
        rss_bytes=102796 * 1024,
        vsz_bytes=8591078640 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Sl",
        start_time=datetime(2026, 11, 28, 11, 16, 20, tzinfo=UTC),
        start_time_precision=1.0,
        threads=9,
        nice=0,
        priority=19,
    )
    assert chosen[37].nice == -20
    assert chosen[37].process_name == "kworker/R-blkcg"
    assert chosen[64].truncated_fields == ("user",)


@pytest.mark.parametrize(
    ("header", "line", "expected"),
    [
        # procps start: a space inside the value for processes of another day.
        (
            "  PID  STARTED CMD",
            "    7   Oct 25 /sbin/init",
            {"start_time": datetime(2021, 10, 25, tzinfo=UTC), "start_time_precision": 86400.0},
        ),
        (
            "  PID  STARTED CMD",
            "    7 10:11:12 /sbin/init",
            {
                "start_time": datetime(2021, 10, 26, 10, 11, 12, tzinfo=UTC),
                "start_time_precision": 1.0,
            },
        ),
        # etimes: seconds; without STARTED it gives the start.
        (
            "  PID ELAPSED CMD",
            "    7    3600 /sbin/init",
            {"start_time": datetime(2021, 10, 26, 11, 0, tzinfo=UTC), "start_time_precision": 1.0},
        ),
        (
            "  PID     ELAPSED CMD",
            "    7  1-01:00:00 x",
            {"start_time": datetime(2021, 10, 25, 11, 0, tzinfo=UTC), "start_time_precision": 1.0},
        ),
        (
            "  PID START  ELAPSED CMD",
            "    7 11:58    01:30 x",
            {
                "start_time": datetime(2021, 10, 26, 11, 58, 30, tzinfo=UTC),
                "start_time_precision": 1.0,
            },
        ),
        (
            "  PID %CPU %MEM S   TT CMD",
            "    7 12.5  1.0 Z   ?? x",
            {
                "cpu_percent": 12.5,
                "memory_percent": 1.0,
                "status": ProcessStatus.ZOMBIE,
                "status_raw": "Z",
                "tty": None,
            },
        ),
        (
            "  PID  PGID   GID RUSER    THCNT CMD",
            "    7     7  1000 kelly        3 x",
            {"user": "kelly", "threads": 3},
        ),
        ("USER     RUSER      PID CMD", "root     kelly        7 x", {"user": "root"}),
        (
            "  PID  NI PRI     TIME CMD",
            "    7 -10  -2 01:02:03 x",
            {"nice": -10, "priority": -2, "cpu_time_seconds": 3723.0},
        ),
        # BSD comm: the executable's path, its base name kept.
        (
            "  PID COMM                           ARGS",
            "    7 /Applications/My App.app/MyApp /Applications/My App.app/MyApp -psn",
            {"process_name": "MyApp", "command_line": "/Applications/My App.app/MyApp -psn"},
        ),
        # procps comm, with spaces, before other columns and args.
        (
            "  PID COMMAND           PID COMMAND",
            "    7 my prog (test)      7 /opt/my prog (test) 100",
            {"process_name": "my prog (test)", "command_line": "/opt/my prog (test) 100"},
        ),
        # A lone COMMAND is read as args, even where it was procps comm.
        (
            "COMMAND           PID USER",
            "my prog (test)      7 root",
            {"process_name": "my", "command_line": "my prog (test)", "user": "root"},
        ),
        ("  PID COMM", "    7 (sd-pam)", {"process_name": "(sd-pam)", "command_line": None}),
        # procps bsdstart: "Oct 25" too, under START.
        (
            "  PID  START CMD",
            "    7 Oct 25 x",
            {"start_time": datetime(2021, 10, 25, tzinfo=UTC), "start_time_precision": 86400.0},
        ),
        # lstart pads the day with a space.
        (
            "  PID                  STARTED CMD",
            "    7 Tue Oct  5 10:11:12 2021 x",
            {
                "start_time": datetime(2021, 10, 5, 10, 11, 12, tzinfo=UTC),
                "start_time_precision": 1.0,
            },
        ),
        # procps cputimes: seconds, under TIME.
        ("  PID     TIME CMD", "    7     3723 x", {"cpu_time_seconds": 3723.0}),
        # Columns no field takes, with procps' "-" and FreeBSD's EMUL of two words.
        (
            "  PID  PGID WCHAN  TPGID LABEL EMUL          COMMAND",
            "    7     7 -         -1 -     FreeBSD ELF64 /sbin/init",
            {"process_name": "init", "command_line": "/sbin/init", "ppid": None},
        ),
        # procps ucmd,cmd: CMD twice, the first the bare name.
        (
            "  PID CMD             CMD",
            "    7 my prog (test)  /opt/my prog (test) 100",
            {"process_name": "my prog (test)", "command_line": "/opt/my prog (test) 100"},
        ),
    ],
)
def test_column_forms(header: str, line: str, expected: dict[str, object]) -> None:
    [row] = parse_ps_o(f"{header}\n{line}\n", OBSERVED_AT)
    assert row.pid == 7
    assert {name: getattr(row, name) for name in expected} == expected


@pytest.mark.parametrize(
    "header",
    [
        "  UID COMMAND",  # no PID
        "  PID WHATEVER COMMAND",  # a word no ps documents
        "  PID USER PR NI VIRT RES SHR S %CPU %MEM TIME+ COMMAND",  # top's columns
        " USERNAME              SESSIONNAME         ID    PID  IMAGE",  # Windows qprocess
        "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND",  # ps aux's own
        "UID PID PPID C STIME TTY TIME CMD",  # ps -ef's own
    ],
)
def test_headers_not_read_as_ps_o(header: str) -> None:
    assert not is_ps_o_header(header)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("  PID   UID", "no command or name column (COMMAND, ARGS, CMD, COMM or UCOMM)"),
        ("  PID COMM COMM ARGS", "COMM: a second column of text before the last one"),
        ("  PID COMM STARTED ARGS", "STARTED: a start column after the text column COMM"),
        ("  PID EXE COMM ARGS", "COMM: a second column of text before the last one"),
    ],
)
def test_ps_headers_whose_lines_cannot_be_read_are_refused_naming_why(
    header: str, problem: str
) -> None:
    raw = f"\n{header}\n    7 x y z\n"
    with pytest.raises(ParseError) as caught:
        parse_listing(raw, os_type="linux", command="ps -eo", observed_at=OBSERVED_AT)
    assert (caught.value.line_number, caught.value.line) == (2, header)
    assert caught.value.message == f"ps -o header: {problem}"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("    x     1 root Tue Oct 26 10:11:12 2021 a", "PID: 'x' is not an integer"),
        ("    7     1 root Tue Oct 26 10:11:12 2021", "expected 5 columns, found 4"),
        (
            "    7     1 root Mon Oct 26 10:11:12 2021 a",
            "STARTED: start time 'Mon Oct 26 10:11:12 2021': wrong weekday",
        ),
        (
            "    7     1 root Tue Oct 26 13:11:12 2021 a",
            "STARTED: start time 'Tue Oct 26 13:11:12 2021': after the snapshot",
        ),
        ("    7     1 root Tue Oct 26 a", "expected 5 columns, found 4"),
    ],
)
def test_bad_lines_name_line_and_column(line: str, problem: str) -> None:
    raw = f"  PID  PPID USER                  STARTED ARGS\n{line}\n"
    with pytest.raises(ParseError) as caught:
        parse_ps_o(raw, OBSERVED_AT)
    assert (caught.value.line_number, caught.value.line) == (2, line)
    assert caught.value.message.startswith(problem)


def test_a_middle_text_column_overflowing_the_last_is_refused() -> None:
    raw = "  PID COMMAND         COMMAND\n    7 a-name-longer-than-its-column x\n"
    with pytest.raises(ParseError, match="COMMAND does not begin under its header"):
        parse_ps_o(raw, OBSERVED_AT)


def test_elapsed_start_far_in_the_past_is_refused() -> None:
    early = datetime(1, 1, 2, tzinfo=UTC) + timedelta(hours=1)
    with pytest.raises(ParseError, match="ELAPSED: elapsed time"):
        parse_ps_o("PID ELAPSED CMD\n7 99999-00:00:00 x\n", early)
