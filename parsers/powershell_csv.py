"""PowerShell CSV of processes: ``Get-Process``, ``Get-CimInstance``/``Get-WmiObject`` ones.

``ConvertTo-Csv`` and ``Export-Csv`` write one column per property, quoted, nulls as empty
fields, under an optional ``#TYPE <type name>`` line (Windows PowerShell 5.1's default).
Get-Process objects are read by their .NET property names; Win32_Process ones through
:func:`parsers.cim.win32_process_row`, the mapping wmic's output also uses.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterator
from datetime import datetime, tzinfo
from functools import partial

from parsers.cim import check_win32_process_columns, win32_process_row
from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.gc_pause import collection_paused
from parsers.rows import ProcessRow
from parsers.values import integer, read_column
from parsers.windows_times import (
    datetime_precision,
    dotnet_datetime,
    snapshot_zone,
    timespan_seconds,
)

__all__ = [
    "FORMATS",
    "is_get_process_csv_header",
    "is_win32_process_csv_header",
    "parse_get_process_csv",
    "parse_win32_process_csv",
]

# What .NET prints for the Threads collection: an object's type name, not a count.
_THREAD_COLLECTION = "System.Diagnostics.ProcessThreadCollection"
# Properties holding the same value, best first: the 64-bit counters, then their aliases.
_WORKING_SET = ("WorkingSet64", "WS", "WorkingSet")
_VIRTUAL = ("VirtualMemorySize64", "VM", "VirtualMemorySize")
_NAME = ("ProcessName", "Name")
# A Double as .NET prints it: "52.703125", or "1E-07" below 1e-4.
_DOUBLE = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,17})?(?:E[-+][0-9]{2,3})?")


def _columns(line: str) -> list[str] | None:
    """The column names of a CSV header line, or None when it is not one."""
    if line.startswith("#TYPE "):
        return None
    try:
        return next(csv.reader([line], strict=True), None)
    except csv.Error:
        return None


def is_get_process_csv_header(line: str) -> bool:
    """Tell whether ``line`` starts a CSV of ``Get-Process`` objects (``#TYPE`` or header)."""
    if line.startswith("#TYPE "):
        return line.rstrip().endswith("System.Diagnostics.Process")
    columns = _columns(line)
    return columns is not None and _get_process_columns(columns) is None


def is_win32_process_csv_header(line: str) -> bool:
    """Tell whether ``line`` starts a CSV of Win32_Process instances (CIM or WMI objects)."""
    if line.startswith("#TYPE "):
        return line.rstrip().endswith("Win32_Process")
    columns = _columns(line)
    return (
        columns is not None
        and columns[:1] != ["Node"]
        and check_win32_process_columns(columns) is None
    )


def _get_process_columns(columns: Collection[str]) -> str | None:
    """Why Get-Process columns cannot give rows (no Id, no name), or None."""
    if "Id" not in columns:
        return "no Id column"
    return None if any(name in columns for name in _NAME) else "no ProcessName or Name column"


def _records(
    raw: str, check: Callable[[Collection[str]], str | None]
) -> Iterator[tuple[int, str, list[str]]]:
    """The header, then each record, with its first line's number and text; ``#TYPE`` skipped.

    Raises ParseError for input without a header, a header that ``check`` finds fault with,
    malformed quoting, and a record whose field count is not the header's.
    """
    lines = raw.split("\n")
    # Only "\n" ends a line, as numbered_lines counts them; csv needs it kept in multi-line values.
    reader = csv.reader((line + "\n" for line in lines), strict=True)
    header: list[str] | None = None
    consumed = 0
    try:
        for fields in reader:
            number, consumed = consumed + 1, reader.line_num
            line = lines[number - 1].removesuffix("\r")
            if (len(fields) <= 1 and not line.strip()) or (
                header is None and line.startswith("#TYPE ")
            ):
                continue
            if header is None:
                header = fields
                problem = check(header)
                if problem is None and len(set(header)) != len(header):
                    problem = "a column appears twice"
                if problem is not None:
                    raise ParseError(problem, line_number=number, line=line)
                yield number, line, header
                continue
            if len(fields) != len(header):
                raise ParseError(
                    f"expected {len(header)} fields, found {len(fields)}",
                    line_number=number,
                    line=line,
                )
            yield number, line, fields
    except csv.Error as exc:
        number = consumed + 1
        line = lines[number - 1] if number <= len(lines) else ""
        raise ParseError(f"malformed CSV: {exc}", line_number=number, line=line) from exc
    if header is None:
        raise ParseError("empty listing")


_Pick = tuple[str, int] | None


def _pick(header: list[str], names: tuple[str, ...]) -> _Pick:
    """The first of ``names`` that is a column of ``header``, with its index."""
    return next(((name, header.index(name)) for name in names if name in header), None)


def _text(fields: list[str], pick: _Pick) -> str:
    """A picked column's value, or "" when the header has no such column."""
    return "" if pick is None else fields[pick[1]]


def _integer(fields: list[str], pick: _Pick) -> int | None:
    """A picked column's integer, or None when it is missing or empty (null)."""
    if pick is None or not (text := fields[pick[1]]):
        return None
    return read_column(pick[0], integer, text)


def _cpu_seconds(total: str, cpu: str) -> float | None:
    """TotalProcessorTime (a TimeSpan, exact), else CPU (its seconds as a number)."""
    if total:
        return read_column("TotalProcessorTime", timespan_seconds, total)
    if cpu:
        if not _DOUBLE.fullmatch(cpu):
            raise ValueError(f"CPU: {cpu!r} is not a number")
        return float(cpu)
    return None


def _threads(text: str) -> int | None:
    """Threads is the collection's type name, so no count; a number if a script put one."""
    return None if text in ("", _THREAD_COLLECTION) else read_column("Threads", integer, text)


def _get_process_reader(header: list[str]) -> Callable[[int, list[str], tzinfo], ProcessRow]:
    """How to read a Get-Process object under this header, its columns found once."""
    pid, name, user = _pick(header, ("Id",)), _pick(header, _NAME), _pick(header, ("UserName",))
    command, start = _pick(header, ("CommandLine",)), _pick(header, ("StartTime",))
    working_set, virtual = _pick(header, _WORKING_SET), _pick(header, _VIRTUAL)
    total, cpu = _pick(header, ("TotalProcessorTime",)), _pick(header, ("CPU",))
    threads, priority = _pick(header, ("Threads",)), _pick(header, ("BasePriority",))

    def read(number: int, fields: list[str], zone: tzinfo) -> ProcessRow:
        """One Get-Process object; ValueError naming the property that does not read."""
        process_name = _text(fields, name)
        if not process_name:
            raise ValueError("ProcessName: empty")
        started = _text(fields, start)
        start_time = (
            read_column("StartTime", partial(dotnet_datetime, zone=zone), started)
            if started
            else None
        )
        resident = _integer(fields, working_set)
        # Positional, each value naming its field: keywords double the call's cost, which took
        # 4-7% off this CSV's parsing rate (measured on `make bench`'s corpus).
        return ProcessRow(
            number,  # line_number
            read_column("Id", integer, _text(fields, pid)),  # pid
            process_name,  # process_name
            None,  # ppid
            _text(fields, user) or None,  # user
            _text(fields, command) or None,  # command_line
            None,  # cpu_percent
            None,  # memory_percent
            resident,  # rss_bytes
            _integer(fields, virtual),  # vsz_bytes
            resident,  # memory_usage_bytes
            None,  # status
            None,  # status_raw
            start_time,  # start_time
            datetime_precision(started) if started else None,  # start_time_precision
            _cpu_seconds(_text(fields, total), _text(fields, cpu)),  # cpu_time_seconds
            None,  # tty
            _threads(_text(fields, threads)),  # threads
            None,  # nice
            _integer(fields, priority),  # priority
            (),  # truncated_fields
        )

    return read


def _win32_process_reader(header: list[str]) -> Callable[[int, list[str], tzinfo], ProcessRow]:
    """How to read a Win32_Process instance under this header: by property name."""

    def read(number: int, fields: list[str], zone: tzinfo) -> ProcessRow:
        return win32_process_row(number, dict(zip(header, fields, strict=True)), zone)

    return read


def _parse(
    raw: str,
    observed_at: datetime,
    check: Callable[[Collection[str]], str | None],
    reader: Callable[[list[str]], Callable[[int, list[str], tzinfo], ProcessRow]],
) -> list[ProcessRow]:
    """The rows of a CSV, each record read by ``reader``'s function for its header."""
    zone = snapshot_zone(observed_at)
    records = _records(raw, check)
    header = next(records)[2]
    read = reader(header)
    result = []
    with collection_paused():
        for number, line, fields in records:
            try:
                result.append(read(number, fields, zone))
            except ValueError as exc:
                raise ParseError(str(exc), line_number=number, line=line) from exc
    return result


def parse_get_process_csv(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``Get-Process | ConvertTo-Csv`` (or Export-Csv) of PowerShell 5.1 or 7 into rows.

    Reads Id, ProcessName (or Name), UserName (``-IncludeUserName``), CommandLine
    (PowerShell 7), WorkingSet64 (else WS, WorkingSet: the first column the header has) as
    ``memory_usage_bytes`` and ``rss_bytes`` (resident memory), VirtualMemorySize64 (else VM,
    VirtualMemorySize) as ``vsz_bytes``, TotalProcessorTime (else CPU, when empty) as
    ``cpu_time_seconds``, BasePriority as ``priority`` and StartTime, a
    DateTime in en-US, invariant or ISO 8601 form, read in the snapshot's time zone when it
    has no offset (other cultures' dates raise ParseError rather than be guessed at), at the
    precision it was printed to (1 s, or finer with a fraction: see
    :func:`parsers.windows_times.datetime_precision`). Threads
    holds its collection's type name, not a count: ``threads`` is ``None``. Empty fields
    (nulls: access denied) give ``None``. Raises ParseError naming the line of a record that
    does not read; ValueError if ``observed_at`` is naive.
    """
    return _parse(raw, observed_at, _get_process_columns, _get_process_reader)


def parse_win32_process_csv(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``Get-CimInstance``/``Get-WmiObject Win32_Process | ConvertTo-Csv`` into rows.

    The Win32_Process properties are read as :func:`parsers.cim.win32_process_row` says:
    CreationDate is a .NET date string through Get-CimInstance and a CIM datetime through
    Get-WmiObject, both accepted. The header must name ProcessId and Name (or Caption).
    Raises ParseError naming the line of a record that does not read; ValueError if
    ``observed_at`` is naive.
    """
    return _parse(raw, observed_at, check_win32_process_columns, _win32_process_reader)


FORMATS = (
    rows_format(
        name="Get-Process csv",
        os_types=("windows",),
        commands=("Get-Process | ConvertTo-Csv", "Get-Process | Export-Csv"),
        matches_header=is_get_process_csv_header,
        parse_rows=parse_get_process_csv,
    ),
    rows_format(
        name="Win32_Process csv",
        os_types=("windows",),
        commands=(
            "Get-CimInstance Win32_Process | ConvertTo-Csv",
            "Get-WmiObject Win32_Process | ConvertTo-Csv",
        ),
        matches_header=is_win32_process_csv_header,
        parse_rows=parse_win32_process_csv,
    ),
)
