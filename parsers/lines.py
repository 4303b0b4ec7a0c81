"""Splitting a raw listing into numbered lines, counted the same way by every parser."""

from __future__ import annotations

__all__ = ["first_line", "numbered_lines"]


def numbered_lines(raw: str) -> list[tuple[int, str]]:
    """Return the non-blank lines of ``raw`` with their 1-based line numbers.

    Only ``\\n`` ends a line, so the numbers match what an editor shows even when a line holds
    other control characters that ``str.splitlines`` would break on. A ``\\r`` before the
    ``\\n`` is dropped, so listings with CRLF endings read like LF ones.
    """
    return [
        (number, line.removesuffix("\r"))
        for number, line in enumerate(raw.split("\n"), start=1)
        if line.strip()
    ]


def first_line(raw: str) -> tuple[int, str] | None:
    """The first non-blank line of ``raw`` and its number, as :func:`numbered_lines` gives them.

    ``None`` when every line is blank. Only the lines up to that one are looked at, so finding
    a large listing's header costs nothing like splitting the whole of it.
    """
    start, number = 0, 1
    while start <= len(raw):
        end = raw.find("\n", start)
        if end < 0:
            end = len(raw)
        line = raw[start:end]
        if line.strip():
            return number, line.removesuffix("\r")
        start, number = end + 1, number + 1
    return None
