"""The precision of a printed start time: the seconds its text covers, per shape and format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from parsers import parse_listing
from parsers.ps_readers import start_precision
from parsers.rows import ProcessRow
from parsers.times import resolve_start_time, start_time_precision
from tests.parsers.fixtures import read_fixture

OBSERVED_AT = datetime(2026, 12, 2, 1, 3, 16, tzinfo=UTC)
DAY = 86400.0
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def test_the_field_follows_start_time() -> None:
    fields = ProcessRow._fields
    assert fields[fields.index("start_time") + 1] == "start_time_precision"
    assert ProcessRow(line_number=1, pid=1, process_name="x").start_time_precision is None


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("-", None),
        ("14:03", 60.0),
        ("9:05", 60.0),
        ("3:09PM", 60.0),
        ("14:03:07", 1.0),
        ("Nov28", DAY),
        ("Feb29", DAY),
        ("25Oct19", DAY),
        ("5Oct19", DAY),
        ("Mon03PM", 3600.0),
        ("Sat15", 3600.0),
        ("2025", 365 * DAY),
        ("2024", 366 * DAY),
        ("1900", 365 * DAY),
        ("2000", 366 * DAY),
    ],
)
def test_every_shape_resolve_start_time_reads(text: str, precision: float | None) -> None:
    assert start_time_precision(text) == precision


@pytest.mark.parametrize("text", ["", "Foo25", "14", "14:03:07:01", "Mon 03PM", "20251"])
def test_unrecognised_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="unrecognised format"):
        start_time_precision(text)


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("Mon Oct 25 10:11:12 2021", 1.0),
        ("Tue Oct 5 10:11:12 2021", 1.0),
        # procps start and bsdstart of an older process, words joined by one space.
        ("Oct 25", DAY),
        ("Dec 1", DAY),
        ("10:11:12", 1.0),
        ("10:11", 60.0),
        ("-", None),
    ],
)
def test_ps_o_start_columns(text: str, precision: float | None) -> None:
    assert start_precision(text) == precision


ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
)
SNAPSHOTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES
)


def procps_start(start: datetime, now: datetime) -> str:
    """START or STIME as procps prints it: %H:%M today, %b%d this year, else %Y."""
    if start.year != now.year:
        return f"{start.year}"
    if (start.month, start.day) != (now.month, now.day):
        return f"{MONTHS[start.month - 1]}{start.day:02}"
    return f"{start.hour:02}:{start.minute:02}"


def bsd_start(start: datetime, now: datetime) -> str:
    """STARTED as the BSDs print it: %l:%M%p within a day, %a%I%p a week, else %e%b%y."""
    hour12 = start.hour % 12 or 12
    meridiem = "AM" if start.hour < 12 else "PM"
    if now - start < timedelta(days=1):
        return f"{hour12}:{start.minute:02}{meridiem}"
    if now - start < timedelta(days=7):
        return f"{WEEKDAYS[start.weekday()]}{hour12:02}{meridiem}"
    return f"{start.day}{MONTHS[start.month - 1]}{start.year % 100:02}"


@given(now=SNAPSHOTS, ago=st.integers(0, 3 * 366 * 86400), bsd=st.booleans())
def test_the_true_start_lies_within_the_printed_precision(
    now: datetime, ago: int, bsd: bool
) -> None:
    true_start = now - timedelta(seconds=ago, microseconds=now.microsecond)
    if bsd:
        # %y keeps two digits: 1969-2068 only. Within the week, a start on today's weekday
        # but after today's hour reads as today's (ps prints no more than the weekday).
        assume(1969 <= true_start.year <= 2068)
        assume(not (timedelta(days=6) < now - true_start < timedelta(days=7)))
        # Likewise a start a day ago, in the minute after now's: it reads as today's.
        assume(not (timedelta(days=1, minutes=-1) < now - true_start < timedelta(days=1)))
        text = bsd_start(true_start, now)
    else:
        text = procps_start(true_start, now)
    start = resolve_start_time(text, now)
    precision = start_time_precision(text)
    assert start is not None
    assert precision is not None
    assert start <= true_start < start + timedelta(seconds=precision)


PS_AUX = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n"
PS_O = "  PID                  STARTED     ELAPSED CMD\n"


@pytest.mark.parametrize(
    ("command", "raw", "start", "precision"),
    [
        # ps aux START: today's start to the minute, a day-old one, a year-old one.
        (
            "ps aux",
            PS_AUX + "root 7 0.0 0.0 0 0 ? S 00:51 0:00 x\n",
            datetime(2026, 12, 2, 0, 51, tzinfo=UTC),
            60.0,
        ),
        (
            "ps aux",
            PS_AUX + "root 7 0.0 0.0 0 0 ? S Dec01 0:00 x\n",
            datetime(2026, 12, 1, tzinfo=UTC),
            DAY,
        ),
        (
            "ps aux",
            PS_AUX + "root 7 0.0 0.0 0 0 ? S 2025 0:00 x\n",
            datetime(2025, 1, 1, tzinfo=UTC),
            365 * DAY,
        ),
        (
            "ps aux",
            PS_AUX + "root 7 0.0 0.0 0 0 ? S - 0:00 x\n",
            None,
            None,
        ),
        # ps -ef STIME.
        (
            "ps -ef",
            "UID PID PPID C STIME TTY TIME CMD\nroot 7 1 0 Nov28 ? 00:00:00 x\n",
            datetime(2026, 11, 28, tzinfo=UTC),
            DAY,
        ),
        # lstart beats ELAPSED; ELAPSED (etime, etimes) alone gives the start to the second.
        (
            "ps -eo",
            PS_O + "    7 Tue Dec  1 23:55:54 2026    01:07:22 x\n",
            datetime(2026, 12, 1, 23, 55, 54, tzinfo=UTC),
            1.0,
        ),
        (
            "ps -eo",
            "  PID     ELAPSED CMD\n    7    01:07:22 x\n",
            datetime(2026, 12, 1, 23, 55, 54, tzinfo=UTC),
            1.0,
        ),
        (
            "ps -eo",
            "  PID ELAPSED CMD\n    7    4042 x\n",
            datetime(2026, 12, 1, 23, 55, 54, tzinfo=UTC),
            1.0,
        ),
        # wmic's CIM datetime: to the microsecond.
        (
            "wmic process get",
            "Node,CreationDate,Name,ProcessId\nPC,20261201235554.500000+060,x.exe,7\n",
            datetime(2026, 12, 1, 22, 55, 54, 500000, tzinfo=UTC),
            1e-06,
        ),
        (
            "wmic process get",
            "Node,CreationDate,Name,ProcessId\nPC,,x.exe,7\n",
            None,
            None,
        ),
        # Get-Process StartTime: as printed, here to the second.
        (
            "Get-Process | ConvertTo-Csv",
            '"Id","Name","StartTime"\n"7","x","12/1/2026 11:55:54 PM"\n',
            datetime(2026, 12, 1, 23, 55, 54, tzinfo=UTC),
            1.0,
        ),
    ],
)
def test_each_format_says_its_precision(
    command: str, raw: str, start: datetime | None, precision: float | None
) -> None:
    os_type = "windows" if command[0] in "wG" else "linux"
    [row] = parse_listing(raw, os_type=os_type, command=command, observed_at=OBSERVED_AT).rows
    assert (row.start_time, row.start_time_precision) == (start, precision)


@pytest.mark.parametrize(
    ("fixture", "os_type"),
    [
        ("linux-local/top-b-n1-w512-every-field.out", "linux"),
        ("macos/macos-top-l-sample-dotnet-command-line-api.out", "macos"),
        ("freebsd/freebsd-top-handbook.out", "freebsd"),
        ("windows/win10-en-US-tasklist-v-handmade.out", "windows"),
        ("windows/win10-en-US-tasklist-v-fo-csv-handmade.out", "windows"),
        ("windows/ps51-Get-Process-default-table.out", "windows"),
    ],
)
def test_formats_without_a_start_time_say_none(fixture: str, os_type: str) -> None:
    rows = parse_listing(
        read_fixture(fixture), os_type=os_type, command="", observed_at=OBSERVED_AT
    ).rows
    assert rows
    assert {(row.start_time, row.start_time_precision) for row in rows} == {(None, None)}
