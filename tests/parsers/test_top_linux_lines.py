"""``top -b`` text made by hand: each column's forms, summaries of other versions, fuzzing."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.rows import ProcessStatus
from parsers.top_linux import parse_top_linux
from tests.parsers.top_metadata import section

AT = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
TOP_LINE = "top - 10:26:31 up 5 days,  3:04,  1 user,  load average: 1.05, 0,70, 12.00"
HEADER = "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND"
ROW = "      1 root      20   0  104364  13208   8636 S   0.0   0.3   0:06.01 systemd"


def listing(*lines: str, summary: tuple[str, ...] = (TOP_LINE,), end: str = "\n") -> str:
    """A top -b sample: summary lines, a blank line, the header and ``lines``."""
    return "".join(line + end for line in (*summary, "", HEADER, *lines))


def row(*, virt: str = "104364", res: str = "13208", time: str = "0:06.01") -> str:
    """ROW with some columns replaced, right-aligned in their widths like top."""
    return f"      1 root      20   0 {virt:>7} {res:>6}   8636 S   0.0   0.3 {time:>9} systemd"


def test_uptime_line_with_days_one_user_and_decimal_commas() -> None:
    meta = parse_top_linux(listing(ROW), AT).metadata
    assert meta["uptime"] == "5 days,  3:04"
    assert meta["users"] == 1
    assert meta["load_average"] == [1.05, 0.7, 12.0]


def test_uptime_line_without_users() -> None:
    top = "top - 01:02:03 up 12 min,  load average: 0.00, 0.01, 0.05"
    meta = parse_top_linux(listing(ROW, summary=(top,)), AT).metadata
    assert (meta["uptime"], meta["users"]) == ("12 min", None)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:06.01", 6.01),
        ("1234:56.78", 1234 * 60 + 56.78),
        ("98765:43", 98765 * 60 + 43.0),
        ("12,34", 12 * 3600 + 34 * 60.0),
        ("5h", 5 * 3600.0),
        ("3d", 3 * 86400.0),
        ("2w", 2 * 604800.0),
    ],
)
def test_time_forms_top_scales_to(text: str, seconds: float) -> None:
    assert parse_top_linux(listing(row(time=text)), AT).rows[0].cpu_time_seconds == seconds


@pytest.mark.parametrize("text", ["0:60.00", "1:5.00", "1:05.1", "5x", "12,3", "-1:00.00", "h"])
def test_impossible_times_are_refused(text: str) -> None:
    with pytest.raises(ParseError, match=r"^line 4: not a row of "):
        parse_top_linux(listing(row(time=text)), AT)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("13208", 13208 * 1024),
        ("1.2g", 1_288_490_189),  # 1.2 * 1024**3 = 1 288 490 188.8
        ("3t", 3 * 1024**4),
        ("0.5p", 1024**5 // 2),
        ("7e", 7 * 1024**6),
        ("12k", 12 * 1024),
        ("125.1m", 131_176_858),
    ],
)
def test_sizes_scaled_by_their_letter(text: str, size: int) -> None:
    found = parse_top_linux(listing(row(res=text)), AT).rows[0]
    assert (found.rss_bytes, found.memory_usage_bytes) == (size, size)


@pytest.mark.parametrize("text", ["1.2G", "12K", "-1", "1.2.3g", "g", "1e5", "1.25000g"])
def test_sizes_top_never_prints_are_refused(text: str) -> None:
    with pytest.raises(ParseError, match="not a row"):
        parse_top_linux(listing(row(virt=text)), AT)


def test_other_columns_read_by_header_name() -> None:
    header = "  PID  PPID USER     nTH TTY      WCHAN   S     TIME COMMAND"
    line = " 4183  4182 kbrazil    1 pts/0    do_sel+ T     2:07 bash -l"
    raw = "\n".join((TOP_LINE, "", header, line, " 2 0 root 1 ? - S 0:00 kthreadd"))
    first, second = parse_top_linux(raw, AT).rows
    assert (first.pid, first.ppid, first.user, first.threads) == (4183, 4182, "kbrazil", 1)
    assert (first.tty, first.status, first.cpu_time_seconds) == (
        "pts/0",
        ProcessStatus.STOPPED,
        127.0,
    )
    assert (first.process_name, first.rss_bytes, first.nice, first.priority) == (
        "bash -l",
        None,
        None,
        None,
    )
    assert second.tty is None


def test_older_summary_forms_and_per_cpu_lines() -> None:
    summary = (
        "top - 10:00:00 up 40 days, 12:01,  3 users,  load average: 0.00, 0.00, 0.00",
        "Threads: 300 total,   1 running, 299 sleeping,   0 stopped,   0 zombie",
        "Cpu(s):  0.3%us,  0.1%sy,  0.0%ni, 99.6%id,  0.0%wa,  0.0%hi,  0.0%si,  0.0%st",
        "%Cpu1  :  1.0 us,  2.0 sy,  0.0 ni, 97.0 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st",
        "Mem:   4049856k total,   721244k used,  3328612k free,   137356k buffers",
        "Swap:        0k total,        0k used,        0k free,   447560k cached",
    )
    parsed = parse_top_linux(listing(ROW, summary=summary), AT)
    meta = parsed.metadata
    assert section(parsed, "threads")["total"] == 300
    assert section(parsed, "cpu_percent")["id"] == 99.6
    assert section(parsed, "cpu1_percent")["sy"] == 2.0
    assert meta["memory_bytes"] == {
        "total": 4_049_856 * 1024,
        "used": 721_244 * 1024,
        "free": 3_328_612 * 1024,
        "buffers": 137_356 * 1024,
        "cached": 447_560 * 1024,
    }
    assert meta["swap_bytes"] == {"total": 0, "used": 0, "free": 0}


def test_crlf_and_blank_lines_read_like_lf() -> None:
    assert parse_top_linux(listing(ROW, "", end="\r\n"), AT) == parse_top_linux(listing(ROW), AT)


def test_header_only_is_an_empty_table() -> None:
    assert parse_top_linux(listing(), AT).rows == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", r"^empty listing$"),
        ("  \n\t\n", r"^empty listing$"),
        (HEADER + "\n" + ROW, r"^line 1: not a top -b summary"),
        (TOP_LINE + "\n", r"^line 1: no process table header"),
        ("top - whenever\n\n" + HEADER, r"^line 1: unreadable top summary line"),
        (TOP_LINE + "\nTasks: 1 total, 2 hungry\n\n" + HEADER, r"^line 2: unknown summary label"),
        (TOP_LINE + "\nCats: 3\n\n" + HEADER, r"^line 2: unknown top summary line"),
        (TOP_LINE + "\nKiB Mem : 3 total, x\n\n" + HEADER, r"^line 2: unreadable summary line"),
        (TOP_LINE + "\n\n PID  PID USER\n1 1 root", r"^line 3: top header without one PID"),
        (listing(ROW, "   2 root"), r"^line 5: not a row of "),
    ],
)
def test_refusals_name_the_line(raw: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_top_linux(raw, AT)


# Rendering rows the way top -b does, to read them back.
_UNITS = "mgtpe"


def _render_size(kib: int, width: int) -> tuple[str, int]:
    """top's text for ``kib`` in ``width`` characters, and the bytes one unit of it is worth."""
    if len(str(kib)) <= width:
        return str(kib), 1024
    for power, letter in enumerate(_UNITS, start=1):
        text = f"{kib / 1024**power:.1f}{letter}"
        if len(text) <= width:
            return text, 1024 ** (power + 1)
    raise AssertionError("too large for the column")


