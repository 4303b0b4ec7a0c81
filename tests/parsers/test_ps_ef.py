"""``ps -ef`` listings of procps (CentOS, Ubuntu, this machine) and macOS, rows checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers import parse_listing
from parsers.errors import ParseError
from parsers.ps_ef import FORMATS, parse_ps_ef
from parsers.rows import ProcessRow
from tests.parsers.fixtures import read_fixture
from tests.parsers.strategies import LINES, SNAPSHOT_TIMES

PACIFIC = timezone(timedelta(hours=-7))
CENTOS_AT = datetime(2019, 11, 1, 10, 26, tzinfo=UTC)
UBUNTU_AT = datetime(2019, 10, 28, 19, 44, tzinfo=UTC)
MACOS_AT = datetime(2019, 11, 1, 10, 12, tzinfo=PACIFIC)
# tests/fixtures/SOURCES.md: captured at 2026-11-28 13:43:31 UTC, with TZ=UTC.
LOCAL_AT = datetime(2026, 11, 28, 13, 43, 31, tzinfo=UTC)
HEADER = "UID        PID  PPID  C STIME TTY          TIME CMD"


def by_line(rows: list[ProcessRow]) -> dict[int, ProcessRow]:
    """The rows keyed by the line they were read from."""
    return {row.line_number: row for row in rows}


def test_centos_7_7() -> None:
    rows = parse_ps_ef(read_fixture("linux-centos-7.7/ps-ef.out"), CENTOS_AT)
    assert len(rows) == 109
    chosen = by_line(rows)
    assert chosen[2] == ProcessRow(
        line_number=2,
        pid=1,
        process_name="systemd",
        ppid=0,
        user="root",
        command_line="/usr/lib/systemd/systemd --switched-root --system --deserialize 22",
        cpu_percent=0.0,
        start_time=datetime(2019, 10, 25, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=3.0,
    )
    assert chosen[100] == ProcessRow(
        line_number=100,
        pid=4318,
        process_name="sshd",
        ppid=4314,
        user="kbrazil",
        command_line="sshd: kbrazil@pts/0",
        cpu_percent=0.0,
        start_time=datetime(2019, 11, 1, 9, 53, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=0.0,
    )
    assert chosen[102] == ProcessRow(
        line_number=102,
        pid=4587,
        process_name="kworker/0:2",
        ppid=2,
        user="root",
        command_line="[kworker/0:2]",
        cpu_percent=0.0,
        start_time=datetime(2019, 11, 1, 10, 1, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=1.0,
    )


def test_ubuntu_18_04_flags_the_user_procps_cut() -> None:
    rows = parse_ps_ef(read_fixture("linux-ubuntu-18.04/ps-ef.out"), UBUNTU_AT)
    assert len(rows) == 172
    chosen = by_line(rows)
    assert chosen[128] == ProcessRow(
        line_number=128,
        pid=606,
        process_name="systemd-timesyncd",
        ppid=1,
        user="systemd+",
        command_line="/lib/systemd/systemd-timesyncd",
        cpu_percent=0.0,
        start_time=datetime(2019, 10, 26, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=1.0,
        truncated_fields=("user",),
    )
    assert chosen[173] == ProcessRow(
        line_number=173,
        pid=23932,
        process_name="ps",
        ppid=23870,
        user="kbrazil",
        command_line="ps -ef",
        cpu_percent=0.0,
        start_time=datetime(2019, 10, 28, 19, 43, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=0.0,
        tty="pts/0",
    )


def test_macos_10_11_6_gives_numeric_user_ids() -> None:
    rows = parse_ps_ef(read_fixture("macos-10.11.6/ps-ef.out"), MACOS_AT)
    assert len(rows) == 210
    chosen = by_line(rows)
    assert chosen[2] == ProcessRow(
        line_number=2,
        pid=1,
        process_name="launchd",
        ppid=0,
        user="0",
        command_line="/sbin/launchd",
        cpu_percent=0.0,
        start_time=datetime(2019, 11, 1, 10, 6, tzinfo=PACIFIC),
        start_time_precision=60.0,
        cpu_time_seconds=6.3,
    )
    assert chosen[50].user == "24"
    assert chosen[50].process_name == "networkd"
    assert chosen[211] == ProcessRow(
        line_number=211,
        pid=381,
        process_name="-bash",
        ppid=380,
        user="501",
        command_line="-bash",
        cpu_percent=0.0,
        start_time=datetime(2019, 11, 1, 10, 6, tzinfo=PACIFIC),
        start_time_precision=60.0,
        cpu_time_seconds=0.02,
        tty="ttys001",
    )


def test_local_procps_4_0_2() -> None:
    rows = parse_ps_ef(read_fixture("linux-local/ps-ef.out"), LOCAL_AT)
    assert len(rows) == 90
    chosen = by_line(rows)
    # procps pads the command line: the trailing blank is not part of it.
    assert chosen[60] == ProcessRow(
        line_number=60,
        pid=2195,
        process_name="postgres",
        ppid=2190,
        user="postgres",
        command_line="postgres: 15/main: logical replication launcher",
        cpu_percent=0.0,
        start_time=datetime(2026, 11, 28, 11, 15, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=0.0,
    )
    assert chosen[64].user == "mosquit+"
    assert chosen[64].truncated_fields == ("user",)
    assert chosen[66] == ProcessRow(
        line_number=66,
        pid=2950,
        process_name="nats-server",
        ppid=1,
        user="root",
        command_line=(
            "/usr/sbin/nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server"
            " -l /var/log/nats-server.log"
        ),
        cpu_percent=0.0,
        start_time=datetime(2026, 11, 28, 11, 16, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=6.0,
    )


@pytest.mark.parametrize(
    ("fixture", "os_type", "name"),
    [
        ("linux-centos-7.7/ps-ef.out", "linux", "ps -ef"),
        ("linux-local/ps-ef.out", "linux", "ps -ef"),
        ("macos-10.11.6/ps-ef.out", "macos", "ps -ef macos"),
    ],
)
def test_detection(fixture: str, os_type: str, name: str) -> None:
    raw = read_fixture(fixture)
    listing = parse_listing(raw, os_type=os_type, command="ps -ef", observed_at=LOCAL_AT)
    assert listing.format == name
    assert listing.rows == parse_ps_ef(raw, LOCAL_AT)
    assert {f.name for f in FORMATS} == {"ps -ef", "ps -ef macos", "ps -o"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("root 1 0 0 Oct25 ?", "expected 8 columns, found 6"),
        ("root x 0 0 Oct25 ? 00:00:03 init", "PID: 'x' is not an integer"),
        ("root 1 -1 0 Oct25 ? 00:00:03 init", "PPID: '-1' is not an integer"),
        ("root 1 0 0.5 Oct25 ? 00:00:03 init", "C: '0.5' is not an integer"),
        ("root 1 0 0 Oct32 ? 00:00:03 init", "STIME: start time 'Oct32': "),
        ("root 1 0 0 Oct25 ? 00:00:3 init", "TIME: CPU time '00:00:3': unrecognised"),
        ("root 1 0 0 Oct25 ? 00:00:03 init\r", None),
    ],
)
def test_bad_lines_name_line_and_column(line: str, problem: str | None) -> None:
    raw = f"{HEADER}\nroot 2 0 0 Oct25 ? 00:00:00 [kthreadd]\n{line}\n"
    if problem is None:
        assert parse_ps_ef(raw, CENTOS_AT)[-1].command_line == "init"
        return
    with pytest.raises(ParseError) as caught:
        parse_ps_ef(raw, CENTOS_AT)
    assert (caught.value.line_number, caught.value.line) == (3, line)
    assert caught.value.message.startswith(problem)


def test_header_only_and_refusals() -> None:
    assert parse_ps_ef(HEADER + "\n\n", CENTOS_AT) == []
    with pytest.raises(ParseError, match=r"^empty listing$"):
        parse_ps_ef(" \n", CENTOS_AT)
    with pytest.raises(ParseError, match=r"^line 1: not a ps -ef header"):
        parse_ps_ef("UID PID\n", CENTOS_AT)
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_ps_ef(HEADER, datetime(2019, 1, 1))


_USERS = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=12)
_COMMANDS = st.lists(
    st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FF).filter(str.isprintable),
        min_size=1,
        max_size=10,
    ),
    min_size=1,
    max_size=5,
).map(" ".join)


@given(
    processes=st.lists(
        st.tuples(
            _USERS,
            st.integers(0, 4_194_304),
            st.integers(0, 4_194_304),
            st.integers(0, 99),
            st.integers(0, 23),
            st.integers(0, 59),
            st.integers(0, 3 * 86_400),
            _COMMANDS,
        ),
        max_size=10,
    )
)
def test_procps_rendering_round_trips(
    processes: list[tuple[str, int, int, int, int, int, int, str]],
) -> None:
    # procps: user cut to 7 characters and "+", today's starts as %H:%M, TIME [dd-]hh:mm:ss.
    lines = [HEADER]
    for user, pid, ppid, cpu, hour, minute, seconds, command in processes:
        shown = user if len(user) <= 8 else user[:7] + "+"
        days, rest = divmod(seconds, 86_400)
        time = f"{days}-" * bool(days) + f"{rest // 3600:02}:{rest // 60 % 60:02}:{rest % 60:02}"
        lines.append(
            f"{shown:<8} {pid:>5} {ppid:>5} {cpu:>2} {hour:02}:{minute:02} ?  {time:>8} {command}"
        )
    at = datetime(2021, 6, 1, 23, 59, 59, tzinfo=UTC)
    rows = parse_ps_ef("\n".join(lines), at)
    assert len(rows) == len(processes)
    # What a cut at the terminal's width looks like (parsers.width_cuts): two or more of the
    # longest lines, longer than the header, with different commands.
    longest = max(map(len, lines))
    at_longest = [len(line) == longest for line in lines[1:]]
    commands = [process[-1] for process, at in zip(processes, at_longest, strict=True) if at]
    width_cut = longest > len(HEADER) and len(commands) >= 2 and len(set(commands)) >= 2
    for row, (user, pid, ppid, cpu, hour, minute, seconds, command), at_width in zip(
        rows, processes, at_longest, strict=True
    ):
        cut = len(user) > 8
        assert row.user == (user[:7] + "+" if cut else user)
        flagged: tuple[str, ...] = ("user",) if cut or user.endswith("+") else ()
        if width_cut and at_width:
            name_cut = "]" not in command if command[0] == "[" else " " not in command
            flagged += ("command_line", "process_name") if name_cut else ("command_line",)
        assert row.truncated_fields == flagged
        assert (row.pid, row.ppid, row.cpu_percent) == (pid, ppid, float(cpu))
        assert row.start_time == datetime(2021, 6, 1, hour, minute, tzinfo=UTC)
        assert row.start_time_precision == 60.0
        assert (row.cpu_time_seconds, row.command_line) == (seconds, command)


@given(lines=st.lists(LINES, max_size=20), observed_at=SNAPSHOT_TIMES)
def test_header_then_arbitrary_lines_parse_or_raise_parse_error(
    lines: list[str], observed_at: datetime
) -> None:
    for header in (HEADER, "  UID   PID  PPID   C STIME   TTY           TIME CMD"):
        try:
            rows = parse_ps_ef("\n".join([header, *lines]), observed_at)
        except ParseError:
            continue
        assert all(row.start_time is None or row.start_time <= observed_at for row in rows)
        assert all((row.start_time is None) == (row.start_time_precision is None) for row in rows)


@given(raw=st.text(max_size=3000), observed_at=SNAPSHOT_TIMES)
def test_arbitrary_text_parses_or_raises_parse_error(raw: str, observed_at: datetime) -> None:
    try:
        parse_ps_ef(raw, observed_at)
    except ParseError:
        return
