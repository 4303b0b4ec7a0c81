"""Linux procps ``top -b``: the last sample's process table, and its summary as metadata."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from parsers.errors import ParseError
from parsers.formats import ListingFormat
from parsers.rows import Listing
from parsers.top_linux_table import read_table
from parsers.top_summary import labelled_numbers, read_last_sample
from parsers.values import scaled_bytes

__all__ = ["FORMATS", "is_top_linux_header", "parse_top_linux"]

_MARKER = "top - "
_UPTIME_LINE = re.compile(
    r"top - (?P<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2}) +up +(?P<uptime>.+?)"
    r"(?:, +(?P<users>[0-9]{1,9}) users?)?, +load average: +"
    r"(?P<load1>[0-9]{1,9}[.,][0-9]{2}),? +(?P<load5>[0-9]{1,9}[.,][0-9]{2}),? +"
    r"(?P<load15>[0-9]{1,9}[.,][0-9]{2}) *"
)
# The same line cut at top's width: what is whole of it (the last number may be cut short).
_CUT_UPTIME_LINE = re.compile(
    r"top - (?P<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2})(?: +up +(?P<uptime>.+?)"
    r"(?:, +(?P<users>[0-9]{1,9}) users?)?, +load average: +(?P<loads>.*))?.*"
)
_LOAD = re.compile(r"[0-9]{1,9}[.,][0-9]{2}(?=[,\s])")
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


def parse_top_linux(raw: str, observed_at: datetime) -> Listing:
    """Parse ``top -b`` output (any number of samples) into the last sample's rows.

    Rows come from the last sample's table, in any set and order of fields a toprc asks for
    (procps-ng 3.3 and 4.x names), each column found by its header's place (see
    :mod:`parsers.top_linux_table`): PID is needed; COMMAND, USER (else RUSER), PPID, PR, NI,
    nTH, VIRT, RES, %CPU, %MEM, S, TIME+ (else TIME) and TTY are read when shown, every other
    column is skipped, whatever it holds (without COMMAND, which top leaves out when the width
    is too small for it, ``process_name`` is ``""`` and named in ``truncated_fields``).
    ``line_number`` counts every line of ``raw``.

    Sizes without a letter are KiB, ``m``/``g``/``t``/``p``/``e`` are powers of 1024 over it
    (``1.2g``). VIRT gives ``vsz_bytes``; RES gives ``rss_bytes`` and ``memory_usage_bytes``.
    A PR of ``rt`` (real-time scheduling, no number on top's scale) gives ``priority=None``.
    COMMAND is the process name, with ``command_line`` None, unless a row shows a kernel
    thread as ``[name]`` (``top -c``): then it is the command line, and the name is read from
    it. A USER, TTY or COMMAND ending in ``+`` (top's mark of a value cut to fit) is kept as
    printed and named in ``truncated_fields``; a number top could not fit (``?``, ``10+``) is
    None and named there too; a blank number is a zero top was told to suppress.

    Metadata: ``time``, ``uptime`` (as printed), ``users``, ``load_average`` (1, 5, 15 min),
    ``tasks`` (or ``threads``), ``cpu_percent``, ``memory_bytes`` and ``swap_bytes`` (in bytes
    whatever unit top printed, as precise as printed), ``samples``. A summary line cut at a
    width under 80 gives what it holds whole (fewer load averages, a figure left out).
    Raises ParseError for a first line that is not top's, an unreadable summary line (top's
    English texts are expected), no header, or any bad row (naming its column).
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
        read_table=read_table,
        read_cut_summary=_read_cut_summary,
    )


def _is_table_header(line: str) -> bool:
    return "PID" in line.split()


def _read_summary(metadata: dict[str, Any], line_number: int, line: str, first: bool) -> None:
    """The first line holds the uptime; the others are read by :func:`_summary_line`."""
    if first:
        metadata.update(_uptime_line(line_number, line))
    else:
        _summary_line(metadata, line_number, line)


def _read_cut_summary(metadata: dict[str, Any], line_number: int, line: str, first: bool) -> None:
    """A summary line cut at top's width (``-w`` under 80): what it holds whole."""
    if not first:
        _summary_line(metadata, line_number, line, cut=True)
        return
    match = _CUT_UPTIME_LINE.fullmatch(line)
    if match is None:
        raise ParseError("unreadable top summary line", line_number=line_number, line=line)
    metadata["time"] = match["time"]
    if match["loads"] is not None:
        metadata["uptime"] = match["uptime"]
        metadata["users"] = None if match["users"] is None else int(match["users"])
        # A load followed by a separator is whole; the one the line ends with may be cut.
        loads = _LOAD.findall(match["loads"])
        metadata["load_average"] = [float(load.replace(",", ".")) for load in loads]


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


def _summary_line(metadata: dict[str, Any], line_number: int, line: str, cut: bool = False) -> None:
    """Read one summary line below the first into ``metadata``; ParseError if unknown.

    A ``cut`` line (cut at top's width) gives the figures it holds whole.
    """
    head, colon, text = line.partition(":")
    if colon and head in ("Tasks", "Threads"):
        counts = labelled_numbers(text, _TASK_LABELS, line_number, line, cut=cut)
        metadata[head.lower()] = {label: int(value) for label, value in counts.items()}
    elif colon and head.startswith(("%Cpu", "Cpu")):
        percents = labelled_numbers(text, _CPU_LABELS, line_number, line, cut=cut)
        cpu = head.removeprefix("%").removeprefix("Cpu").strip()
        key = "cpu_percent" if cpu == "(s)" else f"cpu{cpu}_percent"
        metadata[key] = {label: float(value) for label, value in percents.items()}
    elif match := _MEMORY_LINE.fullmatch(line):
        unit = 1024 ** " KMGTPE".index(match["unit"] or "K")
        pairs = labelled_numbers(match["pairs"], _MEMORY_LABELS, line_number, line, cut=cut)
        kind = "memory_bytes" if match["kind"] == "Mem" else "swap_bytes"
        for label, value in pairs.items():
            key = _MEMORY_LABELS[label]
            # A "k" after the number (procps before 3.3.10) says again what the unit says.
            size = scaled_bytes(value.removesuffix("k"), unit)
            target = "memory_bytes" if key in _MEMORY_ON_SWAP_LINE else kind
            metadata.setdefault(target, {})[key] = size
    else:
        raise ParseError("unknown top summary line", line_number=line_number, line=line)


FORMATS = (
    ListingFormat(
        name="top -b",
        os_types=("linux",),
        commands=("top -b", "top -b -n 1", "top -bn1"),
        matches_header=is_top_linux_header,
        parse=parse_top_linux,
    ),
)
