"""The time columns of ps: cumulative CPU time, and the start time resolved against the snapshot."""

from __future__ import annotations

import re
from calendar import isleap
from datetime import datetime, timedelta

__all__ = [
    "LONG_START_PRECISION",
    "parse_cpu_time",
    "parse_long_start_time",
    "resolve_start_time",
    "start_time_precision",
]

LONG_START_PRECISION = 1.0
"""The seconds a ps ``lstart`` value covers: it is printed to the second."""
_MINUTE = 60.0
_HOUR = 3600.0
_DAY = 86400.0

# ps prints English abbreviations whatever the locale of the host that parses, so they are
# matched here rather than through strptime's locale-dependent %b and %a.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH = "(?P<month>" + "|".join(_MONTHS) + ")"
_MERIDIEM = "(?P<meridiem>AM|PM)?"

# Digit counts are bounded so absurd input fails as ValueError instead of overflowing a float.
_CPU_TIME = re.compile(
    r"(?:(?:(?P<days>[0-9]{1,6})-)?(?P<hours>[0-9]{1,9}):)?"
    r"(?P<minutes>[0-9]{1,9}):(?P<seconds>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?"
)
# procps "%H:%M" (or "%H:%M:%S" for the start column); BSD "%l:%M%p" or, without an AM/PM
# locale, "%k:%M".
_CLOCK = re.compile(
    r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?" + _MERIDIEM
)
# procps "%b%d": another day of this year.
_MONTH_DAY = re.compile(_MONTH + r"(?P<day>[0-9]{2})")
# procps "%Y": another year.
_YEAR = re.compile(r"[0-9]{4}")
# BSD "%a%I%p" or "%a%H": within the last week.
_WEEKDAY_HOUR = re.compile(
    "(?P<weekday>" + "|".join(_WEEKDAYS) + r")(?P<hour>[0-9]{2})" + _MERIDIEM
)
# BSD "%e%b%y": more than a week ago.
_DAY_MONTH_YEAR = re.compile(r"(?P<day>[0-9]{1,2})" + _MONTH + r"(?P<year>[0-9]{2})")
# ps's lstart, "%a %b %e %H:%M:%S %Y" in both families, after its runs of spaces are made one.
_LONG_START = re.compile(
    "(?P<weekday>" + "|".join(_WEEKDAYS) + ") " + _MONTH + r" (?P<day>[0-9]{1,2}) "
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2}) (?P<year>[0-9]{4})"
)


def parse_cpu_time(text: str) -> float:
    """Return the seconds of a ps TIME value.

    Accepts ``m:ss`` (``0:03``, minutes unbounded as in ``8596:44``), ``h:mm:ss``
    (``00:00:03``, hours unbounded as in ``123:45:06``), ``d-hh:mm:ss`` (``1-02:03:04``),
    each optionally with a fraction of a second as macOS and BSD print (``0:10.58``).
    Raises ValueError on anything else.
    """
    match = _CPU_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"CPU time {text!r}: unrecognised format")
    days = int(match["days"] or 0)
    hours = int(match["hours"] or 0)
    minutes = int(match["minutes"])
    seconds = int(match["seconds"])
    if seconds >= 60 or (match["hours"] and minutes >= 60) or (match["days"] and hours >= 24):
        raise ValueError(f"CPU time {text!r}: field out of range")
    whole = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    # Built from the decimal text so that 1:13.66 is exactly the float nearest 73.66.
    return float(f"{whole}.{match['fraction'] or 0}")


def resolve_start_time(text: str, observed_at: datetime) -> datetime | None:
    """Return the moment a ps START/STARTED value names, never later than ``observed_at``.

    ps prints the start time relative to the moment it ran, in the host's local time, so the
    value is resolved in ``observed_at``'s time zone (which must be set):

    - ``-`` (no start time known): ``None``.
    - ``14:22``, ``9:05``, ``10:11AM``, ``3:09PM``, ``14:22:05`` (procps ``start``): that time
      today, or yesterday if today's would be after ``observed_at``.
    - ``Oct25`` (procps): midnight of that day this year, or last year if this year's would be
      after ``observed_at``.
    - ``2019`` (procps, a start in an earlier year): midnight of 1 January of that year, the
      earliest moment it could mean; the month and day are lost.
    - ``Mon03PM``, ``Mon15`` (BSD, within the last week): the start of that hour on the most
      recent such weekday not after ``observed_at``.
    - ``25Oct19``, ``5Oct19`` (BSD, more than a week ago): midnight of that date, two-digit
      years 69-99 being 1969-1999 and 00-68 being 2000-2068 as POSIX ``%y`` reads them.

    Forms without minutes or days give the start of the hour or day ps rounded down to.
    Raises ValueError on anything else, on a date that does not exist, and on a day or year
    that can only be after ``observed_at``.
    """
    if observed_at.utcoffset() is None:
        raise ValueError("observed_at must be timezone-aware")
    if text == "-":
        return None
    try:
        return _resolve(text, observed_at)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"start time {text!r}: {exc}") from exc


