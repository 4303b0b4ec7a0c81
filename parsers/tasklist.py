"""Windows ``tasklist`` and ``tasklist /v`` tables, in any language known to windows_locale.

The table is a header, a ruler of ``=`` runs one per column, then one line per process. Each
value is cut to its column's width (the ruler's run) and columns are one space apart: Image
Name, Session Name, Status, User Name and Window Title left-aligned, PID, Session# and Mem
Usage right-aligned. Labels are cut to the width too (fr ``Nom de la sessio``), and widths
differ by language (de ``Speichernutzung`` has 15 columns where en ``Mem Usage`` has 12),
so the ruler, not a fixed layout, tells where each value is.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import NoReturn

from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.gc_pause import collection_paused
from parsers.lines import numbered_lines
from parsers.rows import ProcessRow
from parsers.tasklist_fields import DEFAULT_FIELDS, VERBOSE_FIELDS, TasklistReader, plain_label
from parsers.windows_locale import TASKLIST_LABELS
from parsers.windows_times import snapshot_zone

__all__ = ["FORMATS", "is_tasklist_header", "parse_tasklist"]

# No column of tasklist is narrower than this, so a label is never cut shorter.
_MIN_CUT = 8
_RUN = re.compile(r"=+")
_RULER = re.compile(r"=+(?: =+)*")
_HEADER_LIMIT = 400


def _cuts(labels: tuple[str, ...]) -> str:
    """A pattern for a label whole or cut to any width a column can have."""
    texts = {
        label[:width].rstrip()
        for label in labels
        for width in range(min(_MIN_CUT, len(label)), len(label) + 1)
    }
    return "(?:" + "|".join(re.escape(text) for text in sorted(texts, key=len, reverse=True)) + ")"


@cache
def _header_pattern() -> re.Pattern[str]:
    """Any language's default or /v header, labels whole or cut, one space or more apart."""
    headers = []
    for fields in TASKLIST_LABELS.values():
        for names in (DEFAULT_FIELDS, VERBOSE_FIELDS):
            headers.append(" +".join(_cuts(fields[name]) for name in names))
    return re.compile("(?:" + "|".join(headers) + ") *")


def is_tasklist_header(line: str) -> bool:
    """Tell whether ``line`` heads a ``tasklist`` or ``tasklist /v`` table (any known language)."""
    return len(line) <= _HEADER_LIMIT and bool(_header_pattern().fullmatch(plain_label(line)))


def _columns(header: str, ruler: str) -> list[tuple[int, int]]:
    """The (start, end) of each column, from the ruler; [] when the header does not match it."""
    spans = [(run.start(), run.end()) for run in _RUN.finditer(ruler)]
    if len(spans) not in (len(DEFAULT_FIELDS), len(VERBOSE_FIELDS)):
        return []
    cells = [plain_label(header[start:end]) for start, end in spans[:-1]]
    cells.append(plain_label(header[spans[-1][0] :]))
    names = DEFAULT_FIELDS if len(spans) == len(DEFAULT_FIELDS) else VERBOSE_FIELDS
    for fields in TASKLIST_LABELS.values():
        if all(
            cell in {label[: end - start].rstrip() for label in fields[name]}
            for cell, name, (start, end) in zip(cells, names, spans, strict=True)
        ):
            return spans
    return []


def parse_tasklist(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse a ``tasklist`` or ``tasklist /v`` table taken at ``observed_at`` (timezone-aware).

    The first non-blank line must be a header :func:`is_tasklist_header` accepts, the next one
    its ruler, whose runs of ``=`` must match the header's labels (each cut to its run's width)
    in one language. Each value is read from its column (the last one, Window Title or Mem
    Usage, runs to the end of the line), and the one space between columns must be a space.

    PID is ``pid``, Image Name ``process_name``, Mem Usage (KiB, any thousands separator)
    ``memory_usage_bytes``; with ``/v``, User Name is ``user``, CPU Time
    ``cpu_time_seconds``, Status ``status_raw`` and, through
    :func:`parsers.windows_locale.tasklist_status`, ``status``. ``N/A`` gives None. An image
    name that fills its column is one tasklist cut, unless it ends with ``.exe`` (every
    program's image name does, so a cut falling exactly there is not assumed): it is flagged
    in ``truncated_fields`` as ``process_name``; a user name filling its column as ``user``.

    Raises ParseError for empty input, a header or ruler that does not read, and a row whose
    values do not (naming the line and the column); ValueError if ``observed_at`` is naive.
    """
    snapshot_zone(observed_at)
    lines = numbered_lines(raw)
    if not lines:
        raise ParseError("empty listing")
    header_number, header = lines[0]
    if not is_tasklist_header(header):
        raise ParseError("not a tasklist header", line_number=header_number, line=header)
    if len(lines) < 2 or not _RULER.fullmatch(lines[1][1].rstrip()):
        number, line = lines[1] if len(lines) > 1 else lines[0]
        raise ParseError("expected the ruler of = under the header", line_number=number, line=line)
    spans = _columns(header, lines[1][1])
    if not spans:
        raise ParseError(
            "the ruler's columns do not match the header", line_number=lines[1][0], line=lines[1][1]
        )
    return _rows(lines[2:], spans)


def _rows(lines: list[tuple[int, str]], spans: list[tuple[int, int]]) -> list[ProcessRow]:
    """Read every data line of a table whose columns are ``spans``."""
    image_width = spans[0][1]
    slices = [slice(start, end) for start, end in spans[:-1]]
    slices.append(slice(spans[-1][0], None))
    # The characters between columns, in one call; IndexError when the line ends before.
    gaps = itemgetter(*(end for _, end in spans[:-1]))
    spaces = (" ",) * (len(spans) - 1)
    widths = [end - start for start, end in spans]
    reader = (
        TasklistReader(status_width=widths[5], user_width=widths[6])
        if len(widths) > len(DEFAULT_FIELDS)
        else TasklistReader()
    )
    rows: list[ProcessRow] = []
    append = rows.append
    with collection_paused():
        for line_number, line in lines:
            try:
                try:
                    fits = gaps(line) == spaces
                except IndexError:
                    fits = False
                if not fits:
                    _refuse(line, spans)
                values = [line[where].strip() for where in slices]
                image = values[0]
                append(
                    reader.row(
                        line_number,
                        values,
                        len(image) == image_width and not image.lower().endswith(".exe"),
                    )
                )
            except ValueError as exc:
                raise ParseError(str(exc), line_number=line_number, line=line) from None
    return rows


def _refuse(line: str, spans: list[tuple[int, int]]) -> NoReturn:
    """Say why a line does not fit the columns: the value that does not read, else the gap."""
    values = [line[start:end].strip() for start, end in spans[:-1]]
    values.append(line[spans[-1][0] :].strip())
    TasklistReader().row(0, values, image_truncated=False)
    raise ValueError("a value runs over the space between two columns")


FORMATS = (
    rows_format(
        name="tasklist",
        os_types=("windows",),
        commands=("tasklist", "tasklist /v", "tasklist /fo table"),
        matches_header=is_tasklist_header,
        parse_rows=parse_tasklist,
    ),
)
