"""``ps aux`` (also ``ps axu``, ``ps auxww``) of Linux procps and of macOS and the BSDs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TypeVar

from parsers.errors import ParseError
from parsers.lines import numbered_lines
from parsers.rows import ProcessRow, ProcessStatus
from parsers.times import parse_cpu_time, resolve_start_time

__all__ = ["PS_AUX_HEADERS", "is_ps_aux_header", "parse_ps_aux"]

_T = TypeVar("_T")

# Both families print the same eleven columns in the same order; only two names differ.
PS_AUX_HEADERS = (
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"),
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TT", "STAT", "STARTED", "TIME", "COMMAND"),
)
_COLUMNS = 11

# Linux prints "?" for no controlling terminal, macOS "??", FreeBSD "-".
_NO_TERMINAL = frozenset({"?", "??", "-"})

_STATUSES = {
    "R": ProcessStatus.RUNNING,
    "S": ProcessStatus.SLEEPING,
    "D": ProcessStatus.DISK_SLEEP,
    # macOS: uninterruptible wait, its name for Linux's D.
    "U": ProcessStatus.DISK_SLEEP,
    "I": ProcessStatus.IDLE,
    "T": ProcessStatus.STOPPED,
    "t": ProcessStatus.TRACED,
    "Z": ProcessStatus.ZOMBIE,
    "X": ProcessStatus.DEAD,
}

# The bounds are far beyond any real PID or KiB count, and keep byte counts within 64 bits.
_INTEGER = re.compile(r"[0-9]{1,15}")
_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")
# A kernel thread, or a zombie shown as "[name] <defunct>": no argv, only the name in brackets.
_BRACKETED_NAME = re.compile(r"\[([^\]]+)\]")


def is_ps_aux_header(line: str) -> bool:
    """Tell whether ``line`` is the header ``ps aux`` prints on Linux, macOS or a BSD."""
    return tuple(line.split()) in PS_AUX_HEADERS


def parse_ps_aux(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse the output of ``ps aux`` taken at ``observed_at`` (timezone-aware) into rows.

    The first non-blank line must be one of :data:`PS_AUX_HEADERS`; blank lines are skipped
    and ``line_number`` counts every line of ``raw`` from 1 (the header's usually). VSZ and
    RSS are converted from KiB to bytes, a TTY of ``?``, ``??`` or ``-`` becomes ``None``,
    STAT is kept as ``status_raw`` and its first letter gives ``status``, and START is
    resolved as :func:`parsers.times.resolve_start_time` describes.

    ``process_name`` is the base name of the first word of COMMAND, or the name inside the
    brackets ps shows for kernel threads and zombies (``[kworker/0:1]`` gives
    ``kworker/0:1``). Where the program's path has spaces, as macOS applications' often do,
    that first word is only the part before the first space: ps does not show where argv[0]
    ends (``/Applications/Backup and Sync.app/...`` gives ``Backup``).

    Raises ParseError for empty input, a first line that is not a ps aux header, and a row
    with missing columns or a value that does not read (naming the line and the column);
    ValueError if ``observed_at`` is naive. A header without rows gives ``[]``.
    """
    if observed_at.utcoffset() is None:
        raise ValueError("observed_at must be timezone-aware")
    lines = numbered_lines(raw)
    if not lines:
        raise ParseError("empty listing")
    (header_number, header), *rows = lines
    if not is_ps_aux_header(header):
        raise ParseError("not a ps aux header", line_number=header_number, line=header)
    return [_parse_row(number, line, observed_at) for number, line in rows]


def _parse_row(line_number: int, line: str, observed_at: datetime) -> ProcessRow:
    """One data line into a row; ParseError naming the column that does not read."""
    # ps pads columns with spaces, so trailing ones say nothing about the command.
    fields = line.rstrip().split(None, _COLUMNS - 1)
    if len(fields) < _COLUMNS:
        raise ParseError(
            f"expected {_COLUMNS} columns, found {len(fields)}", line_number=line_number, line=line
        )
    user, pid, cpu, mem, vsz, rss, tty, stat, start, time, command = fields
    try:
        return ProcessRow(
            line_number=line_number,
            pid=_read("PID", _integer, pid),
            process_name=_process_name(command),
            user=user,
            command_line=command,
            cpu_percent=_read("%CPU", _decimal, cpu),
            memory_percent=_read("%MEM", _decimal, mem),
            rss_bytes=_read("RSS", _integer, rss) * 1024,
            vsz_bytes=_read("VSZ", _integer, vsz) * 1024,
            status=_STATUSES.get(stat[0], ProcessStatus.UNKNOWN),
            status_raw=stat,
            start_time=_read("START", partial(resolve_start_time, observed_at=observed_at), start),
            cpu_time_seconds=_read("TIME", parse_cpu_time, time),
            tty=None if tty in _NO_TERMINAL else tty,
        )
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc


def _read(column: str, convert: Callable[[str], _T], text: str) -> _T:
    """Convert one column's text, prefixing any complaint with the column's name."""
    try:
        return convert(text)
    except ValueError as exc:
        raise ValueError(f"{column}: {exc}") from exc


def _integer(text: str) -> int:
    """A non-negative integer, refusing what int() also takes: signs, "_", non-ASCII digits."""
    if not _INTEGER.fullmatch(text):
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


def _decimal(text: str) -> float:
    """A non-negative decimal number, refusing what float() also accepts: nan, inf, exponents."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def _process_name(command: str) -> str:
    """The program's name: base name of the first word, or the bracketed kernel thread name."""
    if bracketed := _BRACKETED_NAME.match(command):
        return bracketed[1]
    first_word = command.split(None, 1)[0]
    return first_word.rstrip("/").rsplit("/", 1)[-1] or first_word
