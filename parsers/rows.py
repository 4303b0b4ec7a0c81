"""The one normalized row every parser returns, whatever the operating system or command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["ProcessRow", "ProcessStatus"]


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


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One process of one listing, in normalized units.

    Memory is in bytes, CPU time in seconds, ``start_time`` an aware timestamp resolved
    against the snapshot's time. A field the format does not carry is ``None``, never guessed.
    ``line_number`` is the 1-based line of the listing the row was read from.
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
    status: ProcessStatus | None = None
    status_raw: str | None = None
    start_time: datetime | None = None
    cpu_time_seconds: float | None = None
    tty: str | None = None
    threads: int | None = None
    nice: int | None = None
    priority: int | None = None
