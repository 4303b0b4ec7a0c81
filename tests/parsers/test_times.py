"""ps TIME and START/STARTED values: every form, and start times never after the snapshot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.times import parse_cpu_time, parse_long_start_time, resolve_start_time

# A Friday.
OBSERVED_AT = datetime(2019, 11, 1, 12, 0, tzinfo=UTC)
PACIFIC = timezone(timedelta(hours=-7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:03", 3.0),
        ("12:34", 754.0),
        ("1234:56", 74096.0),
        ("00:00:03", 3.0),
        ("01:02:03", 3723.0),
        ("123:45:06", 445506.0),
        ("1-02:03:04", 93784.0),
        ("0:10.58", 10.58),
        ("1:13.66", 73.66),
        ("8596:44.23", 515804.23),
    ],
)
def test_parse_cpu_time_reads_every_form(text: str, seconds: float) -> None:
    assert parse_cpu_time(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "3",
        "0:3",
        "0:60",
        "1:60:00",
        "1-24:00:00",
        "1-02:03",
        "1:02:03:04",
        "-1:00",
        "+1:00",
        " 0:03",
        "0:03.",
        "0:03.5.",
        "a:bc",
        "\u0663:\u0660\u0663",
        "9999999999:00",
    ],
)
def test_parse_cpu_time_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="CPU time"):
        parse_cpu_time(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Clock times: today, or yesterday when today's is still to come.
        ("03:09", utc(2019, 11, 1, 3, 9)),
        ("9:05", utc(2019, 11, 1, 9, 5)),
        ("12:00", utc(2019, 11, 1, 12, 0)),
        ("14:22", utc(2019, 10, 31, 14, 22)),
        ("10:11AM", utc(2019, 11, 1, 10, 11)),
        ("12:05AM", utc(2019, 11, 1, 0, 5)),
        ("3:09PM", utc(2019, 10, 31, 15, 9)),
        ("12:30PM", utc(2019, 10, 31, 12, 30)),
        # Month and day: this year, or last year when this year's is still to come.
        ("Oct25", utc(2019, 10, 25)),
        ("Nov01", utc(2019, 11, 1)),
        ("Dec24", utc(2018, 12, 24)),
        # A year: its first moment.
        ("2019", utc(2019, 1, 1)),
        ("2018", utc(2018, 1, 1)),
        # Weekday and hour: the latest such hour not after the snapshot.
        ("Mon03PM", utc(2019, 10, 28, 15, 0)),
        ("Fri11AM", utc(2019, 11, 1, 11, 0)),
        ("Fri01PM", utc(2019, 10, 25, 13, 0)),
        ("Fri12AM", utc(2019, 11, 1, 0, 0)),
        ("Thu15", utc(2019, 10, 31, 15, 0)),
        ("Sat09", utc(2019, 10, 26, 9, 0)),
        # Day, month and two-digit year.
        ("25Oct19", utc(2019, 10, 25)),
        ("5Oct19", utc(2019, 10, 5)),
        ("31Dec99", utc(1999, 12, 31)),
        ("31Dec69", utc(1969, 12, 31)),
        ("1Jan00", utc(2000, 1, 1)),
        ("1Jan70", utc(1970, 1, 1)),
        ("1Nov19", utc(2019, 11, 1)),
    ],
)
def test_resolve_start_time_forms(text: str, expected: datetime) -> None:
    assert resolve_start_time(text, OBSERVED_AT) == expected


def test_dash_means_unknown() -> None:
    assert resolve_start_time("-", OBSERVED_AT) is None


@pytest.mark.parametrize(
    ("text", "observed_at", "expected"),
    [
        # Across midnight and the end of a month.
        ("23:50", utc(2019, 11, 1, 0, 30), utc(2019, 10, 31, 23, 50)),
        ("11:50PM", utc(2019, 11, 1, 0, 30), utc(2019, 10, 31, 23, 50)),
        # Across the end of a year.
        ("23:59", utc(2020, 1, 1, 0, 5), utc(2019, 12, 31, 23, 59)),
        ("Dec31", utc(2020, 1, 1, 0, 5), utc(2019, 12, 31)),
        ("Jan01", utc(2020, 1, 1, 0, 5), utc(2020, 1, 1)),
        ("Tue11PM", utc(2020, 1, 1, 0, 5), utc(2019, 12, 31, 23, 0)),
        # Feb29 belongs to whichever of the two years is a leap year.
        ("Feb29", utc(2020, 3, 1), utc(2020, 2, 29)),
        ("Feb29", utc(2021, 2, 1), utc(2020, 2, 29)),
    ],
)
def test_start_time_goes_back_rather_than_past_the_snapshot(
    text: str, observed_at: datetime, expected: datetime
) -> None:
    assert resolve_start_time(text, observed_at) == expected


def test_start_time_is_read_in_the_snapshot_time_zone() -> None:
    # 02:00 in UTC-7 is 09:00 UTC: 03:09 has not come yet there, so it was yesterday.
    observed_at = datetime(2019, 11, 1, 2, 0, tzinfo=PACIFIC)
    start = resolve_start_time("03:09", observed_at)
    assert start == datetime(2019, 10, 31, 3, 9, tzinfo=PACIFIC)
    assert start is not None
    assert start.tzinfo is PACIFIC


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "Oct",
        "oct25",
        "OCT25",
        "Octo25",
        "Oct 25",
        "Oct5",
        "Foo25",
        "1:2",
        "10:11am",
        "10:11 AM",
        "Mon3PM",
        "19",
        "20190",
        "tomorrow",
        "--",
        "\u0661\u0660:\u0661\u0661",
    ],
)
def test_resolve_start_time_refuses_unrecognised_text(text: str) -> None:
    with pytest.raises(
        ValueError, match=f"start time {re.escape(repr(text))}: unrecognised format"
    ):
        resolve_start_time(text, OBSERVED_AT)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("25:00", "hour out of range"),
        ("0:30AM", "hour out of range"),
        ("13:00PM", "hour out of range"),
        ("Mon13PM", "hour out of range"),
        ("Mon24", "hour out of range"),
        ("10:60", "minute out of range"),
        ("32Oct19", "day is out of range"),
        ("0Oct19", "day is out of range"),
    ],
)
def test_resolve_start_time_refuses_fields_out_of_range(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"start time {re.escape(repr(text))}: {problem}"):
        resolve_start_time(text, OBSERVED_AT)


@pytest.mark.parametrize(
    ("text", "observed_at", "problem"),
    [
        ("Feb30", OBSERVED_AT, "not a day of the year up to the snapshot"),
        ("Feb29", utc(2022, 3, 1), "not a day of the year up to the snapshot"),
        ("Feb29", utc(2020, 2, 28), "not a day of the year up to the snapshot"),
        ("2020", OBSERVED_AT, "year after the snapshot"),
        ("2Nov19", OBSERVED_AT, "date after the snapshot"),
        ("1Jan68", OBSERVED_AT, "date after the snapshot"),
        ("30Feb19", OBSERVED_AT, "day is out of range"),
        ("23:59", datetime.min.replace(tzinfo=UTC), "out of range"),
        ("Sun01AM", datetime.min.replace(tzinfo=UTC), "out of range"),
    ],
)
def test_resolve_start_time_refuses_impossible_dates(
    text: str, observed_at: datetime, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        resolve_start_time(text, observed_at)


def test_resolve_start_time_needs_an_aware_snapshot_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_start_time("03:09", datetime(2019, 11, 1, 12, 0))


SNAPSHOT_TIMES = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, PACIFIC, timezone(timedelta(hours=5, minutes=30))]),
)
HOURS_24 = st.integers(0, 23)
MINUTES = st.integers(0, 59)
HOURS_12 = st.tuples(st.integers(1, 12), st.sampled_from(["AM", "PM"]))
WEEKDAYS = st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
MONTHS = st.sampled_from(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
)


@given(
    observed_at=SNAPSHOT_TIMES,
    text=st.one_of(
        st.builds("{}:{:02}".format, HOURS_24, MINUTES),
        st.builds(lambda hm, m: f"{hm[0]}:{m:02}{hm[1]}", HOURS_12, MINUTES),
    ),
)
def test_clock_times_resolve_within_the_last_day(observed_at: datetime, text: str) -> None:
    start = resolve_start_time(text, observed_at)
    assert start is not None
    assert start.tzinfo is observed_at.tzinfo
    assert observed_at - timedelta(days=1) < start <= observed_at


@given(
    observed_at=SNAPSHOT_TIMES,
    text=st.one_of(
        st.builds("{}{:02}".format, WEEKDAYS, HOURS_24),
        st.builds(lambda day, hm: f"{day}{hm[0]:02}{hm[1]}", WEEKDAYS, HOURS_12),
    ),
)
def test_weekday_hours_resolve_within_the_last_week(observed_at: datetime, text: str) -> None:
    start = resolve_start_time(text, observed_at)
    assert start is not None
    assert start.tzinfo is observed_at.tzinfo
    assert observed_at - timedelta(days=7) < start <= observed_at
    assert start.strftime("%a") == text[:3]


@given(
    observed_at=SNAPSHOT_TIMES,
    text=st.builds("{}{:02}".format, MONTHS, st.integers(1, 28)),
)
def test_month_days_resolve_within_the_last_year(observed_at: datetime, text: str) -> None:
    start = resolve_start_time(text, observed_at)
    assert start is not None
    assert start.tzinfo is observed_at.tzinfo
    assert observed_at - timedelta(days=366) < start <= observed_at
    assert start.strftime("%b%d") == text


def test_resolve_start_time_reads_procps_start_to_the_second() -> None:
    at = datetime(2021, 10, 26, 12, 0, tzinfo=UTC)
    assert resolve_start_time("10:11:12", at) == datetime(2021, 10, 26, 10, 11, 12, tzinfo=UTC)
    assert resolve_start_time("12:00:01", at) == datetime(2021, 10, 25, 12, 0, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="second out of range"):
        resolve_start_time("10:11:60", at)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon Oct 25 10:11:12 2021", datetime(2021, 10, 25, 10, 11, 12, tzinfo=UTC)),
        ("Tue Oct  5 09:00:00 2021", datetime(2021, 10, 5, 9, 0, tzinfo=UTC)),
        ("Tue Oct 26 12:00:00 2021", datetime(2021, 10, 26, 12, 0, tzinfo=UTC)),
    ],
)
def test_parse_long_start_time(text: str, expected: datetime) -> None:
    assert parse_long_start_time(text, datetime(2021, 10, 26, 12, 0, tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Mon Oct 26 10:11:12 2021", "wrong weekday"),
        ("Tue Oct 26 12:00:01 2021", "after the snapshot"),
        ("Fri Feb 30 10:11:12 2021", "day is out of range"),
        ("Mon Oct 25 10:11 2021", "unrecognised format"),
        ("Oct 25 10:11:12 2021", "unrecognised format"),
    ],
)
def test_parse_long_start_time_refusals(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_long_start_time(text, datetime(2021, 10, 26, 12, 0, tzinfo=UTC))
