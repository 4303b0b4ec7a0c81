"""Linux procps ``top -b``: the last sample's process table, and its summary as metadata."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from parsers.errors import ParseError
from parsers.formats import ListingFormat
from parsers.gc_pause import collection_paused
from parsers.rows import Listing, ProcessRow, ProcessStatus, row_of
from parsers.top_summary import labelled_numbers, read_last_sample
from parsers.values import scaled_bytes, unix_status

__all__ = ["FORMATS", "is_top_linux_header", "parse_top_linux"]

_MARKER = "top - "
_KIB = 1024
_SIZE = r"([0-9]{1,15}(?:\.[0-9]{1,4})?[kmgtpe]?)"
_PERCENT = r"([0-9]{1,9}(?:\.[0-9]{1,3})?)"
# TIME+ as top scales it to fit: m:ss.hh, then m:ss, then hours,minutes, hours, days, weeks.
_TIME = r"([0-9]{1,9}:[0-5][0-9](?:\.[0-9]{2})?|[0-9]{1,9},[0-5][0-9]|[0-9]{1,9}[hdw])"
# The columns read into rows; any other column top can show is one word, checked and skipped.
_COLUMN_PATTERNS = {
    "PID": r"([0-9]{1,10})",
    "PPID": r"([0-9]{1,10})",
    "USER": r"(\S+)",
    "PR": r"(-?[0-9]{1,3}|rt)",
    "NI": r"(-?[0-9]{1,3})",
    "nTH": r"([0-9]{1,7})",
    "VIRT": _SIZE,
    "RES": _SIZE,
    "SHR": _SIZE,
    "S": r"([A-Za-z])",
    "%CPU": _PERCENT,
    "%MEM": _PERCENT,
    "TIME+": _TIME,
    "TIME": _TIME,
    "TTY": r"(\S+)",
}
_OTHER_COLUMN = r"(\S+)"
# The last column may hold spaces (a process may name itself "my prog (test)").
_LAST_COLUMN = r"(\S(?:.*\S)?)"
_USER_CUT = ("user",)
_TIME_UNITS = {"h": 3600, "d": 86400, "w": 604800}
_STATUSES = {letter: unix_status(letter) for letter in "RSDITtZX"}
_UPTIME_LINE = re.compile(
    r"top - (?P<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2}) +up +(?P<uptime>.+?)"
    r"(?:, +(?P<users>[0-9]{1,9}) users?)?, +load average: +"
    r"(?P<load1>[0-9]{1,9}[.,][0-9]{2}),? +(?P<load5>[0-9]{1,9}[.,][0-9]{2}),? +"
    r"(?P<load15>[0-9]{1,9}[.,][0-9]{2}) *"
)
_MEMORY_LINE = re.compile(r"(?:(?P<unit>[KMGTPE])iB )?(?P<kind>Mem|Swap) *:(?P<pairs>.*)")
_TASK_LABELS = frozenset({"total", "running", "sleeping", "stopped", "zombie"})
_CPU_LABELS = frozenset({"us", "sy", "ni", "id", "wa", "hi", "si", "st"})
_MEMORY_LABELS = {
    "total": "total",
    "free": "free",
    "used": "used",
    "buff/cache": "buff_cache",
    "buffers": "buffers",
    "avail Mem": "available",
    "cached Mem": "cached",
    "cached": "cached",
}
# Swap lines end with the memory available (or cached, before procps 3.3.10): memory's figures.
_MEMORY_ON_SWAP_LINE = frozenset({"available", "cached"})


def is_top_linux_header(line: str) -> bool:
    """Tell whether ``line``, a listing's first, opens a procps ``top -b`` sample."""
    return line.startswith(_MARKER)


