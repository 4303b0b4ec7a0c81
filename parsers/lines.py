"""Splitting a raw listing into numbered lines, counted the same way by every parser."""

from __future__ import annotations

__all__ = ["numbered_lines"]


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
