"""``wmic process get ...`` in its three shapes: default table, ``/format:list``, ``/format:csv``.

wmic writes UTF-16 that the collector has already decoded, and ends its lines with
``\\r\\r\\n``: every trailing ``\\r`` is dropped. Properties keep their Win32_Process names
and units, read by :func:`parsers.cim.win32_process_row`.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from parsers.cim import WIN32_PROCESS_PROPERTIES, check_win32_process_columns, win32_process_row
from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.gc_pause import collection_paused
from parsers.lines import numbered_lines
from parsers.rows import ProcessRow
from parsers.windows_times import snapshot_zone

__all__ = [
    "FORMATS",
    "is_wmic_csv_header",
    "is_wmic_list_line",
    "is_wmic_table_header",
    "parse_wmic_csv",
    "parse_wmic_list",
    "parse_wmic_table",
]

_WORD = re.compile(r"\S+")
_LIST_LINE = re.compile(r"([A-Za-z]+)=(.*)")
# wmic's CSV never quotes: a comma inside a value splits it, so only a listing with one
# column that may hold commas can be read back, that column taking the extra fields.
_COMMA_COLUMNS = ("CommandLine", "ExecutablePath")


def _lines(raw: str) -> list[tuple[int, str]]:
    """Numbered non-blank lines without the extra ``\\r`` of wmic's ``\\r\\r\\n`` endings."""
    return [(number, line.rstrip("\r")) for number, line in numbered_lines(raw)]


def is_wmic_table_header(line: str) -> bool:
    """Tell whether ``line`` heads a wmic table: Win32_Process property names, spaced out."""
    names = line.split()
    return bool(names) and line[:1] != " " and all(n in WIN32_PROCESS_PROPERTIES for n in names)


def is_wmic_list_line(line: str) -> bool:
    """Tell whether ``line`` is a ``Property=value`` line of ``wmic ... /format:list``."""
    match = _LIST_LINE.match(line)
    return match is not None and match[1] in WIN32_PROCESS_PROPERTIES


def is_wmic_csv_header(line: str) -> bool:
    """Tell whether ``line`` heads ``wmic ... /format:csv``: ``Node`` then property names."""
    node, *names = line.rstrip("\r").split(",")
    return node == "Node" and bool(names) and all(n in WIN32_PROCESS_PROPERTIES for n in names)


def _start(raw: str, observed_at: datetime) -> tuple[tzinfo, list[tuple[int, str]]]:
    """The snapshot's zone and the listing's lines; ParseError when there are none."""
    zone = snapshot_zone(observed_at)
    lines = _lines(raw)
    if not lines:
        raise ParseError("empty listing")
    return zone, lines


def _checked_columns(names: list[str], line_number: int, line: str) -> None:
    """ParseError unless the columns identify processes and each appears once."""
    problem = check_win32_process_columns(names)
    if problem is None and len(set(names)) != len(names):
        problem = "a column appears twice"
    if problem is not None:
        raise ParseError(problem, line_number=line_number, line=line)


def _row(line_number: int, line: str, properties: dict[str, str], zone: tzinfo) -> ProcessRow:
    """The row of one record, any unreadable value a ParseError naming ``line``."""
    try:
        return win32_process_row(line_number, properties, zone)
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc


