"""The columns ``ps`` can print, and where each one's value lies in a line under a given header.

Both families name a column by an upper-case header word (procps ``ps -o`` and BSD ``ps -o``
agree on most of them). A header is read into a :class:`Layout`: its columns, what each one
gives the normalized row, and how a data line splits into their values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["COLUMN_SPECS", "Column", "ColumnSpec", "Layout", "layout_of"]

_TOKEN = re.compile(r"\S+")
# The first word of a start value that goes on: lstart's weekday (4 more words), procps
# start's month of an older process ("Oct 25", 1 more).
_MORE_WORDS = {
    **dict.fromkeys(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), 4),
    **dict.fromkeys(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    ),
}
BARE_WORDS = frozenset(_MORE_WORDS)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """What a column gives: a row field (``None``: checked, then dropped) and how it reads.

    ``kind`` names the reader (see parsers.ps_table). Where several columns give one field
    the lowest ``rank`` wins. ``text`` values may hold spaces; ``variable`` values are one
    word or, for the start columns, several (lstart's five, procps start's ``Oct 25``).
    """

    field: str | None
    kind: str
    rank: int = 0
    text: bool = False
    variable: bool = False


# Printed start times beat ELAPSED, which is only as exact as the snapshot's moment; of
# them, STARTED (lstart, or procps start, both to the second when recent) comes first.
_STARTED = ColumnSpec("start_time", "start", variable=True)
_START = ColumnSpec("start_time", "start", rank=2, variable=True)
_COMMAND = ColumnSpec("command_line", "command", text=True)
# What procps prints for a COMMAND column followed by another one: comm, the bare name.
_PROCPS_COMM = ColumnSpec("process_name", "comm", text=True)

COLUMN_SPECS: dict[str, ColumnSpec] = {
    "PID": ColumnSpec("pid", "integer"),
    "PPID": ColumnSpec("ppid", "integer"),
    "PGID": ColumnSpec(None, "integer"),
    "GID": ColumnSpec(None, "integer"),
    # Effective user first; procps ps -ef's UID column holds names, the others numbers.
    "USER": ColumnSpec("user", "user"),
    "EUSER": ColumnSpec("user", "user", rank=1),
    "UID": ColumnSpec("user", "user", rank=2),
    "RUSER": ColumnSpec("user", "user", rank=3),
    "%CPU": ColumnSpec("cpu_percent", "decimal"),
    # procps ps -f's C: the integer part of %CPU.
    "C": ColumnSpec("cpu_percent", "whole_percent", rank=1),
    "%MEM": ColumnSpec("memory_percent", "decimal"),
    "VSZ": ColumnSpec("vsz_bytes", "kib"),
    "RSS": ColumnSpec("rss_bytes", "kib"),
    "TT": ColumnSpec("tty", "tty"),
    "TTY": ColumnSpec("tty", "tty"),
    "STAT": ColumnSpec("status_raw", "text"),
    "S": ColumnSpec("status_raw", "text", rank=1),
    "ELAPSED": ColumnSpec("start_time", "elapsed", rank=1),
    "STARTED": _STARTED,
    "START": _START,
    "STIME": _START,
    "TIME": ColumnSpec("cpu_time_seconds", "cpu_time"),
    "NI": ColumnSpec("nice", "signed"),
    "PRI": ColumnSpec("priority", "signed"),
    "NLWP": ColumnSpec("threads", "integer"),
    "THCNT": ColumnSpec("threads", "integer"),
    "COMMAND": _COMMAND,
    "ARGS": _COMMAND,
    "CMD": _COMMAND,
    # BSD comm: the executable's path on macOS, its name on the other BSDs.
    "COMM": ColumnSpec("process_name", "comm_path", text=True),
    "UCOMM": ColumnSpec("process_name", "comm_path", text=True),
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a header: its name as printed, its spec and where the name is printed."""

    name: str
    spec: ColumnSpec
    start: int


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of one header, and how a data line splits into their values.

    Words split a line wherever values hold no spaces. A column of text (a command) takes
    the rest of the line when it is last; one that is not last (procps ``comm`` before
    ``args``, BSD ``comm``) lies between the words before it and those after it, and when a
    text column follows it, that last one begins under its header: ps pads the columns
    before it to their widths (procps fixed ones, BSD the widest value's).
    """

    columns: tuple[Column, ...]
    middle: int | None

    @property
    def words_only(self) -> bool:
        """Whether every line splits by words alone (no text column but perhaps the last)."""
        return self.middle is None

    def split(self, line: str) -> list[str]:
        """The values of ``line``'s columns; ValueError if the line does not fit the header."""
        columns = self.columns
        last_text = columns[-1].spec.text
        if self.middle is None:
            head = columns[:-1] if last_text else columns
            values, rest = _leading_words(line, head, keep_rest=last_text)
            if len(values) < len(head) or (last_text and not rest) or (rest and not last_text):
                raise _count_error(len(columns), len(values) + len(rest))
            return [*values, rest[0].rstrip()] if last_text else values
        tail: list[str] = []
        right = columns[self.middle + 1 :]
        if last_text:
            right = right[:-1]
            tail_start = columns[-1].start
            if len(line) <= tail_start or not line[tail_start - 1].isspace():
                raise ValueError(f"{columns[-1].name} does not begin under its header")
            tail = [line[tail_start:].rstrip()]
            line = line[:tail_start]
        values, rest = _leading_words(line, columns[: self.middle], keep_rest=True)
        parts = rest[0].rsplit(None, len(right)) if rest else []
        if len(values) < self.middle or len(parts) <= len(right):
            raise _count_error(len(columns), len(values) + len(parts) + len(tail))
        return values + parts + tail


def _leading_words(
    line: str, columns: tuple[Column, ...], *, keep_rest: bool
) -> tuple[list[str], list[str]]:
    """The values of the leading word columns, and the rest: the text after, or more words."""
    budget = len(columns)
    words = line.split(None, budget) if keep_rest else line.split()
    values: list[str] = []
    position = 0
    for column in columns:
        if position >= len(words):
            break
        more = _MORE_WORDS.get(words[position], 0) if column.spec.variable else 0
        if more and keep_rest:
            budget += more
            words = line.split(None, budget)
        values.append(" ".join(words[position : position + 1 + more]))
        position += 1 + more
    return values, words[position:]


def _count_error(expected: int, found: int) -> ValueError:
    return ValueError(f"expected {expected} columns, found {found}")


@lru_cache(maxsize=256)
def layout_of(header: str) -> Layout | None:
    """The layout of a ps header, or ``None`` when this package cannot read its lines.

    The last headers asked about are remembered: a stream of listings repeats a few.

    It must name only columns of :data:`COLUMN_SPECS`, PID and a command or name column
    among them; of the text columns, one at most can stand before the last column, with no
    start column between them.
    """
    columns: list[Column] = []
    for match in _TOKEN.finditer(header):
        spec = COLUMN_SPECS.get(match[0])
        if spec is None:
            return None
        columns.append(Column(match[0], spec, match.start()))
    names = [column.name for column in columns]
    if "PID" not in names:
        return None
    for index, column in enumerate(columns[:-1]):
        following = {later.spec.field for later in columns[index + 1 :]}
        if column.name == "COMMAND" and "command_line" in following:
            columns[index] = Column(column.name, _PROCPS_COMM, column.start)
    middles = [index for index, column in enumerate(columns[:-1]) if column.spec.text]
    if len(middles) > 1 or not any(column.spec.text for column in columns):
        return None
    middle = middles[0] if middles else None
    if middle is not None and any(column.spec.variable for column in columns[middle + 1 :]):
        return None
    return Layout(tuple(columns), middle)
