"""``ps aux`` (also ``ps axu``, ``ps auxww``) of Linux procps and of macOS and the BSDs."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from parsers.errors import ParseError
from parsers.formats import rows_format
from parsers.ps_columns import layout_of
from parsers.ps_readers import listing_lines, user_truncation
from parsers.ps_table import read_rows
from parsers.row_assembly import count, lookup, program_lookup, row_plan, text
from parsers.rows import ProcessRow
from parsers.times import parse_cpu_time, resolve_start_time, start_time_precision
from parsers.values import decimal, process_name, terminal, unix_status
from parsers.width_cuts import flag_width_cuts

__all__ = ["FORMATS", "PS_AUX_HEADERS", "is_ps_aux_header", "parse_ps_aux"]

# Both families print the same eleven columns in the same order; only two names differ.
PS_AUX_HEADERS = (
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"),
    ("USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TT", "STAT", "STARTED", "TIME", "COMMAND"),
)


_LAST = len(PS_AUX_HEADERS[0]) - 1


def is_ps_aux_header(line: str) -> bool:
    """Tell whether ``line`` is the header ``ps aux`` prints on Linux, macOS or a BSD."""
    return tuple(line.split()) in PS_AUX_HEADERS


def parse_ps_aux(raw: str, observed_at: datetime) -> list[ProcessRow]:
    """Parse the output of ``ps aux`` taken at ``observed_at`` (timezone-aware) into rows.

    The first non-blank line must be one of :data:`PS_AUX_HEADERS`; blank lines are skipped
    and ``line_number`` counts every line of ``raw`` from 1 (the header's usually). VSZ and
    RSS are converted from KiB to bytes, a TTY of ``?``, ``??`` or ``-`` becomes ``None``,
    STAT is kept as ``status_raw`` and its first letter gives ``status``, and START is
    resolved as :func:`parsers.times.resolve_start_time` describes, at the precision
    :func:`parsers.times.start_time_precision` gives (60 s for ``14:03``, a day for ``Nov28``,
    a year for ``2025``). A user name ending in
    ``+`` is one procps cut short: it is kept as printed and flagged in ``truncated_fields``.

    ``process_name`` is the base name of the first word of COMMAND, or the name inside the
    brackets ps shows for kernel threads and zombies (``[kworker/0:1]`` gives
    ``kworker/0:1``), as :func:`parsers.values.process_name` says (a rewritten title such as
    ``postgres: 15/main: checkpointer`` gives ``postgres``). Where the program's path has
    spaces, as macOS applications' often do, that first word is only the part before the
    first space: ps does not show where argv[0] ends (``/Applications/Backup and
    Sync.app/...`` gives ``Backup``). A listing cut at the terminal's width (``ps aux``
    without ``ww`` on a terminal or with ``COLUMNS`` set) has its cut command lines named in
    ``truncated_fields``, as :mod:`parsers.width_cuts` describes.

    Raises ParseError for empty input, a first line that is not a ps aux header, and a row
    with missing columns or a value that does not read (naming the line and the column);
    ValueError if ``observed_at`` is naive. A header without rows gives ``[]``.
    """
    header, first_number, lines = listing_lines(raw, observed_at, is_ps_aux_header, "ps aux")
    layout = layout_of(header)
    if layout is None:  # pragma: no cover - every ps aux header has a layout
        raise ParseError("unreadable ps aux header", line_number=first_number - 1, line=header)
    plan = row_plan(
        pid=count(1),
        process_name=program_lookup(_LAST, process_name, shared=True),
        user=text(0),
        command_line=text(_LAST),
        cpu_percent=lookup(2, decimal, shared=True),
        memory_percent=lookup(3, decimal, shared=True),
        rss_bytes=count(5, 1024),
        vsz_bytes=count(4, 1024),
        status=lookup(7, unix_status, shared=True),
        status_raw=text(7),
        start_time=lookup(8, partial(resolve_start_time, observed_at=observed_at)),
        start_time_precision=lookup(8, start_time_precision, shared=True),
        cpu_time_seconds=lookup(9, parse_cpu_time, shared=True),
        tty=lookup(6, terminal, shared=True),
        truncated_fields=lookup(0, user_truncation, shared=True),
    )
    rows = read_rows(layout, observed_at, lines, first_number, plan)
    return flag_width_cuts(rows, lines, first_number, header, name_from_command=True)


FORMATS = (
    rows_format(
        name="ps aux",
        os_types=("linux", "macos", "freebsd", "openbsd", "netbsd"),
        commands=("ps aux", "ps axu", "ps auxww"),
        matches_header=is_ps_aux_header,
        parse_rows=parse_ps_aux,
    ),
)
