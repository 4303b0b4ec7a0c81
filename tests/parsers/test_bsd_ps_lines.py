"""``ps aux`` lines made by hand: every column's forms, each refusal, and fuzzed input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.bsd_ps import PS_AUX_HEADERS, parse_ps_aux
from parsers.errors import ParseError
from parsers.rows import ProcessRow, ProcessStatus
from tests.parsers.strategies import LINES, SNAPSHOT_TIMES

# A Friday.
OBSERVED_AT = datetime(2019, 11, 1, 12, 0, tzinfo=UTC)
LINUX_HEADER = "USER        PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
BSD_HEADER = "USER   PID  %CPU %MEM   VSZ  RSS TT  STAT STARTED       TIME COMMAND"
SSHD = "root      4314  0.0  0.1 158924  5700 ?        Ss   09:53   0:00 sshd: kbrazil [priv]"


def listing(*lines: str, header: str = LINUX_HEADER, end: str = "\n") -> str:
    """A listing of the header and lines, each ended by ``end``."""
    return "".join(line + end for line in (header, *lines))


def test_crlf_line_endings_read_like_lf() -> None:
    rows = parse_ps_aux(listing(SSHD, "", end="\r\n"), OBSERVED_AT)
    assert rows == parse_ps_aux(listing(SSHD), OBSERVED_AT)
    assert rows[0].command_line == "sshd: kbrazil [priv]"


def test_blank_lines_are_skipped_but_counted() -> None:
    raw = "\n  \n" + LINUX_HEADER + "\n\n" + SSHD + "\n\t\n" + SSHD + "\n\n"
    assert [row.line_number for row in parse_ps_aux(raw, OBSERVED_AT)] == [5, 7]


@pytest.mark.parametrize("raw", [LINUX_HEADER, BSD_HEADER + "\n", LINUX_HEADER + "\r\n\r\n  \n"])
def test_header_only_is_an_empty_listing(raw: str) -> None:
    assert parse_ps_aux(raw, OBSERVED_AT) == []


@pytest.mark.parametrize("raw", ["", "\n", " \r\n\t\n"])
def test_empty_input_is_refused(raw: str) -> None:
    with pytest.raises(ParseError, match=r"^empty listing$") as caught:
        parse_ps_aux(raw, OBSERVED_AT)
    assert caught.value.line_number is None


def test_a_row_without_its_header_is_refused() -> None:
    with pytest.raises(ParseError, match=r"^line 2: not a ps aux header: ") as caught:
        parse_ps_aux("\n" + SSHD, OBSERVED_AT)
    assert caught.value.line == SSHD


def test_bsd_row_with_its_own_forms() -> None:
    # FreeBSD: "-" for no terminal, minutes beyond 59 with centiseconds, weekday and hour.
    line = "root    11 800.0  0.0     0  128  -  RNL  Sat10AM 8596:44.23 [idle]"
    assert parse_ps_aux(listing(line, header=BSD_HEADER), OBSERVED_AT) == [
        ProcessRow(
            line_number=2,
            pid=11,
            process_name="idle",
            user="root",
            command_line="[idle]",
            cpu_percent=800.0,
            memory_percent=0.0,
            rss_bytes=128 * 1024,
            vsz_bytes=0,
            status=ProcessStatus.RUNNING,
            status_raw="RNL",
            start_time=datetime(2019, 10, 26, 10, 0, tzinfo=UTC),
            start_time_precision=3600.0,
            cpu_time_seconds=515804.23,
            tty=None,
        )
    ]


def test_zombie_takes_its_name_from_the_brackets() -> None:
    line = "1000     23 0.0 0.0  0  0 pts/1  Z+  11:58  0:00 [sh] <defunct>"
    [row] = parse_ps_aux(listing(line), OBSERVED_AT)
    assert (row.user, row.process_name, row.status) == ("1000", "sh", ProcessStatus.ZOMBIE)
    assert row.command_line == "[sh] <defunct>"


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("sshd: kbrazil [priv]", "sshd"),
        ("(sd-pam)", "(sd-pam)"),
        ("/usr/bin/lxcfs /var/lib/lxcfs/", "lxcfs"),
        ("/", "/"),
        ("[kworker/u8:0-events unbound]", "kworker/u8:0-events unbound"),
        ("python3   ", "python3"),
    ],
)
def test_process_name(command: str, name: str) -> None:
    [row] = parse_ps_aux(listing(f"root 1 0.0 0.0 0 0 ? S 09:00 0:00 {command}"), OBSERVED_AT)
    assert row.process_name == name
    assert row.command_line == command.rstrip()


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("R+", ProcessStatus.RUNNING),
        ("S<sl", ProcessStatus.SLEEPING),
        ("D", ProcessStatus.DISK_SLEEP),
        ("Us", ProcessStatus.DISK_SLEEP),
        ("I<", ProcessStatus.IDLE),
        ("T", ProcessStatus.STOPPED),
        ("t", ProcessStatus.TRACED),
        ("Z", ProcessStatus.ZOMBIE),
        ("X", ProcessStatus.DEAD),
        ("W", ProcessStatus.UNKNOWN),
        ("L", ProcessStatus.UNKNOWN),
    ],
)
def test_status_from_the_first_letter_of_stat(stat: str, status: ProcessStatus) -> None:
    [row] = parse_ps_aux(listing(f"root 1 0.0 0.0 0 0 ? {stat} 09:00 0:00 x"), OBSERVED_AT)
    assert (row.status, row.status_raw) == (status, stat)


def test_start_times_before_midnight_belong_to_the_day_before() -> None:
    lines = ("root 1 0.0 0.0 0 0 ? S 23:50 0:00 x", "root 2 0.0 0.0 0 0 ? S 00:10 0:00 y")
    rows = parse_ps_aux(listing(*lines), datetime(2020, 1, 1, 0, 30, tzinfo=UTC))
    assert [row.start_time for row in rows] == [
        datetime(2019, 12, 31, 23, 50, tzinfo=UTC),
        datetime(2020, 1, 1, 0, 10, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("root 1 0.0 0.1", "expected 11 columns, found 4"),
        ("root 1 0.0 0.1 10 20 ? S 09:00 0:00", "expected 11 columns, found 10"),
        ("root abc 0.0 0.1 10 20 ? S 09:00 0:00 x", "PID: 'abc' is not an integer"),
        ("root -1 0.0 0.1 10 20 ? S 09:00 0:00 x", "PID: '-1' is not an integer"),
        ("root 1 x 0.1 10 20 ? S 09:00 0:00 x", "%CPU: 'x' is not a number"),
        ("root 1 nan 0.1 10 20 ? S 09:00 0:00 x", "%CPU: 'nan' is not a number"),
        ("root 1 0.0 1e3 10 20 ? S 09:00 0:00 x", "%MEM: '1e3' is not a number"),
        ("root 1 0.0 0.1 12k 20 ? S 09:00 0:00 x", "VSZ: '12k' is not an integer"),
        ("root 1 0.0 0.1 10 1.5 ? S 09:00 0:00 x", "RSS: '1.5' is not an integer"),
        ("root 1 0.0 0.1 10 20 ? S Foo25 0:00 x", "START: start time 'Foo25': unrecognised format"),
        ("root 1 0.0 0.1 10 20 ? S 2020 0:00 x", "START: start time '2020': year after the"),
        ("root 1 0.0 0.1 10 20 ? S 09:00 0:3 x", "TIME: CPU time '0:3': unrecognised format"),
    ],
)
def test_bad_rows_are_refused_naming_line_and_column(line: str, problem: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_ps_aux(listing(SSHD, line), OBSERVED_AT)
    assert (caught.value.line_number, caught.value.line) == (3, line)
    assert str(caught.value) == f"line 3: {caught.value.message}: {line!r}"
    assert re.match(re.escape(problem), caught.value.message)


def test_snapshot_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_ps_aux(listing(SSHD), datetime(2019, 11, 1, 12, 0))


STATUS_OF_LETTER = {
    "R": ProcessStatus.RUNNING,
    "S": ProcessStatus.SLEEPING,
    "D": ProcessStatus.DISK_SLEEP,
    "I": ProcessStatus.IDLE,
    "Z": ProcessStatus.ZOMBIE,
}


@given(
    header=st.sampled_from([LINUX_HEADER, BSD_HEADER]),
    user=st.from_regex(r"[a-z_][a-z0-9_-]{0,7}\+?", fullmatch=True),
    pid=st.integers(0, 4_194_304),
    cpu_tenths=st.integers(0, 64_000),
    mem_tenths=st.integers(0, 1000),
    vsz=st.integers(0, 10**12),
    rss=st.integers(0, 10**12),
    tty=st.sampled_from([("?", None), ("??", None), ("-", None), ("pts/3", "pts/3")]),
    stat=st.from_regex(r"[RSDIZ][<NLsl+]{0,3}", fullmatch=True),
    start=st.sampled_from(
        [
            ("-", None, None),
            ("Oct25", datetime(2019, 10, 25, tzinfo=UTC), 86400.0),
            ("2016", datetime(2016, 1, 1, tzinfo=UTC), 366 * 86400.0),
            ("09:05", datetime(2019, 11, 1, 9, 5, tzinfo=UTC), 60.0),
        ]
    ),
    minutes=st.integers(0, 100_000),
    seconds=st.integers(0, 59),
    words=st.lists(st.from_regex(r"[!-~]+", fullmatch=True), min_size=1, max_size=5),
)
def test_generated_rows_read_back(
    header: str,
    user: str,
    pid: int,
    cpu_tenths: int,
    mem_tenths: int,
    vsz: int,
    rss: int,
    tty: tuple[str, str | None],
    stat: str,
    start: tuple[str, datetime | None, float | None],
    minutes: int,
    seconds: int,
    words: list[str],
) -> None:
    command = " ".join(words)
    line = (
        f"{user} {pid:>6} {cpu_tenths / 10:.1f} {mem_tenths / 10:.1f} {vsz} {rss} {tty[0]}"
        f" {stat} {start[0]} {minutes}:{seconds:02} {command}"
    )
    [row] = parse_ps_aux(listing(line, header=header), OBSERVED_AT)
    assert row.line_number == 2
    assert (row.user, row.pid, row.command_line) == (user, pid, command)
    assert row.cpu_percent == pytest.approx(cpu_tenths / 10)
    assert row.memory_percent == pytest.approx(mem_tenths / 10)
    assert (row.vsz_bytes, row.rss_bytes) == (vsz * 1024, rss * 1024)
    assert (row.tty, row.status_raw) == (tty[1], stat)
    assert (row.start_time, row.start_time_precision) == start[1:]
    assert row.cpu_time_seconds == minutes * 60 + seconds
    assert row.status == STATUS_OF_LETTER[stat[0]]


def parses_or_refuses(raw: str, observed_at: datetime) -> None:
    """Parse, letting only ParseError escape; any row read is consistent with the snapshot."""
    try:
        rows = parse_ps_aux(raw, observed_at)
    except ParseError:
        return
    for row in rows:
        assert row.start_time is None or row.start_time <= observed_at
        assert (row.start_time is None) == (row.start_time_precision is None)


@given(raw=st.text(max_size=2000), observed_at=SNAPSHOT_TIMES)
def test_arbitrary_text_parses_or_raises_parse_error(raw: str, observed_at: datetime) -> None:
    parses_or_refuses(raw, observed_at)


@given(
    header=st.sampled_from([" ".join(header) for header in PS_AUX_HEADERS]),
    lines=st.lists(LINES, max_size=20),
    end=st.sampled_from(["\n", "\r\n"]),
    observed_at=SNAPSHOT_TIMES,
)
def test_header_then_arbitrary_lines_parse_or_raise_parse_error(
    header: str, lines: list[str], end: str, observed_at: datetime
) -> None:
    parses_or_refuses(end.join([header, *lines]), observed_at)


def test_user_names_procps_cut_are_flagged() -> None:
    lines = (
        "systemd+   606 0.0 0.0 0 0 ? S 09:00 0:00 x",
        "kbrazil   4319 0.0 0.0 0 0 ? S 09:00 0:00 y",
    )
    rows = parse_ps_aux(listing(*lines), OBSERVED_AT)
    assert [(row.user, row.truncated_fields) for row in rows] == [
        ("systemd+", ("user",)),
        ("kbrazil", ()),
    ]
