"""The one exception the parsers raise."""

from __future__ import annotations

__all__ = ["ParseError"]

_QUOTE_LIMIT = 200


class ParseError(ValueError):
    """Raw text that does not parse, naming the line number and quoting the offending line."""

    def __init__(self, message: str, *, line_number: int | None = None, line: str | None = None):
        self.message = message
        self.line_number = line_number
        self.line = line
        text = message
        if line_number is not None:
            quoted = (
                line if line is None or len(line) <= _QUOTE_LIMIT else line[:_QUOTE_LIMIT] + "…"
            )
            text = f"line {line_number}: {message}: {quoted!r}"
        super().__init__(text)
