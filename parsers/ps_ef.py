"""``ps -ef`` (procps and macOS) and any ``ps -o`` column list of Linux, macOS and the BSDs."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from parsers.bsd_ps import is_ps_aux_header
from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.ps_columns import layout_of
from parsers.ps_readers import listing_lines, user_truncation
from parsers.ps_table import read_ps_listing, read_rows
from parsers.row_assembly import count, lookup, program_lookup, row_plan, text
from parsers.rows import ProcessRow
from parsers.times import parse_cpu_time, resolve_start_time, start_time_precision
from parsers.values import process_name, terminal, whole_percent
from parsers.width_cuts import flag_width_cuts

__all__ = [
    "FORMATS",
    "PS_EF_HEADER",
    "is_bsd_ps_ef_header",
    "is_procps_ps_ef_header",
    "is_ps_o_header",
    "parse_ps_ef",
    "parse_ps_o",
]

PS_EF_HEADER = ("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD")
_LAST = len(PS_EF_HEADER) - 1
# The kernel keeps 15 characters of a program's name: procps comm prints no more.
_COMM_LENGTH = 15


def is_procps_ps_ef_header(line: str) -> bool:
    """Whether ``line`` is procps' ``ps -ef`` header (its UID column is left-aligned)."""
    return line[:1] == "U" and tuple(line.split()) == PS_EF_HEADER


def is_bsd_ps_ef_header(line: str) -> bool:
    """Whether ``line`` is macOS' ``ps -ef`` header (its UID column is right-aligned)."""
    return line[:1].isspace() and tuple(line.split()) == PS_EF_HEADER


def is_ps_o_header(line: str) -> bool:
    """Whether ``line`` is a ``ps -o`` header this package reads (see ps_columns.layout_of).

    The fixed headers of ``ps aux`` and ``ps -ef`` are left to their own formats.
    """
    return (
        not is_ps_aux_header(line)
        and tuple(line.split()) != PS_EF_HEADER
        and layout_of(line) is not None
    )


