"""``Get-WmiObject Win32_Process`` as PowerShell shows it: one ``Property : value`` list each."""

from __future__ import annotations

import re
from datetime import datetime

from parsers.cim import check_win32_process_columns, win32_process_row
from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.lines import numbered_lines
from parsers.rows import ProcessRow
from parsers.windows_times import snapshot_zone

__all__ = ["FORMATS", "is_wmi_list_header", "parse_wmi_list"]

# Format-List pads every name to the record's longest, then " : "; an empty value leaves ":".
_PROPERTY = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*) *:(?: (?P<value>.*))?")
_HEADER = re.compile(r"__GENUS +: [0-9]+")
# Wrapped values cannot be rejoined exactly: these are the row fields they feed.
_WRAPPED_FIELDS = {"CommandLine": "command_line", "Name": "process_name"}


def is_wmi_list_header(line: str) -> bool:
    """Tell whether ``line`` starts a ``Get-WmiObject`` list: its ``__GENUS : 2`` line."""
    return _HEADER.fullmatch(line.rstrip()) is not None


class _Record:
    """One object's properties as they are read, with the names of those that wrapped."""

    def __init__(self, line_number: int, line: str) -> None:
        self.line_number = line_number
        self.line = line
        self.values: dict[str, str] = {}
        # Where each property was printed, so that a value that does not read is quoted.
        self.lines: dict[str, tuple[int, str]] = {}
        self.wrapped: list[str] = []
        self.last: str | None = None


def _records(lines: list[tuple[int, str]]) -> list[_Record]:
    """Group lines into records at blank lines; ParseError for a line of no known shape."""
    records: list[_Record] = []
    previous = 0
    for number, line in lines:
        if not records or number != previous + 1:
            records.append(_Record(number, line))
        previous = number
        record = records[-1]
        if line.startswith(" ") and record.last is not None:
            # Format-List wraps a long value onto lines indented to the values' column.
            record.values[record.last] += line.strip(" ")
            if record.last not in record.wrapped:
                record.wrapped.append(record.last)
            continue
        match = _PROPERTY.fullmatch(line)
        if match is None:
            raise ParseError("not a Property : value line", line_number=number, line=line)
        if match["name"] in record.values:
            raise ParseError("property repeated in a record", line_number=number, line=line)
        record.values[match["name"]] = match["value"] or ""
        record.lines[match["name"]] = (number, line)
        record.last = match["name"]
    return records


def parse_wmi_list(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``Get-WmiObject Win32_Process`` (PowerShell's list view of it) into rows.

    Objects are separated by blank lines, each a ``Property : value`` line per property: the
    WMI system properties (``__GENUS``...), Win32_Process's own, read as
    :func:`parsers.cim.win32_process_row` says, and PowerShell's aliases (ProcessName, WS,
    VM...), which repeat them and are ignored. Format-List wraps a value longer than the
    console onto indented lines, cutting inside words or at spaces, which it drops: the
    pieces are joined without a space and, for CommandLine and Name, the field is named in
    ``truncated_fields`` since its text may have lost spaces. Raises ParseError for any other
    line (a prompt left at the end, for instance), a record without ProcessId or Name, and a
    value that does not read; ValueError if ``observed_at`` is naive.
    """
    zone = snapshot_zone(observed_at)
    lines = numbered_lines(raw)
    if not lines:
        raise ParseError("empty listing")
    if not is_wmi_list_header(lines[0][1]):
        raise ParseError("not a Get-WmiObject list", line_number=lines[0][0], line=lines[0][1])
    rows = []
    for record in _records(lines):
        problem = check_win32_process_columns(record.values)
        try:
            if problem is not None:
                raise ValueError(f"record with {problem}")
            wrapped = (_WRAPPED_FIELDS[name] for name in record.wrapped if name in _WRAPPED_FIELDS)
            rows.append(win32_process_row(record.line_number, record.values, zone, tuple(wrapped)))
        except ValueError as exc:
            # Values' complaints start with their property's name (see read_column).
            at = record.lines.get(str(exc).split(":", 1)[0], (record.line_number, record.line))
            raise ParseError(str(exc), line_number=at[0], line=at[1]) from exc
    return rows


FORMATS = (
    rows_format(
        name="Win32_Process list",
        os_types=("windows",),
        commands=("Get-WmiObject Win32_Process", "Get-WmiObject -Class Win32_Process"),
        matches_header=is_wmi_list_header,
        parse_rows=parse_wmi_list,
    ),
)
