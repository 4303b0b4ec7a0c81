"""What the ``top`` parsers share: the last sample, summary lines, memoized column readers."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, TypeVar

from parsers.errors import ParseError
from parsers.rows import Listing, ProcessRow

__all__ = ["first_line", "labelled_numbers", "last_sample", "read_last_sample"]

_T = TypeVar("_T")

# "2 running", "5.9 us", "0.0%us", "541M Active", "6.2% user", "3.3 avail Mem", "8102M used":
# a number (maybe a fraction, a size letter, a "+" where top ran out of room), then its label.
_PAIR = re.compile(
    r"[\s,.;]*(?P<number>[0-9]{1,15}(?:\.[0-9]{1,6})?[BKMGTPEk]?)\+?%?\s*"
    r"(?P<label>[A-Za-z][A-Za-z/_-]*(?: Mem)?)"
)
_TRAILER = re.compile(r"[\s,.;]*")
_VISIBLE = re.compile(r"\S")


def first_line(raw: str) -> tuple[int, str] | None:
    """The 1-based number and text (without a ``\\r``) of the first non-blank line, if any."""
    visible = _VISIBLE.search(raw)
    if visible is None:
        return None
    start = raw.rfind("\n", 0, visible.start()) + 1
    end = raw.find("\n", start)
    line = raw[start:] if end < 0 else raw[start:end]
    return raw.count("\n", 0, start) + 1, line.removesuffix("\r")


def last_sample(raw: str, marker: str) -> tuple[int, list[str]]:
    """The lines of ``raw`` from the last line starting with ``marker``, and that line's number.

    top prints one sample after another, each opening with the same summary line; only the
    last is kept, its lines numbered as in the whole text; lines keep any ``\\r`` ending.
    """
    found = raw.rfind("\n" + marker)
    start = found + 1 if found >= 0 else 0
    return raw.count("\n", 0, start) + 1, raw[start:].split("\n")


def _open_sample(
    raw: str,
    observed_at: datetime,
    is_header: Callable[[str], bool],
    marker_of: Callable[[str], str],
    what: str,
) -> tuple[int, list[str], dict[str, Any]]:
    """Check a top listing's first line and find its last sample.

    Returns the number of the last sample's first line, its lines, and the metadata begun with
    the number of samples (``marker_of`` gives, from the first line, what opens each sample).
    Raises ValueError for a naive ``observed_at``, ParseError for an empty listing or a first
    line ``is_header`` refuses.
    """
    if observed_at.utcoffset() is None:
        raise ValueError("observed_at must be timezone-aware")
    first = first_line(raw)
    if first is None:
        raise ParseError("empty listing")
    if not is_header(first[1]):
        raise ParseError(f"not a {what} summary", line_number=first[0], line=first[1])
    marker = marker_of(first[1])
    number, lines = last_sample(raw, marker)
    return number, lines, {"samples": raw.count("\n" + marker) + (first[0] == 1)}


def read_last_sample(
    raw: str,
    observed_at: datetime,
    *,
    name: str,
    what: str,
    is_header: Callable[[str], bool],
    marker_of: Callable[[str], str],
    is_table_header: Callable[[str], bool],
    read_summary: Callable[[dict[str, Any], int, str, bool], None],
    read_table: Callable[[int, list[str]], list[ProcessRow]],
    read_cut_summary: Callable[[dict[str, Any], int, str, bool], None] | None = None,
) -> Listing:
    """The last sample of a top listing named ``name``: summary lines to metadata, then its table.

    ``what`` names the summary in the error for a first line that is not one.

    ``read_summary(metadata, line_number, line, first)`` reads one summary line (``first`` for
    the sample's opening line); ``read_table(line_number, lines)`` reads the table from its
    header on. A summary line ``read_summary`` refuses that is as long as the sample's longest
    line was maybe cut at the width top was given: ``read_cut_summary``, when there is one,
    reads it instead. Raises what :func:`_open_sample` raises, and ParseError when no table
    follows.
    """
    number, lines, metadata = _open_sample(raw, observed_at, is_header, marker_of, what)
    width: int | None = None
    for index, text in enumerate(lines):
        line = text.removesuffix("\r")
        if not line.strip():
            continue
        if index > 0 and is_table_header(line):
            rows = read_table(number + index, lines[index:])
            return Listing(format=name, rows=rows, metadata=metadata)
        try:
            read_summary(metadata, number + index, line, index == 0)
        except ParseError:
            if read_cut_summary is None:
                raise
            if width is None:
                # Only when a line is refused: measuring every line costs on large listings.
                width = max(len(other.removesuffix("\r")) for other in lines)
            if len(line) < width:
                raise
            read_cut_summary(metadata, number + index, line, index == 0)
    raise ParseError(
        "no process table header after the summary", line_number=number, line=lines[0].rstrip("\r")
    )


def labelled_numbers(
    text: str, labels: Collection[str], line_number: int, line: str, *, cut: bool = False
) -> dict[str, str]:
    """The ``number label`` pairs of a summary line's ``text``, keyed by label, as printed.

    Every pair's label must be one of ``labels``, and nothing but separators may lie between
    or after the pairs: anything else raises ParseError naming the line. A ``cut`` line (cut
    at top's width) may end in part of a pair, which is left out, as is its last pair when
    that ends the line (its label may be cut short).
    """
    found: dict[str, str] = {}
    position = 0
    while (pair := _PAIR.match(text, position)) is not None:
        if cut and pair.end() == len(text):
            break
        if pair["label"] not in labels:
            raise ParseError(
                f"unknown summary label {pair['label']!r}", line_number=line_number, line=line
            )
        found[pair["label"]] = pair["number"]
        position = pair.end()
    if not found or not (cut or _TRAILER.fullmatch(text, position)):
        raise ParseError("unreadable summary line", line_number=line_number, line=line)
    return found
