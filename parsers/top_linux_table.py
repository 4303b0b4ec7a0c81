"""The process table of one procps ``top -b`` sample, in any set and order of fields.

Most tables (top's default fields, or any where only the last column may hold spaces) are
read by one pattern per row; a row that pattern does not fit at the header's places (a
blank zero, a ``?``, a number cut with ``+``) and every row of a table with a middle column
that may hold spaces are read column by column from the header's positions
(:class:`~parsers.top_linux_columns.TopLayout`). A row that is not at the header's places
but that the pattern reads, one word a column (a listing re-spaced by hand), is taken as the
pattern reads it.
"""

from __future__ import annotations

import re

from parsers.errors import ParseError
from parsers.gc_pause import collection_paused
from parsers.rows import ProcessRow, ProcessStatus, row_of
from parsers.top_linux_columns import TopLayout
from parsers.top_linux_fields import (
    COLUMN_PATTERNS,
    MAY_HOLD_SPACES,
    STATUSES,
    cpu_seconds,
    kib_size,
)
from parsers.values import process_name

__all__ = ["read_table"]

_OTHER_COLUMN = r"(\S+)"
# The last column may hold spaces (a process may name itself "my prog (test)").
_LAST_COLUMN = r"(\S(?:.*\S)?)"
_USER_CUT = ("user",)
_NAME_CUT = ("process_name",)
# What top -c shows for a task without a command line (a kernel thread): its name in brackets.
_KERNEL_THREAD = re.compile(r"\[[^\]]+\]")


def _row_pattern(layout: TopLayout) -> re.Pattern[str] | None:
    """One pattern for a whole row, or None: no COMMAND, or spaces possible before the last."""
    names = layout.names
    if "COMMAND" not in layout.chosen or any(name in MAY_HOLD_SPACES for name in names[:-1]):
        return None
    chosen = set(layout.chosen)
    patterns = [
        COLUMN_PATTERNS[name] if name in chosen and name in COLUMN_PATTERNS else _OTHER_COLUMN
        for name in names
    ]
    if names[-1] in MAY_HOLD_SPACES:
        patterns[-1] = _LAST_COLUMN
    return re.compile(r"\s*" + r"\s+".join(patterns) + r"\s*")


def read_table(header_number: int, lines: list[str]) -> list[ProcessRow]:
    """Rows of the table whose header is ``lines[0]``; ParseError for any bad row.

    COMMAND is the process name, unless a row shows a kernel thread as ``[name]``, which
    ``top -c`` does: then every COMMAND is a command line (see :func:`_as_command_lines`).
    """
    header = lines[0].removesuffix("\r")
    layout = TopLayout(header, header_number)
    pattern = _row_pattern(layout)
    match = None if pattern is None else pattern.fullmatch
    last = len(layout.names)
    # The last column's value begins (text) or ends (number) where its header does.
    anchor = layout.starts[-1] if layout.left[-1] else layout.ends[-1]
    anchored_at = re.Match.start if layout.left[-1] else re.Match.end

    def at(name: str) -> int:
        return layout.chosen.get(name, -1)

    pid, command, ppid, pr, ni = map(at, ("PID", "COMMAND", "PPID", "PR", "NI"))
    threads, virt, res, cpu, mem, state = map(at, ("nTH", "VIRT", "RES", "%CPU", "%MEM", "S"))
    user = at("USER") if "USER" in layout.chosen else at("RUSER")
    time = at("TIME+") if "TIME+" in layout.chosen else at("TIME")
    tty = at("TTY")
    rows: list[ProcessRow] = []
    append = rows.append
    bracketed = False
    # Per-listing memos: sizes and times repeat from row to row (0, 0:00.00...).
    sizes: dict[str, int] = {}
    seconds: dict[str, float] = {}
    with collection_paused():
        for number, line in enumerate(lines[1:], start=header_number + 1):
            found = None if match is None else match(line)
            if found is None or anchored_at(found, last) != anchor:
                if not line.strip():
                    continue
                try:
                    row = layout.read_row(number, line.removesuffix("\r"))
                except ParseError:
                    # Not at the header's places, but one word a column: a listing re-spaced.
                    if found is None:
                        raise
                else:
                    bracketed = bracketed or row.process_name[-1:] == "]"
                    append(row)
                    continue
            values = found.groups()
            name = values[command]
            owner = values[user] if user >= 0 else None
            truncated: tuple[str, ...] = _USER_CUT if owner and owner[-1] == "+" else ()
            tail = name[-1]
            if tail == "+":
                truncated = _NAME_CUT + truncated
            elif tail == "]":
                bracketed = True
            rss = virtual = None
            if res >= 0:
                text = values[res]
                rss = sizes.get(text)
                if rss is None:
                    rss = sizes[text] = kib_size(text)
            if virt >= 0:
                text = values[virt]
                virtual = sizes.get(text)
                if virtual is None:
                    virtual = sizes[text] = kib_size(text)
            cpu_time = None
            if time >= 0:
                text = values[time]
                cpu_time = seconds.get(text)
                if cpu_time is None:
                    cpu_time = seconds[text] = cpu_seconds(text)
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
                        else STATUSES.get(code, ProcessStatus.UNKNOWN),
                        code,  # status_raw
                        None,  # start_time
                        None,  # start_time_precision
                        cpu_time,  # cpu_time_seconds
                        None if tty < 0 or values[tty] in ("?", "-") else values[tty],  # tty
                        int(values[threads]) if threads >= 0 else None,  # threads
                        int(values[ni]) if ni >= 0 else None,  # nice
                        None if pr < 0 or values[pr] == "rt" else int(values[pr]),  # priority
                        truncated,  # truncated_fields
                    )
                )
            )
    if bracketed and any(_KERNEL_THREAD.fullmatch(row.process_name) for row in rows):
        return _as_command_lines(rows)
    return rows


def _as_command_lines(rows: list[ProcessRow]) -> list[ProcessRow]:
    """The rows of a ``top -c`` table: COMMAND is the command line, the name is read from it.

    The name is :func:`~parsers.values.process_name`'s. A command line cut with a ``+``
    names ``command_line`` in ``truncated_fields``, and ``process_name`` too when the cut
    falls in its first word (or in a kernel thread's bracketed name, which then loses its
    ``[``).
    """
    commands = []
    for row in rows:
        text = row.process_name
        truncated = row.truncated_fields
        if "process_name" not in truncated:
            name = process_name(text)
        else:
            truncated = tuple(field for field in truncated if field != "process_name")
            first_word_cut = " " not in text or (text[:1] == "[" and "]" not in text)
            name = text[1:] if text[:1] == "[" and "]" not in text else process_name(text)
            cut = {*truncated, "command_line", *_NAME_CUT * first_word_cut}
            truncated = tuple(sorted(cut, key=ProcessRow._fields.index))
        commands.append(
            row._replace(process_name=name, command_line=text, truncated_fields=truncated)
        )
    return commands