def _seconds(text: str) -> float:
    """Seconds of a TIME+ or TIME value the row pattern has checked, in any form top scales to.

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


def parse_top_linux(raw: str, observed_at: datetime) -> Listing:
    """Parse ``top -b`` output (any number of samples) into the last sample's rows.

    Rows come from the last sample's table, read by its header: PID and COMMAND are needed;
    USER, PPID, PR, NI, nTH, VIRT, RES, %CPU, %MEM, S, TIME+/TIME and TTY are read when shown,
    other columns must be one word each. ``line_number`` counts every line of ``raw``.

    Sizes without a letter are KiB, ``m``/``g``/``t``/``p``/``e`` are powers of 1024 over it
    (``1.2g``). VIRT gives ``vsz_bytes``; RES gives ``rss_bytes`` and ``memory_usage_bytes``.
    A PR of ``rt`` (real-time scheduling, no number on top's scale) gives ``priority=None``.
    COMMAND is the process name: ``command_line`` stays None. A USER or COMMAND ending in ``+``
    (top's mark of a value cut to fit) is kept as printed and named in ``truncated_fields``.

    Metadata: ``time``, ``uptime`` (as printed), ``users``, ``load_average`` (1, 5, 15 min),
    ``tasks`` (or ``threads``), ``cpu_percent``, ``memory_bytes`` and ``swap_bytes`` (in bytes
    whatever unit top printed, as precise as printed), ``samples``. Raises ParseError for a
    first line that is not top's, an unreadable summary line (top's English texts are
    expected), no header, or any bad row.
    """
    return read_last_sample(
        raw,
        observed_at,
        name="top -b",
        what="top -b",
        is_header=is_top_linux_header,
        marker_of=lambda _: _MARKER,
        is_table_header=_is_table_header,
        read_summary=_read_summary,
        read_table=_table,
    )


def _is_table_header(line: str) -> bool:
    return "PID" in line.split()


def _read_summary(metadata: dict[str, Any], line_number: int, line: str, first: bool) -> None:
    """The first line holds the uptime; the others are read by :func:`_summary_line`."""
    if first:
        metadata.update(_uptime_line(line_number, line))
    else:
        _summary_line(metadata, line_number, line)


def _uptime_line(line_number: int, line: str) -> dict[str, object]:
    match = _UPTIME_LINE.fullmatch(line)
    if match is None:
        raise ParseError("unreadable top summary line", line_number=line_number, line=line)
    return {
        "time": match["time"],
        "uptime": match["uptime"],
        "users": None if match["users"] is None else int(match["users"]),
        # Some locales print a decimal comma.
        "load_average": [
            float(match[key].replace(",", ".")) for key in ("load1", "load5", "load15")
        ],
    }


def _summary_line(metadata: dict[str, Any], line_number: int, line: str) -> None:
    """Read one summary line below the first into ``metadata``; ParseError if unknown."""
    head, colon, text = line.partition(":")
    if colon and head in ("Tasks", "Threads"):
        counts = labelled_numbers(text, _TASK_LABELS, line_number, line)
        metadata[head.lower()] = {label: int(value) for label, value in counts.items()}
    elif colon and head.startswith(("%Cpu", "Cpu")):
        percents = labelled_numbers(text, _CPU_LABELS, line_number, line)
        cpu = head.removeprefix("%").removeprefix("Cpu").strip()
        key = "cpu_percent" if cpu == "(s)" else f"cpu{cpu}_percent"
        metadata[key] = {label: float(value) for label, value in percents.items()}
    elif match := _MEMORY_LINE.fullmatch(line):
        unit = 1024 ** " KMGTPE".index(match["unit"] or "K")
        pairs = labelled_numbers(match["pairs"], _MEMORY_LABELS, line_number, line)
        kind = "memory_bytes" if match["kind"] == "Mem" else "swap_bytes"
        for label, value in pairs.items():
            key = _MEMORY_LABELS[label]
            # A "k" after the number (procps before 3.3.10) says again what the unit says.
            size = scaled_bytes(value.removesuffix("k"), unit)
            target = "memory_bytes" if key in _MEMORY_ON_SWAP_LINE else kind
            metadata.setdefault(target, {})[key] = size
    else:
        raise ParseError("unknown top summary line", line_number=line_number, line=line)


def _table(header_number: int, lines: list[str]) -> list[ProcessRow]:
    """Rows of the table whose header is ``lines[0]``; ParseError for any bad row."""
    header = lines[0].removesuffix("\r")
    names = header.split()
    if "COMMAND" not in names or names.count("PID") != 1:
        raise ParseError(
            "top header without PID and COMMAND", line_number=header_number, line=header
        )
    patterns = [_COLUMN_PATTERNS.get(name, _OTHER_COLUMN) for name in names]
    if names[-1] == "COMMAND":
        patterns[-1] = _LAST_COLUMN
    match = re.compile(r"\s*" + r"\s+".join(patterns) + r"\s*").fullmatch

    def at(name: str) -> int:
        return names.index(name) if name in names else -1

    pid, user, command, ppid, pr, ni = map(at, ("PID", "USER", "COMMAND", "PPID", "PR", "NI"))
    threads, virt, res, cpu, mem, state = map(at, ("nTH", "VIRT", "RES", "%CPU", "%MEM", "S"))
    time = at("TIME+") if "TIME+" in names else at("TIME")
    tty = at("TTY")
    rows: list[ProcessRow] = []
    append = rows.append
    # Per-listing memos: sizes and times repeat from row to row (0, 0:00.00...).
    sizes: dict[str, int] = {}
    seconds: dict[str, float] = {}
    with collection_paused():
        for number, line in enumerate(lines[1:], start=header_number + 1):
            found = match(line)
            if found is None:
                if not line.strip():
                    continue
                raise ParseError(
                    f"not a row of {header.strip()!r}",
                    line_number=number,
                    line=line.removesuffix("\r"),
                )
            values = found.groups()
            name = values[command]
            owner = values[user] if user >= 0 else None
            truncated: tuple[str, ...] = _USER_CUT if owner and owner[-1] == "+" else ()
            if name[-1] == "+":
                truncated += ("process_name",)
            rss = virtual = None
            if res >= 0:
                text = values[res]
                rss = sizes.get(text)
                if rss is None:
                    rss = sizes[text] = _size(text)
            if virt >= 0:
                text = values[virt]
                virtual = sizes.get(text)
                if virtual is None:
                    virtual = sizes[text] = _size(text)
            cpu_time = None
            if time >= 0:
                text = values[time]
                cpu_time = seconds.get(text)
                if cpu_time is None:
                    cpu_time = seconds[text] = _seconds(text)
            code = values[state] if state >= 0 else None
            # Every field, positionally in ProcessRow's order: the cheapest way to make a row.
            append(
                row_of(
                    (
                        number,  # line_number
                        int(values[pid]),  # pid
                        name,  # process_name
                        int(values[ppid]) if ppid >= 0 else None,  # ppid
                        owner,  # user
                        None,  # command_line
                        float(values[cpu]) if cpu >= 0 else None,  # cpu_percent
                        float(values[mem]) if mem >= 0 else None,  # memory_percent
                        rss,  # rss_bytes
                        virtual,  # vsz_bytes
                        rss,  # memory_usage_bytes
                        None  # status
                        if code is None
                        else _STATUSES.get(code, ProcessStatus.UNKNOWN),
                        code,  # status_raw
                        None,  # start_time
                        cpu_time,  # cpu_time_seconds
                        None if tty < 0 or values[tty] in ("?", "-") else values[tty],  # tty
                        int(values[threads]) if threads >= 0 else None,  # threads
                        int(values[ni]) if ni >= 0 else None,  # nice
                        None if pr < 0 or values[pr] == "rt" else int(values[pr]),  # priority
                        truncated,  # truncated_fields
                    )
                )
            )
    return rows


def _size(text: str) -> int:
    """Bytes of a VIRT/RES value, already checked by the row pattern: KiB unless a letter."""
    return int(text) * _KIB if text.isdigit() else scaled_bytes(text, _KIB)


FORMATS = (
    ListingFormat(
        name="top -b",
        os_types=("linux",),
        commands=("top -b", "top -b -n 1", "top -bn1"),
        matches_header=is_top_linux_header,
        parse=parse_top_linux,
    ),
)
