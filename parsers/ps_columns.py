"""The columns ``ps`` can print, and where each one's value lies in a line under a given header.

Both families name a column by an upper-case header word (procps ``ps -o`` and BSD ``ps -o``
agree on most of them). A header is read into a :class:`Layout`: its columns, what each one
gives the normalized row, and the shape its data lines split by (parsers.line_shapes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from parsers.line_shapes import MisplacedColumnError, Shape, Span, shape, split_columns

__all__ = [
    "COLUMN_SPECS",
    "IGNORED_COLUMNS",
    "Column",
    "ColumnSpec",
    "Layout",
    "layout_of",
]

_TOKEN = re.compile(r"\S+")
# The first word of a start value that goes on: lstart's weekday (4 more words), procps
# start's and bsdstart's month of an older process ("Oct 25", 1 more).
_MORE_WORDS = {
    **dict.fromkeys(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), 4),
    **dict.fromkeys(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    ),
}


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """What a column gives: a row field (``None``: not read) and how it reads.

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
# What procps prints for a command column followed by another one (comm,args; ucmd,cmd):
# comm, the bare name.
_PROCPS_COMM = ColumnSpec("process_name", "comm", text=True)
_IGNORED = ColumnSpec(None, "ignored")
_IGNORED_TEXT = ColumnSpec(None, "ignored", text=True)

