"""``tasklist /fo csv`` and ``tasklist /fo list`` (with or without ``/v``), in any known language.

Neither output cuts a value: CSV quotes every value under a header row of whole labels, and
the list prints one ``Label: value`` line per value, labels padded to one width, records one
blank line apart. Labels are read in every language windows_locale knows, record by record
in the list (each line names its value), so a list that mixes languages still reads.
"""

from __future__ import annotations

import csv
from datetime import datetime

from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.gc_pause import collection_paused
from parsers.lines import numbered_lines
from parsers.rows import ProcessRow
from parsers.tasklist_fields import (
    DEFAULT_FIELDS,
    VERBOSE_FIELDS,
    TasklistReader,
    field_of_label,
)
from parsers.windows_locale import TASKLIST_LABELS
from parsers.windows_times import snapshot_zone

__all__ = [
    "FORMATS",
    "is_tasklist_csv_header",
    "is_tasklist_list_line",
    "parse_tasklist_csv",
    "parse_tasklist_list",
]

_SHAPES = (DEFAULT_FIELDS, VERBOSE_FIELDS)
_ENGLISH = TASKLIST_LABELS["en"]


def _csv_fields(line: str) -> tuple[str, ...] | None:
    """The fields a CSV header line names, in order, or None if it is no tasklist header."""
    if not line.startswith('"'):
        return None
    try:
        labels = next(csv.reader([line]))
    except csv.Error:
        return None
    fields = tuple(field_of_label(label) or "" for label in labels)
    return fields if fields in _SHAPES else None


def is_tasklist_csv_header(line: str) -> bool:
    """Tell whether ``line`` is the header row of ``tasklist /fo csv`` (with or without /v)."""
    return _csv_fields(line) is not None


def is_tasklist_list_line(line: str) -> bool:
    """Tell whether ``line`` starts a ``tasklist /fo list`` record: ``Image Name: ...``."""
    label, colon, _ = line.partition(":")
    return bool(colon) and field_of_label(label) == "image"


def parse_tasklist_csv(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``tasklist /fo csv`` or ``tasklist /v /fo csv`` taken at ``observed_at``.

    The first non-blank line must be the header row (whole labels, any known language); each
    later non-blank line is one process with as many quoted values, taken as printed (tasklist
    pads none) and read as :func:`parsers.tasklist.parse_tasklist` reads them, except that no
    value is cut short.
    Raises ParseError (naming the line) for a header or row that does not read; ValueError
    if ``observed_at`` is naive.
    """
    snapshot_zone(observed_at)
    lines = numbered_lines(raw)
    if not lines:
        raise ParseError("empty listing")
    header_number, header = lines[0]
    fields = _csv_fields(header)
    if fields is None:
        raise ParseError("not a tasklist CSV header", line_number=header_number, line=header)
    reader = TasklistReader()
    rows: list[ProcessRow] = []
    append = rows.append
    data = lines[1:]
    records = csv.reader([line for _, line in data], strict=True)
    with collection_paused():
        for index, (line_number, line) in enumerate(data):
            try:
                values = next(records)
            except csv.Error as exc:
                raise ParseError(f"CSV: {exc}", line_number=line_number, line=line) from None
            # A quote left open would make csv read on into the next lines.
            if records.line_num != index + 1:
                raise ParseError("CSV: quote left open", line_number=line_number, line=line)
            if len(values) != len(fields):
                raise ParseError(
                    f"expected {len(fields)} values, found {len(values)}",
                    line_number=line_number,
                    line=line,
                )
            try:
                append(reader.row(line_number, values, False))
            except ValueError as exc:
                raise ParseError(str(exc), line_number=line_number, line=line) from None
    return rows


def parse_tasklist_list(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse ``tasklist /fo list`` or ``tasklist /v /fo list`` taken at ``observed_at``.

    Every non-blank line is ``Label: value`` (the value after the first colon, stripped); a
    record starts at its Image Name line, which is the row's ``line_number``, and must hold
    the default five or the ``/v`` nine values, each once, in any order and any known
    language. Values read as in :func:`parsers.tasklist.parse_tasklist`, none cut short.
    Raises ParseError (naming the line) for a line that is no known label, a record with a
    value missing or twice, or a value that does not read; ValueError if ``observed_at`` is
    naive.
    """
    snapshot_zone(observed_at)
    lines = numbered_lines(raw)
    if not lines:
        raise ParseError("empty listing")
    reader = TasklistReader()
    rows: list[ProcessRow] = []
    record: dict[str, str] = {}
    first = lines[0]
    with collection_paused():
        for line_number, line in lines:
            label, colon, value = line.partition(":")
            field = field_of_label(label) if colon else None
            if field is None:
                raise ParseError("not a tasklist label", line_number=line_number, line=line)
            if field == "image" and record:
                rows.append(_record_row(reader, first, record))
                record = {}
            if not record:
                if field != "image":
                    raise ParseError(
                        "a record must start with Image Name", line_number=line_number, line=line
                    )
                first = (line_number, line)
            if field in record:
                raise ParseError(f"{field} given twice", line_number=line_number, line=line)
            record[field] = value.strip()
        rows.append(_record_row(reader, first, record))
    return rows


def _record_row(
    reader: TasklistReader, first: tuple[int, str], record: dict[str, str]
) -> ProcessRow:
    """The row of one list record, refused (at its first line) if it lacks a value."""
    line_number, line = first
    shape = VERBOSE_FIELDS if len(record) > len(DEFAULT_FIELDS) else DEFAULT_FIELDS
    missing = [field for field in shape if field not in record]
    if missing:
        names = ", ".join(_ENGLISH[field][0] for field in missing)
        raise ParseError(f"record without {names}", line_number=line_number, line=line)
    try:
        return reader.row(line_number, [record[field] for field in shape], False)
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from None


FORMATS = (
    rows_format(
        name="tasklist csv",
        os_types=("windows",),
        commands=("tasklist /fo csv", "tasklist /v /fo csv"),
        matches_header=is_tasklist_csv_header,
        parse_rows=parse_tasklist_csv,
    ),
    rows_format(
        name="tasklist list",
        os_types=("windows",),
        commands=("tasklist /fo list", "tasklist /v /fo list"),
        matches_header=is_tasklist_list_line,
        parse_rows=parse_tasklist_list,
    ),
)
