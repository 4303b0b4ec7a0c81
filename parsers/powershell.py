"""PowerShell's default ``Get-Process`` tables: Windows PowerShell 2-5.1 and PowerShell 7.

Format-Table right-aligns the numeric columns in fixed widths, each label ending where its
values end, and left-aligns UserName and ProcessName. A number too wide for its column is
cut from the left behind ``...`` (``…`` in PowerShell 7): the value is lost, so the field is
``None`` and named in ``truncated_fields``; a text cut on the right ends with the ellipsis.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.gc_pause import collection_paused
from parsers.get_process_columns import (
    NUMERIC_COLUMNS,
    cell_value,
    fast_reader,
    is_localized,
)
from parsers.lines import numbered_lines
from parsers.rows import ProcessRow
from parsers.windows_times import snapshot_zone

__all__ = ["FORMATS", "is_get_process_header", "parse_get_process"]

_TEXT = ("UserName", "ProcessName")
_WORD = re.compile(r"[^ ]+")
_RULER = re.compile(r"-+(?: +-+)*")
_ELLIPSES = ("...", "…")
_INTEGER_CELL = "([0-9]{1,15})"
_LOCAL_CELL = "([0-9][0-9,.'\u00a0\u202f]{0,24})"
_NUMBER_TAIL = re.compile(r"[0-9,.'\u00a0\u202f]{1,15}")


def is_get_process_header(line: str) -> bool:
    """Tell whether ``line`` heads a ``Get-Process`` table of any PowerShell version."""
    labels = line.split()
    return (
        len(labels) >= 2
        and labels[-1] == "ProcessName"
        and "Id" in labels
        and all(label in NUMERIC_COLUMNS or label in _TEXT for label in labels)
    )


class _Layout(NamedTuple):
    """Where the header puts each column: numeric ones by their right edge, texts by start."""

    numeric: list[tuple[str, int]]
    text: list[tuple[str, int]]
    # One match for the usual aligned row, every number there and plain, no UserName (the
    # hot path), and what to do with each matched cell: its index, its field, its reading.
    fast: re.Pattern[str] | None
    plan: Sequence[tuple[int, str | None, Callable[[str], float]]]


def _layout(header: str, line_number: int) -> _Layout:
    """The columns of a header; ParseError when texts do not come last or a label repeats."""
    words = [(match[0], match.start(), match.end()) for match in _WORD.finditer(header)]
    labels = [word[0] for word in words]
    numeric = [(label, end) for label, _, end in words if label in NUMERIC_COLUMNS]
    text = [(label, start) for label, start, _ in words if label in _TEXT]
    if len(set(labels)) != len(labels) or labels[: len(numeric)] != [c[0] for c in numeric]:
        raise ParseError("unexpected Get-Process columns", line_number=line_number, line=header)
    fast = None
    if len(text) == 1:
        # Each number must end where its label ends (a lookbehind to the line's start), so a
        # blank cell cannot shift the others, nor a numeric process name pass for a number.
        cells = (
            (_LOCAL_CELL if is_localized(label) else _INTEGER_CELL) + f"(?<=^.{{{right}}})"
            for label, right in numeric
        )
        fast = re.compile(" *" + " +".join(cells) + " +(.+)")
    plan = [
        (index, NUMERIC_COLUMNS[label].field, fast_reader(label))
        for index, (label, _) in enumerate(numeric)
        if NUMERIC_COLUMNS[label].field is not None or is_localized(label)
    ]
    return _Layout(numeric, text, fast, plan)


def _fast_row(layout: _Layout, line_number: int, line: str) -> ProcessRow | None:
    """The row of a usual line (see ``_Layout.fast``), or None to read it the long way."""
    match = layout.fast.fullmatch(line) if layout.fast is not None else None
    if match is None:
        return None
    *cells, name = match.groups()
    name = name.strip(" ")
    fields: dict[str | None, float] = {}
    try:
        for index, field, read in layout.plan:
            fields[field] = read(cells[index])
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc
    working_set = _whole(fields.get("memory_usage_bytes"))
    # Positional, each value naming its field: keywords double the call's cost, which took 5-9%
    # off this table's parsing rate (measured on `make bench`'s corpus).
    return ProcessRow(
        line_number,  # line_number
        int(fields["pid"]),  # pid
        name,  # process_name
        None,  # ppid
        None,  # user
        None,  # command_line
        None,  # cpu_percent
        None,  # memory_percent
        working_set,  # rss_bytes
        _whole(fields.get("vsz_bytes")),  # vsz_bytes
        working_set,  # memory_usage_bytes
        None,  # status
        None,  # status_raw
        None,  # start_time
        None,  # start_time_precision
        fields.get("cpu_time_seconds"),  # cpu_time_seconds
        None,  # tty
        None,  # threads
        None,  # nice
        None,  # priority
        ("process_name",) if _truncated(name) else (),  # truncated_fields
    )


def _cells(layout: _Layout, line: str) -> list[str] | None:
    """The cells of a row aligned with the header, or None when it is not."""
    text_start = layout.text[0][1]
    if len(line) > text_start and line[text_start - 1] != " ":
        return None
    cells, left = [], 0
    for index, (_, right) in enumerate(layout.numeric):
        cell = line[left:right]
        value = cell.strip(" ")
        if value and (cell[-1] == " " or (index and cell[0] != " ") or " " in value):
            return None
        cells.append(value)
        left = right
    for index, (_, start) in enumerate(layout.text):
        end = layout.text[index + 1][1] if index + 1 < len(layout.text) else None
        if end is not None and len(line) > end and line[end - 1] != " ":
            return None
        cells.append(line[start:end].strip(" "))
    return cells


def _unaligned_cells(layout: _Layout, line: str) -> list[str] | None:
    """A row whose indentation was lost (copied output): words, then the process name.

    Blank cells cannot be told apart there, nor a user name with spaces: only tables without
    a UserName column are read this way, every number present.
    """
    if len(layout.text) != 1:
        return None
    words = list(islice(_WORD.finditer(line), len(layout.numeric)))
    if len(words) < len(layout.numeric):
        return None
    return [*(word[0] for word in words), line[words[-1].end() :].strip(" ")]


def _truncated(text: str) -> bool:
    """Whether Format-Table cut this left-aligned text short."""
    return text.endswith(_ELLIPSES)


def _row(layout: _Layout, line_number: int, line: str) -> ProcessRow:
    """One data line into a row; ParseError naming the column that does not read."""
    cells = _cells(layout, line) or _unaligned_cells(layout, line)
    if cells is None:
        raise ParseError("row not aligned with the header", line_number=line_number, line=line)
    fields: dict[str, float] = {}
    truncated = []
    try:
        for (label, _), cell in zip(layout.numeric, cells, strict=False):
            field = NUMERIC_COLUMNS[label].field
            if cell.startswith(_ELLIPSES):
                # Only the number's last characters are left, whatever they are.
                if not _NUMBER_TAIL.fullmatch(cell.removeprefix("...").removeprefix("…")):
                    raise ValueError(f"{label}: {cell!r} is not a number cut short")
                if field == "pid":
                    raise ValueError("Id: cut short")
                if field is not None:
                    truncated.append(field)
            elif field is not None and cell:
                fields[field] = cell_value(label, cell)
            elif cell:
                cell_value(label, cell)
            elif field == "pid":
                raise ValueError("Id: empty")
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc
    texts = dict(
        zip((label for label, _ in layout.text), cells[len(layout.numeric) :], strict=True)
    )
    name, user = texts["ProcessName"], texts.get("UserName")
    if not name:
        raise ParseError("ProcessName: empty", line_number=line_number, line=line)
    if user and _truncated(user):
        truncated.append("user")
    if _truncated(name):
        truncated.append("process_name")
    working_set = _whole(fields.get("memory_usage_bytes"))
    return ProcessRow(
        line_number=line_number,
        pid=int(fields["pid"]),
        process_name=name,
        user=user or None,
        rss_bytes=working_set,
        memory_usage_bytes=working_set,
        vsz_bytes=_whole(fields.get("vsz_bytes")),
        cpu_time_seconds=fields.get("cpu_time_seconds"),
        truncated_fields=tuple(truncated),
    )


def _whole(value: float | None) -> int | None:
    """A byte count read as a number: always whole, since units are converted exactly."""
    return None if value is None else int(value)


def parse_get_process(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse PowerShell's default ``Get-Process`` table (also ``-IncludeUserName``) into rows.

    Recognises the columns of every version: Handles, NPM(K), PM(K), WS(K), VM(M), CPU(s),
    Id, SI, UserName and ProcessName (2-5.1), and PowerShell 7's PM(M), WS(M) with decimals.
    The header must be followed by its ruler of dashes. Memory is converted to bytes, from
    KiB or MiB as the label says, so to within half a unit of what the tool rounded; the
    working set is ``memory_usage_bytes`` (Windows' "memory usage") and ``rss_bytes`` (what
    other systems call resident memory), VM is ``vsz_bytes``, CPU(s) ``cpu_time_seconds``
    (``None`` when blank: access denied). CPU(s) and PowerShell 7's MiB are read in en-US or
    another culture's digits (``1,234.56``, ``1.234,56``). NPM, PM, Handles and SI (the
    session) are read, not kept. Rows are read by the header's positions; rows that lost
    their indentation, as in copied text, are read word by word when the table has no
    UserName and no blank cell.

    Raises ParseError for empty input, a header or ruler that is not a Get-Process table's,
    and a row that does not line up or whose value does not read (naming the line); ValueError
    if ``observed_at`` is naive. A header and ruler without rows give ``[]``.
    """
    snapshot_zone(observed_at)
    lines = numbered_lines(raw)
    if not lines:
        raise ParseError("empty listing")
    (header_number, header), *rest = lines
    if not is_get_process_header(header):
        raise ParseError("not a Get-Process header", line_number=header_number, line=header)
    layout = _layout(header, header_number)
    if not rest or not _RULER.fullmatch(rest[0][1].strip(" ")):
        number, line = rest[0] if rest else (header_number, header)
        raise ParseError("expected the ruler under the header", line_number=number, line=line)
    with collection_paused():
        return [
            _fast_row(layout, number, line) or _row(layout, number, line)
            for number, line in rest[1:]
        ]


FORMATS = (
    rows_format(
        name="Get-Process table",
        os_types=("windows",),
        commands=("Get-Process", "Get-Process -IncludeUserName"),
        matches_header=is_get_process_header,
        parse_rows=parse_get_process,
    ),
)
