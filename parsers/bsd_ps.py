"""``ps aux`` (also ``ps axu``, ``ps auxww``) of Linux procps and of macOS and the BSDs."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.gc_pause import collection_paused
from parsers.ps_columns import layout_of
from parsers.ps_readers import USER_TRUNCATED, listing_lines
from parsers.ps_table import refuse_line
from parsers.rows import ProcessRow, ProcessStatus, row_of
from parsers.times import parse_cpu_time, resolve_start_time
from parsers.values import NO_TERMINAL, decimal, process_name, unix_status

__all__ = ["FORMATS", "PS_AUX_HEADERS", "is_ps_aux_header", "parse_ps_aux"]

# Both families print the same eleven columns in the same order; only two names differ.
PS_AUX_HEADERS = (
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"),
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TT", "STAT", "STARTED", "TIME", "COMMAND"),
)


_LAST = len(PS_AUX_HEADERS[0]) - 1


def is_ps_aux_header(line: str) -> bool:
    """Tell whether ``line`` is the header ``ps aux`` prints on Linux, macOS or a BSD."""
    return tuple(line.split()) in PS_AUX_HEADERS


def parse_ps_aux(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse the output of ``ps aux`` taken at ``observed_at`` (timezone-aware) into rows.

    The first non-blank line must be one of :data:`PS_AUX_HEADERS`; blank lines are skipped
    and ``line_number`` counts every line of ``raw`` from 1 (the header's usually). VSZ and
    RSS are converted from KiB to bytes, a TTY of ``?``, ``??`` or ``-`` becomes ``None``,
    STAT is kept as ``status_raw`` and its first letter gives ``status``, and START is
    resolved as :func:`parsers.times.resolve_start_time` describes. A user name ending in
    ``+`` is one procps cut short: it is kept as printed and flagged in ``truncated_fields``.

    ``process_name`` is the base name of the first word of COMMAND, or the name inside the
    brackets ps shows for kernel threads and zombies (``[kworker/0:1]`` gives
    ``kworker/0:1``). Where the program's path has spaces, as macOS applications' often do,
    that first word is only the part before the first space: ps does not show where argv[0]
    ends (``/Applications/Backup and Sync.app/...`` gives ``Backup``).

    Raises ParseError for empty input, a first line that is not a ps aux header, and a row
    with missing columns or a value that does not read (naming the line and the column);
    ValueError if ``observed_at`` is naive. A header without rows gives ``[]``.
    """
    header, first_number, lines = listing_lines(raw, observed_at, is_ps_aux_header, "ps aux")
    layout = layout_of(header)
    if layout is None:  # pragma: no cover - every ps aux header has a layout
        raise ParseError("unreadable ps aux header", line_number=first_number - 1, line=header)
    start = partial(resolve_start_time, observed_at=observed_at)
    # Per-listing memos: these columns repeat the same few texts from row to row.
    percents: dict[str, float] = {}
    starts: dict[str, datetime | None] = {}
    cpu_times: dict[str, float] = {}
    names: dict[str, str] = {}
    statuses: dict[str, ProcessStatus] = {}
    rows: list[ProcessRow] = []
    append = rows.append
    with collection_paused():
        for line_number, line in enumerate(lines, first_number):
            fields = line.split(None, _LAST)
            if len(fields) <= _LAST:
                if not fields:
                    continue
                refuse_line(layout, observed_at, line_number, line)
            user, pid, cpu, mem, vsz, rss, tty, stat, started, time, command = fields
            # ps pads columns with spaces, so trailing ones say nothing about the command.
            if command[-1].isspace():
                command = command.rstrip()
            # integer()'s test, inlined (a call costs more); anything in doubt goes to
            # refuse_line, which names the column at fault.
            digits = pid + vsz + rss
            if not (
                digits.isdigit()
                and digits.isascii()
                and len(pid) < 16
                and len(vsz) < 16
                and len(rss) < 16
            ):
                refuse_line(layout, observed_at, line_number, line)
            try:
                cpu_value = percents.get(cpu)
                if cpu_value is None:
                    cpu_value = percents[cpu] = decimal(cpu)
                mem_value = percents.get(mem)
                if mem_value is None:
                    mem_value = percents[mem] = decimal(mem)
                if started in starts:
                    start_value = starts[started]
                else:
                    start_value = starts[started] = start(started)
                time_value = cpu_times.get(time)
                if time_value is None:
                    time_value = cpu_times[time] = parse_cpu_time(time)
            except ValueError:
                refuse_line(layout, observed_at, line_number, line)
            status = statuses.get(stat)
            if status is None:
                status = statuses[stat] = unix_status(stat)
            # The name depends on the first word only (on the whole of a bracketed one),
            # which repeats where whole command lines do not.
            program = command if command[0] == "[" else command.partition(" ")[0]
            name = names.get(program)
            if name is None:
                name = names[program] = process_name(program)
            append(
                row_of(
                    (
                        line_number,
                        int(pid),
                        name,
                        None,
                        user,
                        command,
                        cpu_value,
                        mem_value,
                        int(rss) * 1024,
                        int(vsz) * 1024,
                        None,
                        status,
                        stat,
                        start_value,
                        time_value,
                        None if tty in NO_TERMINAL else tty,
                        None,
                        None,
                        None,
                        USER_TRUNCATED if user[-1] == "+" else (),
                    )
                )
            )
    return rows


FORMATS = (
    rows_format(
        name="ps aux",
        os_types=("linux", "macos", "freebsd", "openbsd", "netbsd"),
        commands=("ps aux", "ps axu", "ps auxww"),
        matches_header=is_ps_aux_header,
        parse_rows=parse_ps_aux,
    ),
)