def _render_time(centiseconds: int) -> tuple[str, float]:
    """top's TIME+ text in 9 characters, and the seconds its last digit is worth."""
    minutes, rest = divmod(centiseconds, 6000)
    candidates = (
        (f"{minutes}:{rest // 100:02d}.{rest % 100:02d}", 0.01),
        (f"{minutes}:{rest // 100:02d}", 1.0),
        (f"{minutes // 60},{minutes % 60:02d}", 60.0),
        (f"{minutes // 60}h", 3600.0),
        (f"{minutes // 1440}d", 86400.0),
        (f"{minutes // 10080}w", 604800.0),
    )
    return next(candidate for candidate in candidates if len(candidate[0]) <= 9)


_SPACES = ("Cc", "Cs", "Zl", "Zp", "Zs")
_PROCESSES = st.tuples(
    st.integers(1, 4_194_304),
    st.text("abcdefghijklmnopqrstuvwxyz_-.", min_size=1, max_size=12),
    st.one_of(st.integers(-100, 39).map(str), st.just("rt")),
    st.integers(-20, 19),
    st.integers(0, 2**50),
    st.integers(0, 2**44),
    st.sampled_from("RSDITtZ"),
    st.floats(0, 9999, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
    st.integers(0, 10**13),
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")),
        min_size=1,
        max_size=15,
    )
    | st.just("my prog (test)"),
)


