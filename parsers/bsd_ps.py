"""``ps aux`` (also ``ps axu``, ``ps auxww``) of Linux procps and of macOS and the BSDs."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from parsers.errors import ParseError
from parsers.formats import ListingFormat
from parsers.lines import numbered_lines
from parsers.rows import Listing, ProcessRow
from parsers.times import parse_cpu_time, resolve_start_time
from parsers.values import NO_TERMINAL, decimal, integer, process_name, read_column, unix_status

__all__ = ["FORMATS", "PS_AUX_HEADERS", "is_ps_aux_header", "parse_ps_aux"]

# Both families print the same eleven columns in the same order; only two names differ.
PS_AUX_HEADERS = (
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"),
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TT", "STAT", "STARTED", "TIME", "COMMAND"),
)
_COLUMNS = 11


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
            pid=read_column("PID", integer, pid),
            process_name=process_name(command),
            user=user,
            command_line=command,
            cpu_percent=read_column("%CPU", decimal, cpu),
            memory_percent=read_column("%MEM", decimal, mem),
            rss_bytes=read_column("RSS", integer, rss) * 1024,
            vsz_bytes=read_column("VSZ", integer, vsz) * 1024,
            status=unix_status(stat),
            status_raw=stat,
            start_time=read_column(
                "START", partial(resolve_start_time, observed_at=observed_at), start
            ),
            cpu_time_seconds=read_column("TIME", parse_cpu_time, time),
            tty=None if tty in NO_TERMINAL else tty,
        )
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc


def _parse_ps_aux_listing(raw: str, observed_at: datetime) -> Listing:
    return Listing(format="ps aux", rows=parse_ps_aux(raw, observed_at))


FORMATS = (
    ListingFormat(
        name="ps aux",
        os_types=("linux", "macos", "freebsd", "openbsd", "netbsd"),
        commands=("ps aux", "ps axu", "ps auxww"),
        matches_header=is_ps_aux_header,
        parse=_parse_ps_aux_listing,
    ),
)
