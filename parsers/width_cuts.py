"""Command lines cut at the terminal's width: ``ps`` without ``ww`` cuts every line there.

procps (when ``COLUMNS`` is set or its output is a terminal) and the BSDs' ps (on a
terminal) print each line up to the width and no further, silently. A listing whose last
column is the command then has its long lines end at one and the same column, which no
whole listing shows: command lines, unlike the columns before them, vary in length.

The rule: W is the length of the longest data line (in characters, the header aside). The
listing is cut at W when W is longer than the header (ps prints the header whole, and a
terminal narrower than it cuts the columns before the command too), at least two data
lines are W long, and they hold at least two different command texts (identical workers,
``nginx: worker process`` say, are as long as one another without any cut). Each row of
a line W long then names ``command_line`` in its ``truncated_fields``, and
``process_name`` too where the name is derived from the command text and the cut falls
in the word it is taken from (no blank in the text, or a ``[kernel thread`` whose ``]``
is gone).
"""

from __future__ import annotations

from bisect import bisect_left
from operator import itemgetter

from parsers.rows import ProcessRow

__all__ = ["flag_width_cuts"]

_COMMAND_CUT: tuple[str, ...] = ("command_line",)
_COMMAND_AND_NAME_CUT: tuple[str, ...] = ("command_line", "process_name")
_LINE_NUMBER = itemgetter(ProcessRow._fields.index("line_number"))
_COMMAND_LINE = itemgetter(ProcessRow._fields.index("command_line"))


def flag_width_cuts(
    rows: list[ProcessRow],
    lines: list[str],
    first_number: int,
    header: str,
    *,
    name_from_command: bool,
    whole_name_length: int | None = None,
) -> list[ProcessRow]:
    """``rows`` with the cut command lines flagged, as the module describes; changed in place.

    ``rows`` were read from ``lines``: the raw data lines of a listing whose last column is
    the command line (blank ones kept, a ``\r`` left at their ends), ``lines[0]`` being
    line ``first_number``, under ``header``; every non-blank line gave one row.
    ``name_from_command`` says whether the process name was derived from the command text.
    ``whole_name_length``: when every text at the width is this long, the texts are taken
    as whole names (procps ``comm`` keeps at most 15 characters, so ``ps -o pid,comm``
    lines line up without any cut).

    Only the rows of lines at the width are looked at and rebuilt; the rest costs three
    passes in C over the lines' lengths, about 30 ns a line in all.
    """
    if len(rows) < 2:
        return rows
    lengths = list(map(len, lines))
    # The largest of the few distinct lengths: hashing a small int costs less than max's
    # comparison of every length with the largest so far.
    width = max(set(lengths))
    at_width = _lines_at(lengths, width)
    # A CRLF listing's lines are a character longer than what ps printed; its header is not.
    if len(at_width) < 2 or width - lines[at_width[0]].endswith("\r") <= len(header):
        return rows
    positions = _row_positions(rows, at_width, first_number)
    texts = set(map(_COMMAND_LINE, map(rows.__getitem__, positions)))
    if len(texts) < 2 or (
        whole_name_length is not None
        and all(len(text or "") == whole_name_length for text in texts)
    ):
        return rows
    for position in positions:
        row = rows[position]
        cut = _COMMAND_CUT
        if name_from_command and _cuts_name(row.command_line or ""):
            cut = _COMMAND_AND_NAME_CUT
        rows[position] = row._replace(truncated_fields=row.truncated_fields + cut)
    return rows


def _lines_at(lengths: list[int], width: int) -> list[int]:
    """The indexes of the lines ``width`` long, found by list.index: a scan in C, not a loop."""
    found: list[int] = []
    index = -1
    try:
        while True:
            index = lengths.index(width, index + 1)
            found.append(index)
    except ValueError:
        return found


def _row_positions(rows: list[ProcessRow], line_indexes: list[int], first_number: int) -> list[int]:
    """Where the rows of the lines at ``line_indexes`` (in order) are among ``rows``.

    A row's line number exceeds ``first_number`` plus its position by the blank lines before
    it, which only grows: when the last line's row is at its index, so are all before it.
    """
    last = line_indexes[-1]
    if last < len(rows) and rows[last].line_number == first_number + last:
        return line_indexes
    return [
        position
        for index in line_indexes
        if (position := _row_index(rows, index, first_number + index)) is not None
    ]


def _row_index(rows: list[ProcessRow], line_index: int, line_number: int) -> int | None:
    """Where the row of ``line_number`` is (``None``: a blank line, no row).

    At ``line_index`` unless blank lines came before it: then found by halving, the rows
    being in line order.
    """
    if line_index < len(rows) and rows[line_index].line_number == line_number:
        return line_index
    position = bisect_left(rows, line_number, key=_LINE_NUMBER)
    if position < len(rows) and rows[position].line_number == line_number:
        return position
    return None


def _cuts_name(text: str) -> bool:
    """Whether a cut at the end of ``text`` falls in the word its process name comes from."""
    if text[:1] == "[":
        return "]" not in text
    return len(text.split(None, 1)) == 1
