"""FreeBSD and OpenBSD ``top``: the handbook's display by hand, lines by hand, and fuzzing."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.rows import ProcessRow, ProcessStatus
from parsers.top_bsd import bsd_state, bsd_time, parse_top_bsd
from tests.parsers.fixtures import read_fixture

AT = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
KIB = 1024
MIB = 1024**2
FIXTURE = "freebsd/freebsd-top-handbook.out"
FREEBSD_TOP = "last pid:  9609;  load averages:  0.56,  0.45,  0.36  up 0+00:20:03  10:21:46"
FREEBSD_HEADER = "  PID USERNAME    THR PRI NICE   SIZE    RES STATE   C   TIME   WCPU COMMAND"
OPENBSD = (
    "load averages:  0.28,  0.23,  0.19    obsd.example.org 10:21:46",
    "41 processes: 40 idle, 1 on processor    up 3 days,  2:04",
    "CPU states:  0.0% user,  0.0% nice,  0.2% sys,  0.0% spin,  0.1% intr, 99.7% idle",
    "Memory: Real: 31M/350M act/tot Free: 1614M Cache: 207M Swap: 0K/1028M",
    "",
    "  PID USERNAME PRI NICE  SIZE   RES STATE     WAIT      TIME    CPU COMMAND",
    "12345 _pflogd   28    0  816K 2112K onproc/0  -         0:00  0.10% pflogd",
    "    1 root      10    0  452K  480K idle      wait      0:01  0.00% init",
    "   77 www        2  -5   12M    3M sleep/1   kqread  123.4H 12.50% httpd: worker",
)


def freebsd(*rows: str) -> str:
    """A FreeBSD top display with only its first summary line, the header and rows."""
    return "\n".join((FREEBSD_TOP, "", FREEBSD_HEADER, *rows)) + "\n"


def test_handbook_display() -> None:
    listing = parse_top_bsd(read_fixture(FIXTURE), AT)
    assert listing.format == "top (BSD)"
    assert [row.line_number for row in listing.rows] == list(range(9, 20))
    assert listing.metadata == {
        "samples": 1,
        "last_pid": 9609,
        "load_average": [0.56, 0.45, 0.36],
        "uptime": "0+00:20:03",
        "time": "10:21:46",
        "processes": {"total": 107, "running": 2, "sleeping": 104, "zombie": 1},
        "cpu_percent": {"user": 6.2, "nice": 0.1, "system": 8.2, "interrupt": 0.4, "idle": 85.1},
        "memory_bytes": {
            "active": 541 * MIB,
            "inact": 450 * MIB,
            "wired": 1333 * MIB,
            "cache": 4064 * KIB,
            "free": 1498 * MIB,
        },
        "arc_bytes": {
            "total": 992 * MIB,
            "mfu": 377 * MIB,
            "mru": 589 * MIB,
            "anon": 250 * KIB,
            "header": 5280 * KIB,
            "other": 21 * MIB,
        },
        "swap_bytes": {"total": 2048 * MIB, "free": 2048 * MIB},
    }
    rows = {row.line_number: row for row in listing.rows}
    # "  557 root          1 -21  r31   136M 42296K select  0   2:20  9.96% Xorg"
    assert rows[9] == ProcessRow(
        line_number=9,
        pid=557,
        process_name="Xorg",
        user="root",
        cpu_percent=9.96,
        rss_bytes=42296 * KIB,
        vsz_bytes=136 * MIB,
        memory_usage_bytes=42296 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="select",
        cpu_time_seconds=140.0,
        threads=1,
        nice=None,
        priority=-21,
    )
    # " 9551 dru           1  21    0 16600K  2660K CPU3    3   0:01  0.98% top"
    assert rows[13] == ProcessRow(
        line_number=13,
        pid=9551,
        process_name="top",
        user="dru",
        cpu_percent=0.98,
        rss_bytes=2660 * KIB,
        vsz_bytes=16600 * KIB,
        memory_usage_bytes=2660 * KIB,
        status=ProcessStatus.RUNNING,
        status_raw="CPU3",
        cpu_time_seconds=1.0,
        threads=1,
        nice=0,
        priority=21,
    )
    # " 2623 root          1  30   10 12088K  1636K select  3   0:09  0.00% powerd"
    assert (rows[17].nice, rows[17].priority, rows[17].cpu_time_seconds) == (10, 30, 9.0)
    # " 8311 dru          27  30    0  1150M   187M uwait   1   1:37  0.98% firefox"
    assert (rows[11].threads, rows[11].vsz_bytes, rows[11].rss_bytes) == (27, 1150 * MIB, 187 * MIB)
    raw = read_fixture(FIXTURE)
    assert parse_listing(raw, os_type="freebsd", command="top", observed_at=AT) == listing


def test_openbsd_display() -> None:
    listing = parse_top_bsd("\n".join(OPENBSD), AT)
    assert listing.metadata == {
        "samples": 1,
        "load_average": [0.28, 0.23, 0.19],
        "time": "10:21:46",
        "processes": {"total": 41, "idle": 40, "on processor": 1},
        "uptime": "3 days,  2:04",
        "cpu_percent": {
            **{"user": 0.0, "nice": 0.0, "sys": 0.2},
            **{"spin": 0.0, "intr": 0.1, "idle": 99.7},
        },
        "memory_bytes": {
            "active": 31 * MIB,
            "total": 350 * MIB,
            "free": 1614 * MIB,
            "cache": 207 * MIB,
        },
        "swap_bytes": {"used": 0, "total": 1028 * MIB},
    }
    pflogd, init, httpd = listing.rows
    assert pflogd == ProcessRow(
        line_number=7,
        pid=12345,
        process_name="pflogd",
        user="_pflogd",
        cpu_percent=0.1,
        rss_bytes=2112 * KIB,
        vsz_bytes=816 * KIB,
        memory_usage_bytes=2112 * KIB,
        status=ProcessStatus.RUNNING,
        status_raw="onproc/0",
        cpu_time_seconds=0.0,
        nice=0,
        priority=28,
    )
    assert (init.status, init.status_raw) == (ProcessStatus.IDLE, "idle")
    assert (httpd.process_name, httpd.nice, httpd.status) == (
        "httpd: worker",
        -5,
        ProcessStatus.SLEEPING,
    )
    assert httpd.cpu_time_seconds == 444_240.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:03", 3.0),
        ("999:59", 59_999.0),
        ("123.4H", 444_240.0),
        ("12345.", 12_345 * 3600.0),
        ("1234.5", 4_444_200.0),
        ("1.5D", 129_600.0),
        ("???", None),
    ],
)
def test_times(text: str, seconds: float | None) -> None:
    assert bsd_time(text) == seconds


@pytest.mark.parametrize("text", ["", "H", "1.2.3H", "-1H", "0:60", "x"])
def test_bad_times(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a number|out of range"):
        bsd_time(text)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("CPU12", ProcessStatus.RUNNING),
        ("RUN", ProcessStatus.RUNNING),
        ("START", ProcessStatus.RUNNING),
        ("STOP", ProcessStatus.STOPPED),
        ("ZOMB", ProcessStatus.ZOMBIE),
        ("zomb", ProcessStatus.ZOMBIE),
        ("dead", ProcessStatus.DEAD),
        ("WAIT", ProcessStatus.SLEEPING),
        ("LOCK", ProcessStatus.SLEEPING),
        ("*Giant", ProcessStatus.SLEEPING),
        ("CPUx", ProcessStatus.SLEEPING),
        ("stop/3", ProcessStatus.STOPPED),
    ],
)
def test_states(text: str, status: ProcessStatus) -> None:
    assert bsd_state(text) == status


ROW = " 9551 dru           1  21    0 16600K  2660K CPU3    3   0:01  0.98% top"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", r"^empty listing$"),
        (FREEBSD_HEADER + "\n" + ROW, r"^line 1: not a BSD top summary"),
        (FREEBSD_TOP + "\n", r"^line 1: no process table header"),
        ("last pid: 1;  load averages: x\n\n" + FREEBSD_HEADER, r"^line 1: unreadable top summ"),
        ("load averages: 1.2.3, 1, 1\n\n" + FREEBSD_HEADER, r"^line 1: '1.2.3' is not a number"),
        (FREEBSD_TOP + "\n\n  PID COMMAND STATE\n", r"^line 3: top header without PID, or"),
        (freebsd(ROW.replace("16600K", "16600Q")), r"^line 4: SIZE: '16600Q' is not a size"),
        (freebsd(ROW.replace(" 21 ", " +21 ")), r"^line 4: PRI: '\+21' is not an integer"),
        (freebsd(ROW.replace("0.98%", "0.98%%")), r"^line 4: WCPU: '0.98%' is not a number"),
        (freebsd(ROW.replace("CPU3    3", "CPU3    x")), r"^line 4: C: 'x' is not an integer"),
        (freebsd(ROW.replace("0:01", "0:1")), r"^line 4: TIME: CPU time '0:1'"),
        (freebsd(" 9551 dru 1 21"), r"^line 4: expected 12 columns"),
    ],
)
def test_refusals_name_the_line(raw: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_top_bsd(raw, AT)


def test_last_display_crlf_and_blank_lines() -> None:
    first = freebsd(ROW.replace("9551", "9550"))
    last = freebsd("", ROW).replace("\n", "\r\n")
    rows = parse_top_bsd(first + "\n" + last, AT).rows
    assert [(row.pid, row.line_number) for row in rows] == [(9551, 10)]
    assert rows[0] == parse_top_bsd(freebsd(ROW), AT).rows[0]._replace(line_number=10)


def _render_size(kib: int) -> tuple[str, int]:
    """SIZE/RES as FreeBSD's format_k prints them: K up to 5 digits, then M, then G."""
    for power, letter in enumerate("KMGT"):
        if kib // 1024**power < 100_000:
            return f"{kib // 1024**power}{letter}", 1024 ** (power + 1)
    raise AssertionError("too large")


