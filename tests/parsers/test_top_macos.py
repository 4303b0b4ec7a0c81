"""macOS ``top -l``: a real sample checked by hand, lines made by hand, and fuzzing."""

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
from parsers.top_macos import parse_top_macos
from tests.parsers.fixtures import read_fixture

AT = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
MIB = 1024**2
FIXTURE = "macos/macos-top-l-sample-dotnet-command-line-api.out"
SUMMARY = (
    "Processes: 463 total, 2 running, 1 stuck, 460 sleeping, 2190 threads ",
    "2026/11/28 13:59:58",
    "Load Avg: 2.47, 2.23, 2.20 ",
    "CPU usage: 7.69% user, 15.38% sys, 76.92% idle ",
    "SharedLibs: 389M resident, 62M data, 38M linkedit.",
    "PhysMem: 15G used (2488M wired, 1234M compressor), 167M unused.",
)
HEADER = (
    "PID    COMMAND          %CPU TIME     #TH    #WQ  #PORTS MEM    PURG   CMPRS  PGRP  PPID  "
    "STATE"
)
CHROME = (
    "812    Google Chrome He 12.5 01:02:03 24/2   1    310    410M-  0B     12M    812   1     "
    "running"
)


def sample(*rows: str, summary: tuple[str, ...] = SUMMARY, end: str = "\n") -> str:
    """A top -l sample: summary, a blank line, the header and rows."""
    return "".join(line + end for line in (*summary, "", HEADER, *rows))


def by_line(rows: list[ProcessRow]) -> dict[int, ProcessRow]:
    """The rows keyed by the line they were read from."""
    return {row.line_number: row for row in rows}


def test_real_sample() -> None:
    listing = parse_top_macos(read_fixture(FIXTURE), AT)
    assert listing.format == "top -l"
    assert [row.line_number for row in listing.rows] == list(range(8, 16))
    assert listing.metadata == {
        "samples": 1,
        "processes": {"total": 8, "running": 2, "sleeping": 6, "threads": 183},
        "time": "22:27:52",
        "load_average": [1.8, 1.92, 2.06],
        "cpu_percent": {"user": 6.47, "sys": 3.76, "idle": 89.75},
        "physmem_bytes": {"used": 8102 * MIB, "wired": 2150 * MIB, "unused": 89 * MIB},
    }
    chosen = by_line(listing.rows)
    # "5747   Terminal     18.0 00:42.82 8     3    261   23M+   496K ... 5747  1     sleeping"
    assert chosen[8] == ProcessRow(
        line_number=8,
        pid=5747,
        process_name="Terminal",
        ppid=1,
        cpu_percent=18.0,
        memory_usage_bytes=23 * MIB,
        status=ProcessStatus.SLEEPING,
        status_raw="sleeping",
        cpu_time_seconds=42.82,
        threads=8,
    )
    # "5683   WindowServer 6.8  20:04:23 5     2    1685- 62M    3920K  75M    5683  1 ..."
    assert chosen[9] == ProcessRow(
        line_number=9,
        pid=5683,
        process_name="WindowServer",
        ppid=1,
        cpu_percent=6.8,
        memory_usage_bytes=62 * MIB,
        status=ProcessStatus.SLEEPING,
        status_raw="sleeping",
        cpu_time_seconds=20 * 3600 + 4 * 60 + 23.0,
        threads=5,
    )
    # "0      kernel_task  4.7  17:05:49 147   0    2     1025M+ 0B     0B     0     0     running"
    assert chosen[11] == ProcessRow(
        line_number=11,
        pid=0,
        process_name="kernel_task",
        ppid=0,
        cpu_percent=4.7,
        memory_usage_bytes=1025 * MIB,
        status=ProcessStatus.RUNNING,
        status_raw="running",
        cpu_time_seconds=17 * 3600 + 5 * 60 + 49.0,
        threads=147,
    )
    assert (
        parse_listing(read_fixture(FIXTURE), os_type="macos", command="top -l 1", observed_at=AT)
        == listing
    )


def test_newer_summary_spaces_in_command_and_running_threads() -> None:
    listing = parse_top_macos(sample(CHROME), AT)
    assert listing.metadata == {
        "samples": 1,
        "processes": {"total": 463, "running": 2, "stuck": 1, "sleeping": 460, "threads": 2190},
        "time": "2026/11/28 13:59:58",
        "load_average": [2.47, 2.23, 2.2],
        "cpu_percent": {"user": 7.69, "sys": 15.38, "idle": 76.92},
        "physmem_bytes": {
            "used": 15 * 1024**3,
            "wired": 2488 * MIB,
            "compressor": 1234 * MIB,
            "unused": 167 * MIB,
        },
    }
    assert listing.rows == [
        ProcessRow(
            line_number=9,
            pid=812,
            process_name="Google Chrome He",
            ppid=1,
            cpu_percent=12.5,
            memory_usage_bytes=410 * MIB,
            status=ProcessStatus.RUNNING,
            status_raw="running",
            cpu_time_seconds=3723.0,
            threads=24,
        )
    ]


