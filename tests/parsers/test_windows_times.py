"""CIM datetimes, .NET date strings and TimeSpans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.windows_times import (
    cim_datetime,
    datetime_precision,
    dotnet_datetime,
    snapshot_zone,
    timespan_seconds,
)
from tests.parsers.windows_render import cim_datetime_text, en_us_datetime

PLUS_ONE = timezone(timedelta(hours=1))
MINUS_FIVE = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("20201010123456.123456+060", datetime(2020, 10, 10, 12, 34, 56, 123456, PLUS_ONE)),
        ("20201010123456.000000-300", datetime(2020, 10, 10, 12, 34, 56, tzinfo=MINUS_FIVE)),
        ("20170712121425.018613-420", datetime(2017, 7, 12, 19, 14, 25, 18613, tzinfo=UTC)),
        ("20200229000000.000000+000", datetime(2020, 2, 29, tzinfo=UTC)),
        # India and Nepal: offsets that are not whole hours.
        ("20201010123456.000000+345", datetime(2020, 10, 10, 6, 49, 56, tzinfo=UTC)),
    ],
)
def test_cim_datetimes(text: str, moment: datetime) -> None:
    assert cim_datetime(text) == moment


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("20201010123456.123456+060", 1e-06),
        ("20201010123456.000000-300", 1e-06),
        ("10/10/2020 12:34:56 PM", 1.0),
        ("10/10/2020 12:34:56", 1.0),
        ("2020-10-10T12:34:56", 1.0),
        ("2020-10-10T12:34:56+02:00", 1.0),
        ("2020-10-10T12:34:56.1Z", 0.1),
        ("2020-10-10T12:34:56.125-05:00", 0.001),
        # .NET's seventh digit is dropped when read: what is kept is to the microsecond.
        ("2020-10-10T12:34:56.1234567+02:00", 1e-06),
    ],
)
def test_datetime_precision_is_what_was_printed(text: str, precision: float) -> None:
    assert datetime_precision(text) == precision


@pytest.mark.parametrize(
    "text",
    [
        "",
        "20201010123456.123456+60",
        "20201010123456+060",
        "2020101012345*.******+060",
        "20190229000000.000000+000",
        "20201310000000.000000+000",
        "20201010123456.123456+1440",
        "20201010123456.123456+999",
        "20201010123456.123456 060",
    ],
)
def test_bad_cim_datetimes(text: str) -> None:
    with pytest.raises(ValueError, match=r"CIM datetime|out of range|day|month"):
        cim_datetime(text)


@given(
    st.datetimes(min_value=datetime(1601, 1, 1), max_value=datetime(9999, 12, 30)),
    st.integers(-12 * 60, 14 * 60),
)
def test_cim_datetimes_round_trip(moment: datetime, minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    assert cim_datetime(cim_datetime_text(aware)) == aware


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("10/10/2020 12:34:56 PM", datetime(2020, 10, 10, 12, 34, 56, tzinfo=PLUS_ONE)),
        ("10/10/2020 12:34:56 AM", datetime(2020, 10, 10, 0, 34, 56, tzinfo=PLUS_ONE)),
        ("1/5/2021 3:04:05 PM", datetime(2021, 1, 5, 15, 4, 5, tzinfo=PLUS_ONE)),
        ("10/10/2020 23:34:56", datetime(2020, 10, 10, 23, 34, 56, tzinfo=PLUS_ONE)),
        ("2020-10-10T12:34:56", datetime(2020, 10, 10, 12, 34, 56, tzinfo=PLUS_ONE)),
        ("2020-10-10T12:34:56Z", datetime(2020, 10, 10, 12, 34, 56, tzinfo=UTC)),
        (
            "2020-10-10T12:34:56.1234567-05:00",
            datetime(2020, 10, 10, 12, 34, 56, 123456, tzinfo=MINUS_FIVE),
        ),
    ],
)
def test_dotnet_dates(text: str, moment: datetime) -> None:
    assert dotnet_datetime(text, PLUS_ONE) == moment


@pytest.mark.parametrize(
    "text",
    [
        "10.10.2020 12:34:56",
        "2020/10/10 12:34:56",
        "13/10/2020 12:34:56",
        "10/10/2020 13:34:56 PM",
        "10/10/2020 0:34:56 AM",
        "10/10/2020",
        "2020-10-10 12:34:56",
        "2020-10-10T25:00:00",
    ],
)
def test_other_date_forms_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        dotnet_datetime(text, UTC)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_en_us_dates_round_trip(moment: datetime) -> None:
    expected = moment.replace(microsecond=0, tzinfo=UTC)
    if moment.year >= 1000:
        assert dotnet_datetime(en_us_datetime(moment), UTC) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:01:23.4560000", 83.456),
        ("00:00:00", 0.0),
        ("1.02:03:04.5000000", 93784.5),
        ("23:59:59.9999999", 86399.9999999),
    ],
)
def test_timespans(text: str, seconds: float) -> None:
    assert timespan_seconds(text) == seconds


@pytest.mark.parametrize(
    "text", ["1:02:03", "00:60:00", "24:00:00", "-00:00:01", "00:00:00.12345678"]
)
def test_bad_timespans(text: str) -> None:
    with pytest.raises(ValueError, match=r"TimeSpan|out of range"):
        timespan_seconds(text)


def test_snapshot_zone() -> None:
    assert snapshot_zone(datetime(2020, 1, 1, tzinfo=PLUS_ONE)) is PLUS_ONE
    with pytest.raises(ValueError, match="timezone-aware"):
        snapshot_zone(datetime(2020, 1, 1))