@given(st.lists(_PROCESSES, max_size=20))
def test_rendered_rows_read_back(processes: list[tuple[Any, ...]]) -> None:
    lines: list[str] = []
    expected: list[tuple[Any, ...]] = []
    for pid, user, pr, ni, virt, res, state, cpu, mem, time, name in processes:
        shown_user = user if len(user) <= 8 else user[:7] + "+"
        virt_text, virt_unit = _render_size(virt, 7)
        res_text, res_unit = _render_size(res, 6)
        time_text, time_unit = _render_time(time)
        lines.append(
            f"{pid:>7} {shown_user:<8} {pr:>3} {ni:>3} {virt_text:>7} {res_text:>6} {0:>6} "
            f"{state} {cpu:5.1f} {mem:5.1f} {time_text:>9} {name}"
        )
        expected.append((pid, shown_user, pr, ni, virt, virt_unit, res, res_unit, state, cpu, mem))
        expected[-1] += (time, time_unit, name)
    rows = parse_top_linux(listing(*lines), AT).rows
    assert len(rows) == len(expected)
    for found, values in zip(rows, expected, strict=True):
        pid, user, pr, ni, virt, virt_unit, res, res_unit, state, cpu, mem, time, unit, name = (
            values
        )
        assert (found.pid, found.user, found.nice, found.status_raw) == (pid, user, ni, state)
        assert found.priority == (None if pr == "rt" else int(pr))
        assert abs(found.vsz_bytes - virt * 1024) <= virt_unit // 20 + 1
        assert abs(found.rss_bytes - res * 1024) <= res_unit // 20 + 1
        assert found.memory_usage_bytes == found.rss_bytes
        assert abs(found.cpu_percent - cpu) <= 0.05 + 1e-9
        assert abs(found.memory_percent - mem) <= 0.05 + 1e-9
        assert 0 <= time / 100 - found.cpu_time_seconds < unit
        assert found.process_name == name
        # In ProcessRow's field order, as both of top's row paths name them.
        flagged = ("process_name",) * name.endswith("+") + ("user",) * user.endswith("+")
        assert found.truncated_fields == flagged


@given(st.text(max_size=3000))
def test_any_text_parses_or_is_refused(raw: str) -> None:
    with suppress(ParseError):
        parse_top_linux(raw, AT)
    with suppress(ParseError):
        parse_listing(raw, os_type="linux", command="top -b", observed_at=AT)


_LINE_PARTS = st.sampled_from(
    [
        "top - ",
        "Tasks:",
        "%Cpu(s):",
        "MiB Mem :",
        "KiB Swap:",
        " PID",
        " USER",
        " 1",
        " 2.5g",
        " rt",
        " 0:01.00",
        " S",
        " +",
        " ",
        ",",
        ".",
        "\r",
        "\n",
        "total",
        "avail Mem",
        "COMMAND",
    ]
)


@given(st.lists(st.lists(_LINE_PARTS | st.text(max_size=5), max_size=14).map("".join), max_size=30))
def test_top_header_followed_by_anything(lines: list[str]) -> None:
    raw = "\n".join((TOP_LINE, *lines[:3], "", HEADER, *lines[3:]))
    try:
        listing = parse_top_linux(raw, AT)
    except ParseError:
        return
    assert all(row.line_number > 3 for row in listing.rows)
