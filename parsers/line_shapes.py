"""How a line of a listing splits into its columns' texts, for the row assembler.

A :class:`Shape` gives each column a :class:`Span`: one word, a few words (ps ``lstart``), a
text with spaces between words (procps ``comm``), or the rest of the line (a command line).
:func:`split_columns` is the reference; ``parsers/_row_assembly.c`` splits lines the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Final, NamedTuple

__all__ = ["MisplacedColumnError", "Shape", "Span", "shape", "split_columns", "words"]


class Span(IntEnum):
    """What part of a line a column's text is (the C twin numbers them the same)."""

    WORD = 0
    """One word."""
    WORDS = 1
    """One word, and as many more as the shape's ``more_words`` gives for it (lstart's five)."""
    TEXT = 2
    """The text, spaces and all, between the words before it and the words after it."""
    REST = 3
    """The last column: the rest of the line, or the line from the shape's ``last_start`` on."""


class Shape(NamedTuple):
    """How a line splits into its columns' texts: see :func:`shape` and :func:`split_columns`."""

    spans: tuple[Span, ...]
    last_start: int
    more_words: Mapping[str, int]


class MisplacedColumnError(ValueError):
    """A line whose last column does not begin at the shape's ``last_start``."""


_MAX_COLUMNS: Final = 256


def shape(
    spans: tuple[Span, ...], last_start: int = -1, more_words: Mapping[str, int] | None = None
) -> Shape:
    """A shape of 1 to 256 columns; ValueError for one :func:`split_columns` cannot follow.

    REST can only be last, and one TEXT column at most stands before it, with only WORD
    columns after it. ``last_start`` (the character the last column begins at, when a TEXT
    column stands before it: ps pads the columns between them) needs a REST column last.
    """
    text_at = spans.index(Span.TEXT) if Span.TEXT in spans else len(spans)
    if not (
        0 < len(spans) <= _MAX_COLUMNS
        and Span.REST not in spans[:-1]
        and Span.TEXT not in spans[text_at + 1 :]
        and Span.WORDS not in spans[text_at:]
        and (last_start < 0 or (last_start > 0 and spans[-1] is Span.REST))
        and (last_start > 0 or spans[-1] is not Span.REST or text_at == len(spans))
    ):
        raise ValueError(f"not a shape: {spans!r}, last column at {last_start}")
    return Shape(spans, last_start, dict(more_words or {}))


def words(count: int) -> Shape:
    """The shape of ``count`` columns of one word each, the last taking the rest of the line."""
    return shape((Span.WORD,) * (count - 1) + (Span.REST,))


def split_columns(line: str, line_shape: Shape) -> list[str]:
    """The texts of ``line``'s columns, ``[]`` for a blank line; ValueError if it does not fit.

    Words are runs of what ``str.split`` does not count as whitespace. A WORDS column's words
    are joined by single spaces; a TEXT column's text and the last REST column's are right-
    stripped. It raises :class:`MisplacedColumnError` where ``last_start`` is past the line's
    end or the character before it is not whitespace, and a ValueError naming the number of
    columns found for a line of too few or too many words.
    """
    if not line or line.isspace():
        return []
    spans, last_start, more_words = line_shape
    tail: list[str] = []
    if last_start > 0:
        if len(line) <= last_start or not line[last_start - 1].isspace():
            raise MisplacedColumnError("the last column does not begin under its header")
        tail = [line[last_start:].rstrip()] if not line[last_start:].isspace() else []
        line, spans = line[:last_start], spans[:-1]
    text_at = spans.index(Span.TEXT) if Span.TEXT in spans else len(spans)
    # The words of the columns before the rest (a TEXT column and those after it, or a last
    # REST column); every word where no column takes the rest.
    words_before = len(spans) - 1 if spans[-1] is Span.REST else text_at
    budget = words_before if words_before < len(spans) else -1
    parts = line.split(None, budget)
    values: list[str] = []
    position = 0
    for span in spans[: min(words_before, text_at)]:
        if position >= len(parts):
            break
        more = more_words.get(parts[position], 0) if span is Span.WORDS else 0
        if more and budget >= 0:
            budget += more
            parts = line.split(None, budget)
        values.append(" ".join(parts[position : position + 1 + more]))
        position += 1 + more
    if budget < 0:
        found = len(values) + max(len(parts) - position, 0)
    else:
        rest = parts[position:]
        if rest and text_at < len(spans):
            values += rest[0].rsplit(None, len(spans) - text_at - 1)
        elif rest:
            values.append(rest[0].rstrip())
        found = len(values) + len(tail)
    if found != len(line_shape.spans):
        raise ValueError(f"expected {len(line_shape.spans)} columns, found {found}")
    return values + tail