COLUMN_SPECS: dict[str, ColumnSpec] = {
    "PID": ColumnSpec("pid", "integer"),
    "PPID": ColumnSpec("ppid", "integer"),
    # Effective user first; procps ps -ef's UID column holds names, the others numbers.
    "USER": ColumnSpec("user", "user"),
    "EUSER": ColumnSpec("user", "user", rank=1),
    "UID": ColumnSpec("user", "user", rank=2),
    "EUID": ColumnSpec("user", "user", rank=3),
    "RUSER": ColumnSpec("user", "user", rank=4),
    "RUID": ColumnSpec("user", "user", rank=5),
    "%CPU": ColumnSpec("cpu_percent", "decimal"),
    # procps ps -f's C: the integer part of %CPU.
    "C": ColumnSpec("cpu_percent", "whole_percent", rank=1),
    "%MEM": ColumnSpec("memory_percent", "decimal"),
    "VSZ": ColumnSpec("vsz_bytes", "kib"),
    "RSS": ColumnSpec("rss_bytes", "kib"),
    "RSZ": ColumnSpec("rss_bytes", "kib", rank=1),
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

# Every other column procps 4 (ps L, and its ready-made formats), macOS, FreeBSD, OpenBSD
# and NetBSD document: read as one word (those of _IGNORED_TEXTS: as text) and not kept.
_PROCPS_IGNORED = """
%CUC %CUU ADDR AGID AGNI ALARM BLOCKED CATCHED CAUGHT CGNAME CGROUP CGROUPNS
CLS CONTEXT CP CPUID DRS DSIZ EGID EGROUP EIP ESP F FGID FGROUP FSGID FSGROUP
FSUID FSUSER FUID FUSER GID GROUP IGNORED IPCNS LABEL LIM LUID LWP LXC MACHINE
MAJFL MAJFLT MINFL MINFLT MNTNS NETNS NUMA OOM OOMADJ OWNER P PAGEIN PENDING
PGID PGRP PIDNS POL PSR PSS RBYTES RCHARS RGID RGROUP ROPS RTPRIO SCH SEAT SESS
SESSION SGID SGROUP SID SIGNAL SIZE SLICE SPID STACKP SUID SUPGID SUPGRP SUSER
SVGID SVGROUP SVUID SVUSER SZ TGID TID TIMENS TMOUT TPGID TRS TRSS TSIZ UNIT
USERNS USS UTSNS UUNIT WBYTES WCBYTES WCHAN WCHARS WOPS ZONE
"""
_BSD_IGNORED = """
ACFLAG ACFLG CLASS COW CPU CTIME F2 FIB HOLDCNT INBLK JAIL JID JOBC KTRACE
KTRACEP L LADDR LID LOCK LOGIN LSTATE MSGRCV MSGSND MWCHAN NIVCSW NSIGS NSWAP
NVCSW NWCHAN OUBLK P_RU PADDR PEND PLEDGE PROCP RE RLINK RTABLE RUSAGE SL SSIZ
SYSTIME TDADDR TDEV TRACER TSESS TSID UPR UPROCP USERTIME UTIME VMADDR WQ WQB
WQL WQR XSTAT
"""
IGNORED_COLUMNS: frozenset[str] = frozenset(_PROCPS_IGNORED.split() + _BSD_IGNORED.split())
# Ignored columns whose values may hold spaces: a path, FreeBSD's "FreeBSD ELF64", names.
_IGNORED_TEXTS = frozenset({"EXE", "EMUL", "TDNAME", "LNAME"})


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a header: its name as printed, its spec and where the name is printed."""

    name: str
    spec: ColumnSpec
    start: int


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns of one header, and the shape its data lines split by.

    Words split a line wherever values hold no spaces. A column of text (a command) takes
    the rest of the line when it is last; one that is not last (procps ``comm`` before
    ``args``, BSD ``comm``) lies between the words before it and those after it, and when a
    text column follows it, that last one begins under its header: ps pads the columns
    before it to their widths (procps fixed ones, BSD the widest value's). ``problem`` says
    why the lines of a ps header cannot be read, where they cannot.
    """

    columns: tuple[Column, ...]
    shape: Shape
    problem: str | None = None

    def split(self, line: str) -> list[str]:
        """The values of ``line``'s columns; ValueError if the line does not fit the header."""
        try:
            return split_columns(line, self.shape)
        except MisplacedColumnError:
            raise ValueError(f"{self.columns[-1].name} does not begin under its header") from None


def _spec(name: str) -> ColumnSpec | None:
    if name in COLUMN_SPECS:
        return COLUMN_SPECS[name]
    if name in _IGNORED_TEXTS:
        return _IGNORED_TEXT
    return _IGNORED if name in IGNORED_COLUMNS else None


@lru_cache(maxsize=256)
def layout_of(header: str) -> Layout | None:
    """The layout of a ps header: every word a column ps documents, PID among them.

    ``None`` for any other line. The last headers asked about are remembered: a stream of
    listings repeats a few. The layout's ``problem`` names what stops its lines being read:
    no command or name column (a row needs a process name), a second text column before the
    last, or a start column after a text column.
    """
    columns: list[Column] = []
    for match in _TOKEN.finditer(header):
        spec = _spec(match[0])
        if spec is None:
            return None
        columns.append(Column(match[0], spec, match.start()))
    if "PID" not in (column.name for column in columns):
        return None
    for index, column in enumerate(columns[:-1]):
        following = {later.spec.field for later in columns[index + 1 :]}
        if column.spec is _COMMAND and "command_line" in following:
            columns[index] = Column(column.name, _PROCPS_COMM, column.start)
    texts = [column for column in columns[:-1] if column.spec.text]
    problem = None
    middle = columns.index(texts[0]) if texts else len(columns)
    if not {"process_name", "command_line"} & {column.spec.field for column in columns}:
        problem = "no command or name column (COMMAND, ARGS, CMD, COMM or UCOMM)"
    elif len(texts) > 1:
        problem = f"{texts[1].name}: a second column of text before the last one"
    elif any(column.spec.variable for column in columns[middle + 1 :]):
        late = next(column for column in columns[middle + 1 :] if column.spec.variable)
        problem = f"{late.name}: a start column after the text column {texts[0].name}"
    if problem is not None:
        return Layout(tuple(columns), shape((Span.WORD,) * len(columns)), problem)
    spans = tuple(
        _span(column, index, middle, len(columns)) for index, column in enumerate(columns)
    )
    last_start = columns[-1].start if texts and spans[-1] is Span.REST else -1
    return Layout(tuple(columns), shape(spans, last_start, _MORE_WORDS))


def _span(column: Column, index: int, middle: int, count: int) -> Span:
    """How a column's value lies in a line, the header's text column being at ``middle``."""
    if column.spec.text:
        return Span.TEXT if index < count - 1 else Span.REST
    return Span.WORDS if column.spec.variable and index < middle else Span.WORD
