"""procps ``top`` fields: how each is aligned, which may hold spaces, and how one is read.

The names are those of procps-ng 3.3 and 4.x (``top -O``); which are text is from top's own
field table (text left-aligned, numbers right-aligned). A field not named here is read as a
right-aligned number would be, only to find where its neighbours lie, and then ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from parsers.rows import ProcessStatus
from parsers.values import scaled_bytes, unix_status

__all__ = [
    "COLUMN_PATTERNS",
    "LEFT_ALIGNED",
    "MAY_HOLD_SPACES",
    "READERS",
    "STATUSES",
    "Reader",
    "cpu_seconds",
    "kib_size",
]

_KIB = 1024
_SIZE = r"([0-9]{1,15}(?:\.[0-9]{1,4})?[kmgtpe]?)"
_PERCENT = r"([0-9]{1,9}(?:\.[0-9]{1,3})?)"
# TIME+ as top scales it to fit: m:ss.hh, then m:ss, then hours,minutes, hours, days, weeks.
_TIME = r"([0-9]{1,9}:[0-5][0-9](?:\.[0-9]{2})?|[0-9]{1,9},[0-5][0-9]|[0-9]{1,9}[hdw])"
_TIME_UNITS = {"h": 3600, "d": 86400, "w": 604800}
STATUSES = {letter: unix_status(letter) for letter in "RSDITtZX"}

# What a value of each field read into rows looks like; any other field's value is skipped.
COLUMN_PATTERNS = {
    "PID": r"([0-9]{1,10})",
    "PPID": r"([0-9]{1,10})",
    "USER": r"(\S+)",
    "RUSER": r"(\S+)",
    "PR": r"(-?[0-9]{1,3}|rt)",
    "NI": r"(-?[0-9]{1,3})",
    "nTH": r"([0-9]{1,7})",
    "VIRT": _SIZE,
    "RES": _SIZE,
    "S": r"([A-Za-z])",
    "%CPU": _PERCENT,
    "%MEM": _PERCENT,
    "TIME+": _TIME,
    "TIME": _TIME,
    "TTY": r"(\S+)",
}
LEFT_ALIGNED = frozenset(
    {
        *("USER", "RUSER", "SUSER", "GROUP", "TTY", "COMMAND", "WCHAN", "Flags", "LXC"),
        *("CGROUPS", "SUPGIDS", "SUPGRPS", "ENVIRON", "CGNAME", "EXE"),
    }
)
# top's variable-width fields: text that may hold spaces (command lines, environments, paths).
MAY_HOLD_SPACES = frozenset(
    {"COMMAND", "CGROUPS", "SUPGIDS", "SUPGRPS", "ENVIRON", "CGNAME", "EXE", "LXC"}
)


def cpu_seconds(text: str) -> float:
    """Seconds of a TIME+ or TIME value its pattern has checked, in any form top scales to.

    ``m:ss.hh`` and ``m:ss`` (minutes unbounded) are exact; ``h,mm`` (hours and minutes) and
    ``Nh``, ``Nd``, ``Nw`` (whole hours, days, weeks) are as precise as top printed them.
    """
    if text[-3:-2] == ".":
        # Integer division by 100 rounds once, so 1:06.01 is exactly the float nearest 66.01.
        return (int(text[:-6]) * 6000 + int(text[-5:-3]) * 100 + int(text[-2:])) / 100
    minutes, colon, seconds = text.partition(":")
    if colon:
        return float(int(minutes) * 60 + int(seconds))
    hours, comma, minutes = text.partition(",")
    if comma:
        return float(int(hours) * 3600 + int(minutes) * 60)
    return float(int(text[:-1]) * _TIME_UNITS[text[-1]])


def kib_size(text: str) -> int:
    """Bytes of a VIRT/RES value its pattern has checked: KiB unless a letter says more."""
    return int(text) * _KIB if text.isdigit() else scaled_bytes(text, _KIB)


def _priority(text: str) -> int | None:
    # "rt": real-time scheduling, no number on top's scale.
    return None if text == "rt" else int(text)


def _status(text: str) -> tuple[ProcessStatus, str]:
    return STATUSES.get(text, ProcessStatus.UNKNOWN), text


def _tty(text: str) -> str | None:
    return None if text in ("?", "-") else text


class Reader:
    """How one field's text becomes ProcessRow values: the fields it fills, and a converter.

    ``convert`` takes text its pattern accepted and gives one value per name of ``fields``
    (a one-field reader gives the value itself). ``zero`` is what top leaves blank when told
    to suppress zeros (its ``Zero_suppress`` setting): the text read in place of a blank.
    A text field (``keeps_cut``: USER, TTY) cut by top keeps its printed text, ``+`` and all;
    a number top could not fit (``?``, or digits cut with a ``+``) gives None.
    """

    __slots__ = ("convert", "fields", "keeps_cut", "pattern", "zero")

    def __init__(
        self,
        fields: tuple[str, ...],
        convert: Callable[[str], Any],
        *,
        pattern: str,
        zero: str | None = None,
        keeps_cut: bool = False,
    ) -> None:
        self.fields = fields
        self.keeps_cut = keeps_cut
        self.convert = convert
        self.pattern = re.compile(pattern).fullmatch
        self.zero = zero


def _reader(
    fields: tuple[str, ...], convert: Callable[[str], Any], name: str, zero: str | None = None
) -> Reader:
    return Reader(fields, convert, pattern=COLUMN_PATTERNS[name], zero=zero)


def _text(field: str, convert: Callable[[str], Any], name: str) -> Reader:
    return Reader((field,), convert, pattern=COLUMN_PATTERNS[name], keeps_cut=True)


# The fields read into rows, by the ProcessRow fields they fill.
READERS = {
    "PID": _reader(("pid",), int, "PID"),
    "PPID": _reader(("ppid",), int, "PPID", "0"),
    "USER": _text("user", str, "USER"),
    "RUSER": _text("user", str, "RUSER"),
    "PR": _reader(("priority",), _priority, "PR", "0"),
    "NI": _reader(("nice",), int, "NI", "0"),
    "nTH": _reader(("threads",), int, "nTH", "0"),
    "VIRT": _reader(("vsz_bytes",), kib_size, "VIRT", "0"),
    "RES": _reader(("rss_bytes", "memory_usage_bytes"), lambda t: (kib_size(t),) * 2, "RES", "0"),
    "S": _reader(("status", "status_raw"), _status, "S"),
    "%CPU": _reader(("cpu_percent",), float, "%CPU", "0"),
    "%MEM": _reader(("memory_percent",), float, "%MEM", "0"),
    "TIME+": _reader(("cpu_time_seconds",), cpu_seconds, "TIME+", "0:00"),
    "TIME": _reader(("cpu_time_seconds",), cpu_seconds, "TIME", "0:00"),
    "TTY": _text("tty", _tty, "TTY"),
}
