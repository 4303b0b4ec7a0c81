"""Reading a ps listing whatever columns its header names (see parsers.ps_columns).

Every ps format goes through the row assembler (parsers.row_assembly): the header's layout
gives the shape its lines split by, and a plan built from the columns says which column
gives each field and how it reads. Columns that give no field are not read. A line that
does not read is read again column by column, to name the column at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple, NoReturn

from parsers.errors import ParseError
from parsers.gc_pause import collection_paused
from parsers.ps_columns import Layout, layout_of
from parsers.ps_readers import (
    ELAPSED_PRECISION,
    comm_path,
    cpu_seconds,
    elapsed_start,
    listing_lines,
    niceness,
    start_precision,
    start_time,
    user_truncation,
)
from parsers.row_assembly import (
    PlanEntry,
    Source,
    assemble_rows,
    constant,
    count,
    lookup,
    program_lookup,
    read_entry,
    row_plan,
    text,
)
from parsers.rows import ProcessRow
from parsers.values import (
    decimal,
    integer,
    process_name,
    read_column,
    terminal,
    unix_status,
    whole_percent,
)

__all__ = [
    "PsListing",
    "parse_ps_listing",
    "ps_plan",
    "read_ps_listing",
    "read_rows",
    "refuse_line",
]

# Readers whose results depend on the text alone: their memos serve every listing.
_SHARED_READERS: dict[str, Callable[[str], Any]] = {
    "decimal": decimal,
    "whole_percent": whole_percent,
    "tty": terminal,
    "cpu_time": cpu_seconds,
    "signed": niceness,
    "comm_path": comm_path,
}
# Columns read as printed, and those read as 1 to 15 digits (times 1024 for KiB).
_TEXTS = frozenset({"user", "text", "command", "comm"})
_COUNTS = {"integer": 1, "kib": 1024}


def _reader(kind: str, observed_at: datetime) -> Callable[[str], Any]:
    """The reader of a column kind, for a listing taken at ``observed_at``."""
    if kind == "start":
        return start_time(observed_at)
    if kind == "elapsed":
        return elapsed_start(observed_at)
    return _SHARED_READERS[kind]


class PsListing(NamedTuple):
    """A ps listing read: its rows, and what they were read from, for passes after reading."""

    rows: list[ProcessRow]
    layout: Layout
    header: str
    lines: list[str]
    """The raw lines after the header, ``lines[0]`` numbered ``first_number``."""
    first_number: int


def read_ps_listing(
    raw: str, observed_at: datetime, is_header: Callable[[str], bool], what: str
) -> PsListing:
    """A ps listing whose first non-blank line ``is_header`` accepts, read.

    Raises ValueError for a naive ``observed_at``; ParseError for empty input, a first line
    that is not a ``what`` header or whose columns cannot be read (naming the column or
    what is missing), and any data line that does not read (naming the line and column).
    """
    header, first_number, lines = listing_lines(raw, observed_at, is_header, what)
    layout = layout_of(header)
    if layout is None or layout.problem is not None:
        why = "unreadable" if layout is None else layout.problem
        raise ParseError(f"{what} header: {why}", line_number=first_number - 1, line=header)
    plan = ps_plan(layout, observed_at)
    rows = read_rows(layout, observed_at, lines, first_number, plan)
    return PsListing(rows, layout, header, lines, first_number)


def parse_ps_listing(
    raw: str, observed_at: datetime, is_header: Callable[[str], bool], what: str
) -> list[ProcessRow]:
    """The rows of :func:`read_ps_listing`."""
    return read_ps_listing(raw, observed_at, is_header, what).rows


def _field_positions(layout: Layout) -> dict[str, int]:
    """Where each field's value is among a line's values: the best-ranked column giving it."""
    best: dict[str, tuple[int, int]] = {}
    for index, column in enumerate(layout.columns):
        field = column.spec.field
        if field is not None and (field not in best or column.spec.rank < best[field][0]):
            best[field] = (column.spec.rank, index)
    return {field: index for field, (_, index) in best.items()}


def ps_plan(layout: Layout, observed_at: datetime) -> tuple[PlanEntry, ...]:
    """The plan reading ``layout``'s lines: each field from its best-ranked column.

    ``status`` comes from the state column, ``truncated_fields`` from the user's (a ``+``
    at its end), ``start_time_precision`` from the start column's text (ELAPSED's is 1 s),
    and without a name column ``process_name`` from the command line, as in ``ps aux``.
    """
    picks = _field_positions(layout)
    entries: dict[str, PlanEntry] = {}
    for field, index in picks.items():
        kind = layout.columns[index].spec.kind
        if kind in _TEXTS:
            entries[field] = text(index)
        elif kind in _COUNTS:
            entries[field] = count(index, _COUNTS[kind])
        else:
            reader = _reader(kind, observed_at)
            entries[field] = lookup(index, reader, shared=kind in _SHARED_READERS)
    if "start_time" in picks:
        entries["start_time_precision"] = _precision_entry(layout, picks["start_time"])
    if "status_raw" in picks:
        entries["status"] = lookup(picks["status_raw"], unix_status, shared=True)
    if "user" in picks:
        entries["truncated_fields"] = lookup(picks["user"], user_truncation, shared=True)
    if "process_name" not in picks:
        entries["process_name"] = program_lookup(picks["command_line"], process_name, shared=True)
    return row_plan(**entries)


def _precision_entry(layout: Layout, index: int) -> PlanEntry:
    """How a row's start_time_precision reads, its start_time coming from column ``index``."""
    if layout.columns[index].spec.kind == "elapsed":
        return constant(ELAPSED_PRECISION)
    return lookup(index, start_precision, shared=True)


def read_rows(
    layout: Layout,
    observed_at: datetime,
    lines: list[str],
    first_number: int,
    plan: tuple[PlanEntry, ...],
) -> list[ProcessRow]:
    """The rows of a listing of ``layout``'s columns read by ``plan`` (see parsers.row_assembly).

    A line that does not read is refused as :func:`refuse_line` does.
    """
    with collection_paused():
        rows = assemble_rows(lines, first_number, layout.shape, plan, ProcessRow)
    if isinstance(rows, int):
        refuse_line(layout, plan, first_number + rows, lines[rows])
    return rows


def _read_entry(entry: PlanEntry, values: list[str], _: str) -> object:
    """``entry`` read from a line's ``values``, for read_column (which passes a text)."""
    return read_entry(entry, values)


def refuse_line(
    layout: Layout, plan: tuple[PlanEntry, ...], line_number: int, line: str
) -> NoReturn:
    """Raise the ParseError of a data line that does not read, naming the column at fault.

    The columns are read as ``plan`` reads them, from left to right.
    """
    line = line.removesuffix("\r")
    read = [
        entry for entry in plan if entry[0] in (Source.COUNT, Source.LOOKUP, Source.PROGRAM_LOOKUP)
    ]
    try:
        values = layout.split(line)
        for entry in sorted(read, key=itemgetter(1)):
            name = layout.columns[entry[1]].name
            if entry[0] == Source.COUNT:
                read_column(name, integer, values[entry[1]])
            else:
                read_column(name, partial(_read_entry, entry, values), "")
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc
    raise ParseError("unreadable line", line_number=line_number, line=line)