def _resolve(text: str, observed_at: datetime) -> datetime:
    """Resolve a start time other than ``-``; OverflowError near the ends of the calendar."""
    if match := _CLOCK.fullmatch(text):
        hour = _hour(match["hour"], match["meridiem"])
        minute = int(match["minute"])
        second = int(match["second"] or 0)
        if minute >= 60:
            raise ValueError("minute out of range")
        if second >= 60:
            raise ValueError("second out of range")
        today = _at(
            observed_at, observed_at.year, observed_at.month, observed_at.day, hour, minute, second
        )
        return today if today <= observed_at else today - timedelta(days=1)
    if match := _MONTH_DAY.fullmatch(text):
        return _latest_month_day(observed_at, _MONTHS.index(match["month"]) + 1, int(match["day"]))
    if _YEAR.fullmatch(text):
        year = int(text)
        if year > observed_at.year:
            raise ValueError("year after the snapshot")
        return _at(observed_at, year, 1, 1)
    if match := _WEEKDAY_HOUR.fullmatch(text):
        hour = _hour(match["hour"], match["meridiem"])
        days_back = (observed_at.weekday() - _WEEKDAYS.index(match["weekday"])) % 7
        that_day = observed_at - timedelta(days=days_back)
        candidate = _at(observed_at, that_day.year, that_day.month, that_day.day, hour)
        return candidate if candidate <= observed_at else candidate - timedelta(days=7)
    if match := _DAY_MONTH_YEAR.fullmatch(text):
        short_year = int(match["year"])
        year = short_year + (1900 if short_year >= 69 else 2000)
        start = _at(observed_at, year, _MONTHS.index(match["month"]) + 1, int(match["day"]))
        if start > observed_at:
            raise ValueError("date after the snapshot")
        return start
    raise ValueError("unrecognised format")


def start_time_precision(text: str) -> float | None:
    """The seconds a ps START/STARTED value covers, as :func:`resolve_start_time` reads it.

    The true start lies in [start, start + precision): ``14:22:05`` gives 1, ``14:22`` and
    ``3:09PM`` 60, ``Mon03PM`` 3600, ``Oct25`` and ``25Oct19`` 86400 (a day of the snapshot's
    fixed offset), ``2019`` the length of that year (31,536,000 or, for a leap year,
    31,622,400), ``-`` ``None``. It depends on the text alone. Raises ValueError on any other
    text.
    """
    if text == "-":
        return None
    if match := _CLOCK.fullmatch(text):
        return _MINUTE if match["second"] is None else 1.0
    if _MONTH_DAY.fullmatch(text) or _DAY_MONTH_YEAR.fullmatch(text):
        return _DAY
    if _YEAR.fullmatch(text):
        return (366 if isleap(int(text)) else 365) * _DAY
    if _WEEKDAY_HOUR.fullmatch(text):
        return _HOUR
    raise ValueError(f"start time {text!r}: unrecognised format")


def parse_long_start_time(text: str, observed_at: datetime) -> datetime:
    """Return the moment of a ps ``lstart`` value (``Mon Oct 25 10:11:12 2021``), to the second.

    Runs of spaces count as one (the day is space-padded: ``Tue Oct  5 ...``). The wall-clock
    time is read in ``observed_at``'s time zone (which must be set). Raises ValueError on
    anything else, on a date that does not exist or whose weekday is wrong, and on a moment
    after ``observed_at``.
    """
    if observed_at.utcoffset() is None:
        raise ValueError("observed_at must be timezone-aware")
    match = _LONG_START.fullmatch(" ".join(text.split()))
    if match is None:
        raise ValueError(f"start time {text!r}: unrecognised format")
    try:
        start = _at(
            observed_at,
            int(match["year"]),
            _MONTHS.index(match["month"]) + 1,
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
        )
    except ValueError as exc:
        raise ValueError(f"start time {text!r}: {exc}") from exc
    if start.weekday() != _WEEKDAYS.index(match["weekday"]):
        raise ValueError(f"start time {text!r}: wrong weekday")
    if start > observed_at:
        raise ValueError(f"start time {text!r}: after the snapshot")
    return start


def _latest_month_day(observed_at: datetime, month: int, day: int) -> datetime:
    """Midnight of month/day in the snapshot's year or the year before, whichever is not later."""
    for year in (observed_at.year, observed_at.year - 1):
        try:
            start = _at(observed_at, year, month, day)
        except ValueError:
            # Feb29 exists in only one of the two years, or year 0 does not exist at all.
            continue
        if start <= observed_at:
            return start
    raise ValueError("not a day of the year up to the snapshot")


def _hour(text: str, meridiem: str | None) -> int:
    """The 0-23 hour of a 12-hour clock with AM/PM, or of a 24-hour clock without."""
    hour = int(text)
    if meridiem is None:
        if hour >= 24:
            raise ValueError("hour out of range")
        return hour
    if not 1 <= hour <= 12:
        raise ValueError("hour out of range")
    return hour % 12 + (12 if meridiem == "PM" else 0)


def _at(
    observed_at: datetime,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
) -> datetime:
    """A wall-clock moment in the snapshot's time zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=observed_at.tzinfo)