def test_last_of_several_samples_and_crlf() -> None:
    old = CHROME.replace("812    Google", "811    Google")
    raw = sample(old) + sample(CHROME, end="\r\n")
    listing = parse_top_macos(raw, AT)
    assert [(row.pid, row.line_number) for row in listing.rows] == [(812, 18)]
    assert listing.metadata["samples"] == 2


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("stuck", ProcessStatus.DISK_SLEEP),
        ("zombie", ProcessStatus.ZOMBIE),
        ("stopped", ProcessStatus.STOPPED),
        ("halted", ProcessStatus.DEAD),
        ("idle", ProcessStatus.IDLE),
        ("dreaming", ProcessStatus.UNKNOWN),
    ],
)
def test_states(state: str, status: ProcessStatus) -> None:
    row = parse_top_macos(sample(CHROME.replace("running", state)), AT).rows[0]
    assert (row.status, row.status_raw) == (status, state)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", r"^empty listing$"),
        (HEADER + "\n" + CHROME, r"^line 1: not a macOS top summary"),
        ("Processes: 1 total\n", r"^line 1: no process table header"),
        ("Processes: 1 total, 2 cats\n\n" + HEADER, r"^line 1: unknown summary label 'cats'"),
        (sample(CHROME.replace("12.5", "12,5")), r"^line 9: %CPU: '12,5' is not a number"),
        (sample(CHROME.replace("01:02:03", "1:2:3")), r"^line 9: TIME: CPU time '1:2:3'"),
        (sample(CHROME.replace("410M-", "410Q")), r"^line 9: MEM: '410Q' is not a size"),
        (sample(CHROME.replace("24/2", "x/2")), r"^line 9: #TH: 'x' is not an integer"),
        # A column missing at the end shifts the name's last word into %CPU: still refused.
        (sample(CHROME.rsplit(None, 1)[0]), r"^line 9: %CPU: 'He' is not a number"),
        (sample("812"), r"^line 9: expected 13 columns"),
    ],
)
def test_refusals_name_the_line(raw: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_top_macos(raw, AT)


_NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=7,
)
_PROCESSES = st.tuples(
    st.integers(0, 99999),
    st.lists(_NAMES, min_size=1, max_size=2).map(" ".join),
    st.floats(0, 999, allow_nan=False),
    st.integers(0, 99 * 3600),
    st.integers(1, 999),
    st.integers(0, 2**40),
    st.sampled_from(("+", "-", "")),
    st.sampled_from(tuple(("running", "sleeping", "stuck", "zombie"))),
)


def _render_size(size: int) -> tuple[str, int]:
    """MEM as top prints it: a whole number of the largest unit that keeps 4 digits or fewer."""
    for power, letter in enumerate("BKMGT"):
        if size // 1024**power < 10_000:
            return f"{size // 1024**power}{letter}", 1024**power
    raise AssertionError("too large")


@given(st.lists(_PROCESSES, max_size=15))
def test_rendered_rows_read_back(processes: list[tuple[Any, ...]]) -> None:
    lines = []
    for pid, name, cpu, seconds, threads, mem, trend, state in processes:
        mem_text, _ = _render_size(mem)
        time_text = (
            f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            if seconds >= 3600
            else f"{seconds // 60:02d}:{seconds % 60:02d}.00"
        )
        lines.append(
            f"{pid:<6} {name:<16} {cpu:<4.1f} {time_text:<8} {threads:<6} 0    12     "
            f"{mem_text + trend:<6} 0B     0B     {pid:<5} 1     {state}"
        )
    rows = parse_top_macos(sample(*lines), AT).rows
    assert len(rows) == len(processes)
    for found, (pid, name, cpu, seconds, threads, mem, _, state) in zip(
        rows, processes, strict=True
    ):
        _, unit = _render_size(mem)
        assert (found.pid, found.process_name, found.threads) == (pid, name, threads)
        assert abs(found.cpu_percent - cpu) <= 0.05 + 1e-9
        assert found.cpu_time_seconds == seconds
        assert 0 <= mem - found.memory_usage_bytes < unit
        assert found.rss_bytes is None
        assert found.status_raw == state


@given(st.text(max_size=3000))
def test_any_text_parses_or_is_refused(raw: str) -> None:
    with suppress(ParseError):
        parse_top_macos(raw, AT)


_PARTS = st.sampled_from(
    ("Processes:", "Load Avg:", "PhysMem:", "PID", " 1", " 2M+", " 4/1", " 00:01.00", " x")
)


@given(st.lists(st.lists(_PARTS | st.text(max_size=5), max_size=16).map("".join), max_size=30))
def test_summary_followed_by_anything(lines: list[str]) -> None:
    with suppress(ParseError):
        parse_top_macos("\n".join((SUMMARY[0], *lines[:4], "", HEADER, *lines[4:])), AT)


@pytest.mark.parametrize(
    ("header", "row"),
    [
        # top -l 1 -stats pid,user,state,command,mem,ppid,cpu
        (
            "PID    USER     STATE    COMMAND          MEM    PPID  %CPU",
            "812    alice    running  Google Chrome He 410M-  1     12.5",
        ),
        # top -l 1 -stats command,cpu,pid,user,state,mem,ppid: COMMAND first
        (
            "COMMAND          %CPU PID    USER     STATE    MEM    PPID",
            "Google Chrome He 12.5 812    alice    running  410M-  1",
        ),
        # top -l 1 -stats user,ppid,mem,state,cpu,pid,command: COMMAND last
        (
            "USER     PPID  MEM    STATE    %CPU PID    COMMAND",
            "alice    1     410M-  running  12.5 812    Google Chrome He",
        ),
    ],
)
def test_stats_in_any_order(header: str, row: str) -> None:
    raw = "".join(line + "\n" for line in (*SUMMARY, "", header, row))
    assert parse_top_macos(raw, AT).rows == [
        ProcessRow(
            line_number=9,
            pid=812,
            process_name="Google Chrome He",
            ppid=1,
            user="alice",
            cpu_percent=12.5,
            memory_usage_bytes=410 * MIB,
            status=ProcessStatus.RUNNING,
            status_raw="running",
        )
    ]
