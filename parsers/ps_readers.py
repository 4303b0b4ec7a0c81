"""Readers of ps values the ps parsers share, beyond parsers.values and parsers.times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from parsers.errors import ParseError
from parsers.times import (
    LONG_START_PRECISION,
    parse_cpu_time,
    parse_long_start_time,
    resolve_start_time,
    start_time_precision,
)
from parsers.values import integer

__all__ = [
    "ELAPSED_PRECISION",
    "USER_TRUNCATED",
    "comm_path",
    "cpu_seconds",
    "elapsed_start",
    "listing_lines",
    "niceness",
    "start_precision",
    "start_time",
    "user_truncation",
]

USER_TRUNCATED = ("user",)
ELAPSED_PRECISION = 1.0
"""The seconds a start time read from ELAPSED covers: etime and etimes count whole seconds."""
_WEEKDAYS = frozenset({"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"})


def user_truncation(user: str) -> tuple[str, ...]:
    """The truncated fields of a row whose user is ``user``: procps ends a cut name with ``+``."""
    return USER_TRUNCATED if user[-1:] == "+" else ()


def cpu_seconds(text: str) -> float:
    """A TIME value as :func:`parsers.times.parse_cpu_time` reads it, or in seconds (cputimes)."""
    return float(integer(text)) if text.isdigit() else parse_cpu_time(text)


def comm_path(text: str) -> str:
    """BSD ``comm``'s name: the base name of the path macOS prints, the name the others do."""
    return text.rstrip("/").rsplit("/", 1)[-1] or text


def start_time(observed_at: datetime) -> Callable[[str], datetime | None]:
    """A reader of any ps start column's value: START, STIME, STARTED (start or lstart).

    ``lstart`` (``Mon Oct 25 10:11:12 2021``) is exact to the second; procps ``start`` and
    ``bsdstart`` print ``Oct 25`` and ``Oct  5`` (with a space) for older processes, read as
    ``Oct25`` and ``Oct05``; the other forms are those of
    :func:`parsers.times.resolve_start_time`.
    """

    def read(text: str) -> datetime | None:
        if _is_long_start(text):
            return parse_long_start_time(text, observed_at)
        return resolve_start_time(_short_start(text), observed_at)

    return read


def start_precision(text: str) -> float | None:
    """The seconds a value :func:`start_time` reads covers (``None`` for ``-``).

    1 for ``lstart``, 86400 for ``Oct 25``, otherwise as
    :func:`parsers.times.start_time_precision` says. It depends on the text alone.
    """
    if _is_long_start(text):
        return LONG_START_PRECISION
    return start_time_precision(_short_start(text))


def _is_long_start(text: str) -> bool:
    """Whether a start value is ``lstart``'s, which begins with the weekday."""
    return text[:3] in _WEEKDAYS and text[3:4] == " "


def _short_start(text: str) -> str:
    """A start value of one word: procps start's and bsdstart's ``Oct 25`` as ``Oct25``."""
    month, space, day = text.partition(" ")
    # bsdstart pads the day with a space ("Dec  1", its words joined as "Dec 1").
    return month + day.zfill(2) if space else text


def elapsed_start(observed_at: datetime) -> Callable[[str], datetime]:
    """A reader of ELAPSED (``etime`` as ``[[dd-]hh:]mm:ss``, or ``etimes`` in seconds).

    It gives the start time ``observed_at`` minus the elapsed time: exact to the second
    when ``observed_at`` is the moment ps ran.
    """

    def read(text: str) -> datetime:
        seconds = integer(text) if text.isdigit() else parse_cpu_time(text)
        try:
            return observed_at - timedelta(seconds=seconds)
        except OverflowError as exc:
            raise ValueError(f"elapsed time {text!r}: out of range") from exc

    return read


def niceness(text: str) -> int | None:
    """A signed NI or PRI value; ``-`` (procps, for real-time processes) is ``None``."""
    if text == "-":
        return None
    return -integer(text[1:]) if text[:1] == "-" else integer(text)


def listing_lines(
    raw: str, observed_at: datetime, is_header: Callable[[str], bool], what: str
) -> tuple[str, int, list[str]]:
    """The header of a listing, the line number after it, and the raw lines after it.

    Lines are numbered as :func:`parsers.lines.numbered_lines` does, but left raw (a ``\r``
    at the end, blank ones kept) for parsers that split each line anyway: their fields hold
    no blanks, and a line that splits into nothing is blank. Raises ValueError for a naive
    ``observed_at``, ParseError for empty input or a first line that is not a ``what`` header.
    """
    if observed_at.utcoffset() is None:
        raise ValueError("observed_at must be timezone-aware")
    lines = raw.split("\n")
    for index, line in enumerate(lines):
        if line.strip():
            header = line.removesuffix("\r")
            if not is_header(header):
                raise ParseError(f"not a {what} header", line_number=index + 1, line=header)
            return header, index + 2, lines[index + 1 :]
    raise ParseError("empty listing")
