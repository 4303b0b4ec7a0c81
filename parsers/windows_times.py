"""The time values Windows prints: CIM datetimes, .NET date strings and TimeSpans."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache

__all__ = [
    "CIM_PRECISION",
    "cim_datetime",
    "datetime_precision",
    "dotnet_datetime",
    "snapshot_zone",
    "timespan_seconds",
]

CIM_PRECISION = 1e-06
"""The seconds a CIM datetime covers: it is printed to the microsecond."""

# CIM DATETIME: yyyymmddHHMMSS.mmmmmm, then the offset from UTC in MINUTES with its sign.
_CIM = re.compile(
    r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})"
    r"(?P<hour>[0-9]{2})(?P<minute>[0-9]{2})(?P<second>[0-9]{2})\.(?P<micro>[0-9]{6})"
    r"(?P<sign>[+-])(?P<offset>[0-9]{3})"
)
# en-US "M/d/yyyy h:mm:ss tt" and the invariant culture's "MM/dd/yyyy HH:mm:ss".
_US = re.compile(
    r"(?P<month>[0-9]{1,2})/(?P<day>[0-9]{1,2})/(?P<year>[0-9]{4}) "
    r"(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?: (?P<meridiem>AM|PM))?"
)
# ISO 8601 as .NET's "o"/"s" formats print it, with or without fraction and offset.
_ISO = re.compile(
    r"(?P<base>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,7}))?(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?"
)
# The fraction of a second of a CIM or ISO 8601 date (the en-US and invariant ones have none).
_FRACTION = re.compile(r"\.[0-9]+")
# TimeSpan's constant format "[d.]hh:mm:ss[.fffffff]".
_TIMESPAN = re.compile(
    r"(?:(?P<days>[0-9]{1,8})\.)?(?P<hours>[0-9]{2}):(?P<minutes>[0-9]{2}):(?P<seconds>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,7}))?"
)


def cim_datetime(text: str) -> datetime:
    """The aware moment of a CIM datetime such as ``20201010123456.123456+060``.

    The three digits after the sign are the offset from UTC in minutes (``+060`` is UTC+1,
    ``-300`` UTC-5). Raises ValueError on anything else, including the ``*`` wildcards CIM
    allows for unknown fields, and on dates that do not exist.
    """
    match = _CIM.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a CIM datetime")
    minutes = int(match["offset"]) * (-1 if match["sign"] == "-" else 1)
    # Real offsets run from UTC-12 to UTC+14.
    if abs(minutes) > 14 * 60:
        raise ValueError(f"{text!r}: offset out of range")
    return datetime(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        int(match["hour"]),
        int(match["minute"]),
        int(match["second"]),
        int(match["micro"]),
        tzinfo=_offset(minutes),
    )


@cache
def _offset(minutes: int) -> timezone:
    """The fixed zone of an offset, made once: a listing's dates share a handful of them."""
    return timezone(timedelta(minutes=minutes))


def dotnet_datetime(text: str, zone: tzinfo) -> datetime:
    """The aware moment of a DateTime as PowerShell prints it in en-US or invariant culture.

    Accepts ``10/10/2020 12:34:56 PM`` (en-US), ``10/10/2020 12:34:56`` (invariant: month
    first, 24-hour clock) and ISO 8601 (``2020-10-10T12:34:56.1234567+02:00``). A time without
    an offset is wall-clock time in ``zone``, the snapshot's. Raises ValueError on anything
    else (other cultures' orders such as ``10.10.2020`` are refused, not guessed).
    """
    if match := _US.fullmatch(text):
        hour = int(match["hour"])
        if meridiem := match["meridiem"]:
            if not 1 <= hour <= 12:
                raise ValueError(f"{text!r}: hour out of range")
            hour = hour % 12 + (12 if meridiem == "PM" else 0)
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            hour,
            int(match["minute"]),
            int(match["second"]),
            tzinfo=zone,
        )
    if match := _ISO.fullmatch(text):
        # .NET prints seven fraction digits (100 ns ticks); Python keeps six.
        fraction = (match["fraction"] or "")[:6].ljust(6, "0")
        offset = match["offset"] or ""
        moment = datetime.fromisoformat(
            f"{match['base']}.{fraction}{'+00:00' if offset == 'Z' else offset}"
        )
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    raise ValueError(f"{text!r} is not a date and time PowerShell prints")


def datetime_precision(text: str) -> float:
    """The seconds a date that :func:`cim_datetime` or :func:`dotnet_datetime` read covers.

    What was printed: 1 without a fraction of a second (``10/10/2020 12:34:56 PM``),
    ``10 ** -n`` with ``n`` digits of one (``2020-10-10T12:34:56.125+02:00``: 0.001), and no
    finer than 1e-6 (a CIM datetime's microseconds; .NET's seventh digit is dropped when
    read, so the moment kept is up to 1 µs early). Only for a text one of them read.
    """
    if "." not in text:
        return 1.0
    match = _FRACTION.search(text)
    return 1.0 if match is None else 10.0 ** -min(len(match[0]) - 1, 6)


def timespan_seconds(text: str) -> float:
    """The seconds of a .NET TimeSpan printed as ``00:01:23.4560000`` or ``1.02:03:04``."""
    match = _TIMESPAN.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a TimeSpan")
    hours, minutes, seconds = int(match["hours"]), int(match["minutes"]), int(match["seconds"])
    if hours >= 24 or minutes >= 60 or seconds >= 60:
        raise ValueError(f"{text!r}: field out of range")
    whole = ((int(match["days"] or 0) * 24 + hours) * 60 + minutes) * 60 + seconds
    return float(f"{whole}.{match['fraction'] or 0}")


def snapshot_zone(observed_at: datetime) -> tzinfo:
    """The time zone of the snapshot's moment; ValueError (caller error) if it is naive."""
    zone = observed_at.tzinfo
    if zone is None or observed_at.utcoffset() is None:
        raise ValueError("observed_at must be timezone-aware")
    return zone
