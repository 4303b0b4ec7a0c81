"""The one normalized row every parser returns, whatever the operating system or command."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple, cast

__all__ = ["Listing", "ProcessRow", "ProcessStatus", "row_of"]


class ProcessStatus(StrEnum):
    """A small state vocabulary shared by all systems; the raw code is kept beside it."""

    RUNNING = "running"
    SLEEPING = "sleeping"
    DISK_SLEEP = "disk-sleep"
    IDLE = "idle"
    STOPPED = "stopped"
    TRACED = "traced"
    ZOMBIE = "zombie"
    DEAD = "dead"
    UNKNOWN = "unknown"


class ProcessRow(NamedTuple):
    """One process of one listing, in normalized units.

    A named tuple: immutable, and about five times cheaper to make than a frozen dataclass,
    which matters at hundreds of thousands of rows per listing.

    Memory is in bytes, CPU time in seconds, ``start_time`` an aware timestamp resolved
    against the snapshot's time, and ``start_time_precision`` the seconds its printed value
    covers: the true start lies in [start_time, start_time + start_time_precision), so it is
    ``None`` exactly when ``start_time`` is. A field the format does not carry is ``None``,
    never guessed. ``line_number`` is the 1-based line of the listing the row was read from
    (the first line of the record for multi-line formats). ``memory_usage_bytes`` is what the
    tool itself calls memory usage (Windows' working set, top's RES) and ``truncated_fields``
    names the fields whose printed value the tool cut short (e.g. a ``+`` at the end), so they
    are not trusted.
    """

    line_number: int
    pid: int
    process_name: str
    ppid: int | None = None
    user: str | None = None
    command_line: str | None = None
    cpu_percent: float | None = None
    memory_percent: float | None = None
    rss_bytes: int | None = None
    vsz_bytes: int | None = None
    memory_usage_bytes: int | None = None
    status: ProcessStatus | None = None
    status_raw: str | None = None
    start_time: datetime | None = None
    start_time_precision: float | None = None
    cpu_time_seconds: float | None = None
    tty: str | None = None
    threads: int | None = None
    nice: int | None = None
    priority: int | None = None
    truncated_fields: tuple[str, ...] = ()


row_of = cast(Callable[[tuple[Any, ...]], ProcessRow], partial(tuple.__new__, ProcessRow))
"""Make a :class:`ProcessRow` of a tuple holding every field's value, in field order.

For the parsers' hot loops: ``ProcessRow(...)`` runs the Python-level ``__new__`` a named
tuple is given, whose argument handling costs twice the tuple itself (0.5 µs a row, a fifth
of a ps line's parsing). This skips it, and with it the check of the number of values:
callers pass all twenty-one.
"""


@dataclass(frozen=True, slots=True)
class Listing:
    """A parsed listing: its format, its rows, and what it says beyond its rows.

    ``metadata`` holds snapshot-wide facts some formats print (top's load averages, task counts,
    CPU and memory totals), as JSON-ready values: str, int, float, bool, None, lists and dicts.
    """

    format: str
    rows: list[ProcessRow]
    metadata: Mapping[str, object] = field(default_factory=dict)
