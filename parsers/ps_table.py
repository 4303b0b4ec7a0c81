"""Reading a ps listing whatever columns its header names (see parsers.ps_columns).

Each column kind has one reader per listing, memoized: most columns repeat the same few
texts from row to row (``0.0``, ``Ss``, ``Oct25``). A line that does not fit or holds a value
its reader refuses is read again column by column, to name the column at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from operator import itemgetter
from typing import Any, NoReturn, TypeVar

from parsers.errors import ParseError
from parsers.gc_pause import collection_paused
from parsers.ps_columns import BARE_WORDS, Layout, layout_of
from parsers.ps_readers import (
    elapsed_start,
    listing_lines,
    niceness,
    start_time,
    user_truncation,
)
from parsers.row_assembly import PlanEntry, assemble_rows
from parsers.rows import ProcessRow, row_of
from parsers.times import parse_cpu_time
from parsers.values import (
    decimal,
    integer,
    memoized,
    process_name,
    read_column,
    terminal,
    unix_status,
    whole_percent,
)

__all__ = ["parse_ps_listing", "parse_table", "read_rows", "refuse_line"]

_T = TypeVar("_T")
_ROW_FIELDS = ProcessRow._fields


def _readers(observed_at: datetime) -> dict[str, Callable[[str], Any]]:
    """One memoized reader per column kind, for one listing."""
    plain: dict[str, Callable[[str], Any]] = {
        "decimal": decimal,
        "whole_percent": whole_percent,
        "tty": terminal,
        "start": start_time(observed_at),
        "elapsed": elapsed_start(observed_at),
        "cpu_time": parse_cpu_time,
        "signed": niceness,
        "comm_path": lambda text: text.rstrip("/").rsplit("/", 1)[-1] or text,
    }
    readers: dict[str, Callable[[str], Any]] = {
        kind: memoized(read) for kind, read in plain.items()
    }
    readers["integer"] = integer
    readers["kib"] = lambda text: integer(text) * 1024
    for kind in ("user", "text", "command", "comm"):
        readers[kind] = str
    return readers


def parse_ps_listing(
    raw: str, observed_at: datetime, is_header: Callable[[str], bool], what: str
) -> list[ProcessRow]:
    """The rows of a ps listing whose first non-blank line ``is_header`` accepts.

    Raises ValueError for a naive ``observed_at``; ParseError for empty input, a first line
    that is not a ``what`` header or names columns this package cannot read, and any data
    line :func:`parse_table` refuses.
    """
    header, first_number, lines = listing_lines(raw, observed_at, is_header, what)
    layout = layout_of(header)
    if layout is None:
        raise ParseError(f"unreadable {what} header", line_number=first_number - 1, line=header)
    return parse_table(layout, lines, first_number, observed_at)


def parse_table(
    layout: Layout, lines: Sequence[str], first_number: int, observed_at: datetime
) -> list[ProcessRow]:
    """The rows of ``lines`` (raw, numbered from ``first_number``) under ``layout``'s header.

    Raises ParseError naming the first line that does not fit the header or holds a value
    its column's reader refuses.
    """
    readers = _readers(observed_at)
    column_readers = [readers[column.spec.kind] for column in layout.columns]
    width = len(layout.columns)
    # A line's values, then the derived ones, then None: indexed by field in ProcessRow order.
    picks = _field_positions(layout)
    derive_name = None
    if "process_name" not in picks:
        derive_name = memoized(process_name)
        picks["process_name"] = width + 1
    status = memoized(unix_status)
    truncation = memoized(user_truncation)
    state_at, user_at = picks.get("status_raw"), picks.get("user")
    # Without a name column the layout has a command line column to take the name from.
    command_at = picks.get("command_line", 0)
    picks["status"] = width + 2
    picks["truncated_fields"] = width + 3
    pick = itemgetter(*(picks.get(name, width + 4) for name in _ROW_FIELDS))
    split = _word_splitter(layout)
    rows: list[ProcessRow] = []
    append = rows.append
    with collection_paused():
        for line_number, line in enumerate(lines, first_number):
            values = split(line)
            if len(values) != width:
                if not values:
                    continue
                refuse_line(layout, observed_at, line_number, line)
            try:
                read = [convert(text) for convert, text in zip(column_readers, values, strict=True)]
            except ValueError:
                refuse_line(layout, observed_at, line_number, line)
            read.append(line_number)
            read.append(derive_name(read[command_at]) if derive_name else None)
            read.append(None if state_at is None else status(read[state_at]))
            read.append(() if user_at is None else truncation(read[user_at]))
            read.append(None)
            append(row_of(pick(read)))
    return rows


def _field_positions(layout: Layout) -> dict[str, int]:
    """Where each field's value is among a line's values: the best-ranked column giving it."""
    best: dict[str, tuple[int, int]] = {}
    for index, column in enumerate(layout.columns):
        field = column.spec.field
        if field is not None and (field not in best or column.spec.rank < best[field][0]):
            best[field] = (column.spec.rank, index)
    positions = {field: index for field, (_, index) in best.items()}
    positions["line_number"] = len(layout.columns)
    return positions


def _word_splitter(layout: Layout) -> Callable[[str], list[str]]:
    """A splitter of data lines into the columns' values: by words where words can tell.

    Its result has another length than the header's when the line is blank (empty) or does
    not fit. Where words are in doubt (a start column's value of several words, a command
    with trailing blanks) the header's layout splits the line instead.
    """
    if not layout.words_only:
        return partial(_careful_split, layout)
    width = len(layout.columns)
    last_text = layout.columns[-1].spec.text
    variable = [index for index, column in enumerate(layout.columns) if column.spec.variable]

    def split(line: str) -> list[str]:
        values = line.split(None, width - 1) if last_text else line.split()
        if len(values) == width and (
            (last_text and values[-1][-1].isspace())
            or any(values[index] in BARE_WORDS for index in variable)
        ):
            return _careful_split(layout, line)
        return values

    return split


def _careful_split(layout: Layout, line: str) -> list[str]:
    """The values of ``line`` by the header's layout; ``[]`` for a blank line, ``[""]`` on error."""
    if not line.strip():
        return []
    try:
        return layout.split(line.removesuffix("\r"))
    except ValueError:
        return [""]


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
        rows = assemble_rows(lines, first_number, len(layout.columns), plan, ProcessRow)
    if isinstance(rows, int):
        refuse_line(layout, observed_at, first_number + rows, lines[rows])
    return rows


def refuse_line(layout: Layout, observed_at: datetime, line_number: int, line: str) -> NoReturn:
    """Raise the ParseError of a data line that does not read, naming the column at fault."""
    readers = _readers(observed_at)
    line = line.removesuffix("\r")
    try:
        values = layout.split(line)
        for column, text in zip(layout.columns, values, strict=True):
            read_column(column.name, readers[column.spec.kind], text)
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc
    raise ParseError("unreadable line", line_number=line_number, line=line)