def parse_ps_ef(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``ps -ef`` or ``ps -efww`` output of procps or macOS, taken at ``observed_at``.

    UID gives ``user`` as printed: procps prints the user's name (cut to 7 characters and a
    ``+`` when longer, flagged in ``truncated_fields``), macOS the numeric user id (``"0"``,
    ``"501"``). C, procps' and macOS' integer CPU utilization, gives ``cpu_percent``. STIME
    is resolved as :func:`parsers.times.resolve_start_time` describes (its precision as
    :func:`parsers.times.start_time_precision` gives), TIME read as
    :func:`parsers.times.parse_cpu_time` does, a TTY of ``?``, ``??`` or ``-`` is ``None``,
    and CMD gives the command line and, as in :func:`parsers.bsd_ps.parse_ps_aux`, the
    process name. ps -ef prints no memory, state or thread columns: those fields are None.
    Command lines cut at the terminal's width (``ps -ef`` without ``ww`` on a terminal or
    with ``COLUMNS`` set) are named in ``truncated_fields`` (see :mod:`parsers.width_cuts`).

    Raises ParseError for empty input, a first line that is not a ps -ef header, and a line
    with missing columns or a value that does not read (naming the line and the column);
    ValueError if ``observed_at`` is naive.
    """
    header, first_number, lines = listing_lines(
        raw, observed_at, lambda line: tuple(line.split()) == PS_EF_HEADER, "ps -ef"
    )
    layout = layout_of(header)
    if layout is None:  # pragma: no cover - the ps -ef header has a layout
        raise ParseError("unreadable ps -ef header", line_number=first_number - 1, line=header)
    plan = row_plan(
        pid=count(1),
        process_name=program_lookup(_LAST, process_name, shared=True),
        ppid=count(2),
        user=text(0),
        command_line=text(_LAST),
        cpu_percent=lookup(3, whole_percent, shared=True),
        start_time=lookup(4, partial(resolve_start_time, observed_at=observed_at)),
        start_time_precision=lookup(4, start_time_precision, shared=True),
        cpu_time_seconds=lookup(6, parse_cpu_time, shared=True),
        tty=lookup(5, terminal, shared=True),
        truncated_fields=lookup(0, user_truncation, shared=True),
    )
    rows = read_rows(layout, observed_at, lines, first_number, plan)
    return flag_width_cuts(rows, lines, first_number, header, name_from_command=True)


def parse_ps_o(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``ps -o``/``ps -eo``/``ps -ax -o`` output of any column list, by its header.

    Any header of columns ps documents (:mod:`parsers.ps_columns`), PID among them, is read;
    columns no field takes (PGID, GID, SID, WCHAN...) are skipped; a header without a command
    or name column, or with a second text column before the last, is refused naming why. Values
    convert as in :func:`parse_ps_aux` and
    :func:`parse_ps_ef`, and besides: VSZ and RSS from KiB to bytes; NI and PRI signed
    (``-`` for procps' real-time processes is None); NLWP/THCNT give ``threads``; STARTED
    may be ``lstart`` (``Mon Oct 25 10:11:12 2021``, exact to the second) or procps
    ``start`` (``10:11:12``, ``Oct 25``); ELAPSED (``etime``, or ``etimes`` seconds) gives
    ``start_time`` as ``observed_at`` minus the elapsed time where no STARTED column does
    (printed times do not depend on ``observed_at`` being the very moment ps ran), and
    is preferred to the rounded START and STIME. ``start_time_precision`` is that of the
    column read: 1 s for lstart and ELAPSED, as :func:`parsers.ps_readers.start_precision`
    says for the others.
    A numeric UID column gives ``user`` as the numeric user id (``"501"``) unless USER, EUSER
    (or RUSER, the real user, last) names the user. Of two COMMAND columns (procps
    ``comm,args``) the first is the process name as the kernel keeps it (``kworker/0:1``); BSD
    COMM and UCOMM give the base name of the executable (macOS prints its path). Without a name
    column the process name comes from the command line, as for ps aux; a single COMMAND column
    is read as the command line (``args`` in both families) even where it was procps ``comm``.

    When the last column is a command line (COMMAND, ARGS, CMD), lines cut at the
    terminal's width are flagged as :mod:`parsers.width_cuts` describes; a last COMMAND
    column whose texts at the width are all 15 characters long is taken as procps ``comm``,
    whole. A last BSD COMM or UCOMM column is not looked at: names end at their length limit.

    Raises ParseError for empty input, a header this package cannot read, and a line that
    does not fit the header or holds a value that does not read; ValueError if
    ``observed_at`` is naive.
    """
    listing = read_ps_listing(raw, observed_at, is_ps_o_header, "ps -o")
    columns = listing.layout.columns
    if columns[-1].spec.field != "command_line":
        return listing.rows
    name_from_command = all(column.spec.field != "process_name" for column in columns)
    maybe_comm = name_from_command and columns[-1].name == "COMMAND"
    return flag_width_cuts(
        listing.rows,
        listing.lines,
        listing.first_number,
        listing.header,
        name_from_command=name_from_command,
        whole_name_length=_COMM_LENGTH if maybe_comm else None,
    )


FORMATS = (
    rows_format(
        name="ps -ef",
        os_types=("linux",),
        commands=("ps -ef", "ps -efww"),
        matches_header=is_procps_ps_ef_header,
        parse_rows=parse_ps_ef,
    ),
    rows_format(
        name="ps -ef macos",
        os_types=("macos",),
        commands=("ps -ef", "ps -efww"),
        matches_header=is_bsd_ps_ef_header,
        parse_rows=parse_ps_ef,
    ),
    rows_format(
        name="ps -o",
        os_types=("linux", "macos", "freebsd", "openbsd", "netbsd"),
        commands=("ps -o", "ps -eo", "ps -ww -eo", "ps -ax -o", "ps -axww -o"),
        matches_header=is_ps_o_header,
        parse_rows=parse_ps_o,
    ),
)