_PROCESSES = st.tuples(
    st.integers(0, 99999),
    st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8),
    st.integers(1, 9999),
    st.integers(-100, 255),
    st.one_of(st.integers(-20, 20).map(str), st.sampled_from(("r0", "r31", "-r5F", "i15", "-"))),
    st.integers(0, 2**40),
    st.integers(0, 2**40),
    st.sampled_from(("select", "CPU0", "RUN", "ZOMB", "STOP", "*vm_pag")),
    st.integers(0, 10**8),
    st.floats(0, 9999, allow_nan=False),
    st.sampled_from(("sshd", "sshd: root@pts/0 (sshd)", "[idle]")),
)


@given(st.lists(_PROCESSES, max_size=15))
def test_rendered_rows_read_back(processes: list[tuple[Any, ...]]) -> None:
    lines = []
    for pid, user, threads, pri, nice, size, res, state, seconds, cpu, command in processes:
        time = (
            f"{seconds // 60}:{seconds % 60:02d}"
            if seconds < 1000 * 60
            else f"{seconds / 3600:5.1f}H"
        )
        lines.append(
            f"{pid:>5} {user:<8} {threads:>4} {pri:>3} {nice:>4} {_render_size(size)[0]:>6} "
            f"{_render_size(res)[0]:>6} {state:<6} {3:>3} {time:>6} {cpu:5.2f}% {command}"
        )
    rows = parse_top_bsd(freebsd(*lines), AT).rows
    assert len(rows) == len(processes)
    for found, values in zip(rows, processes, strict=True):
        pid, user, threads, pri, nice, size, res, state, seconds, cpu, command = values
        assert (found.pid, found.user, found.threads, found.priority) == (pid, user, threads, pri)
        assert found.nice == (int(nice) if nice.lstrip("-").isdigit() else None)
        assert 0 <= size * 1024 - found.vsz_bytes < _render_size(size)[1]
        assert 0 <= res * 1024 - found.rss_bytes < _render_size(res)[1]
        assert (found.status, found.status_raw) == (bsd_state(state), state)
        tolerance = 0 if seconds < 60_000 else 180
        assert abs(found.cpu_time_seconds - seconds) <= tolerance
        assert abs(found.cpu_percent - cpu) <= 0.005 + 1e-9
        assert found.process_name == command


@given(st.text(max_size=3000))
def test_any_text_parses_or_is_refused(raw: str) -> None:
    with suppress(ParseError):
        parse_top_bsd(raw, AT)
    with suppress(ParseError):
        parse_listing(raw, os_type="freebsd", command="top", observed_at=AT)


_PARTS = st.sampled_from(
    (
        *("last pid:", "load averages:", "Mem:", "Swap:", "CPU:", " processes:", "PID", " 1"),
        *(" 2M", " r31", " CPU3", " 1:02", " 4.5H", " 1.0%", " up ", "Memory: Real:", " x"),
    )
)


@given(st.lists(st.lists(_PARTS | st.text(max_size=5), max_size=16).map("".join), max_size=30))
def test_summary_followed_by_anything(lines: list[str]) -> None:
    with suppress(ParseError):
        parse_top_bsd("\n".join((FREEBSD_TOP, *lines[:4], "", FREEBSD_HEADER, *lines[4:])), AT)