def parse_wmic_table(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``wmic process get <properties>`` (its default table) into rows.

    wmic sorts the requested properties by name and left-aligns every column, each as wide as
    its longest value plus two spaces, so the header's words give where each value starts and
    values may hold spaces (CommandLine). The columns must include ProcessId and Name (or
    Caption). Raises ParseError for a header that is not a wmic table's, and for a value that
    runs into the next column or does not read; ValueError if ``observed_at`` is naive.
    """
    zone, lines = _start(raw, observed_at)
    (header_number, header), *rows = lines
    if not is_wmic_table_header(header):
        raise ParseError("not a wmic table header", line_number=header_number, line=header)
    names = header.split()
    _checked_columns(names, header_number, header)
    starts = [match.start() for match in _WORD.finditer(header)]
    spans = list(zip(names, starts, [*starts[1:], None], strict=True))
    # Where a value that ran into the next column would leave no space before it.
    gaps = [start - 1 for start in starts[1:]]
    result = []
    with collection_paused():
        for number, line in rows:
            for gap in gaps:
                if gap < len(line) and line[gap] != " ":
                    raise ParseError(
                        "value runs across a column's start", line_number=number, line=line
                    )
            values = {name: line[start:end].strip() for name, start, end in spans}
            result.append(_row(number, line, values, zone))
    return result


def parse_wmic_list(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``wmic process get <properties> /format:list`` (``Property=value`` records).

    Records are separated by blank lines; a value runs from the first ``=`` to the end of its
    line and may be empty. Each record must hold ProcessId and Name (or Caption), each
    property once; its row's ``line_number`` is its first line. Raises ParseError for any
    other line and for values that do not read; ValueError if ``observed_at`` is naive.
    """
    zone, lines = _start(raw, observed_at)
    records: list[tuple[int, str, dict[str, str]]] = []
    previous = 0
    for number, line in lines:
        match = _LIST_LINE.fullmatch(line)
        if match is None or match[1] not in WIN32_PROCESS_PROPERTIES:
            raise ParseError("not a Property=value line", line_number=number, line=line)
        if not records or number != previous + 1:
            records.append((number, line, {}))
        previous = number
        properties = records[-1][2]
        if match[1] in properties:
            raise ParseError("property repeated in a record", line_number=number, line=line)
        properties[match[1]] = match[2]
    result = []
    with collection_paused():
        for number, line, properties in records:
            problem = check_win32_process_columns(properties)
            if problem is not None:
                raise ParseError(f"record with {problem}", line_number=number, line=line)
            result.append(_row(number, line, properties, zone))
    return result


def parse_wmic_csv(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``wmic process get <properties> /format:csv`` into rows.

    The header is ``Node`` then the properties, comma-separated, and so are the values, never
    quoted. A row with more fields than columns had commas in a value: when CommandLine or
    ExecutablePath (only one of them) is a column, it takes the extra fields back, commas and
    all; otherwise the row is refused. Raises ParseError for a header that is not wmic's CSV
    one, a row with fewer fields, or a value that does not read; ValueError if
    ``observed_at`` is naive.
    """
    zone, lines = _start(raw, observed_at)
    (header_number, header), *rows = lines
    if not is_wmic_csv_header(header):
        raise ParseError("not a wmic CSV header", line_number=header_number, line=header)
    names = header.split(",")[1:]
    _checked_columns(names, header_number, header)
    wide = [index for index, name in enumerate(names) if name in _COMMA_COLUMNS]
    result = []
    with collection_paused():
        for number, line in rows:
            fields = line.split(",")[1:]
            extra = len(fields) - len(names)
            if extra > 0 and len(wide) == 1:
                at = wide[0]
                fields[at : at + extra + 1] = [",".join(fields[at : at + extra + 1])]
            elif extra:
                raise ParseError(
                    f"expected {len(names) + 1} fields, found {len(fields) + 1}",
                    line_number=number,
                    line=line,
                )
            result.append(_row(number, line, dict(zip(names, fields, strict=True)), zone))
    return result


FORMATS = (
    rows_format(
        name="wmic process table",
        os_types=("windows",),
        commands=("wmic process get", "wmic path win32_process get", "wmic process list brief"),
        matches_header=is_wmic_table_header,
        parse_rows=parse_wmic_table,
    ),
    rows_format(
        name="wmic process list",
        os_types=("windows",),
        commands=("wmic process get /format:list", "wmic process list full"),
        matches_header=is_wmic_list_line,
        parse_rows=parse_wmic_list,
    ),
    rows_format(
        name="wmic process csv",
        os_types=("windows",),
        commands=("wmic process get /format:csv",),
        matches_header=is_wmic_csv_header,
        parse_rows=parse_wmic_csv,
    ),
)
