"""A procps ``top`` table's columns found by its header's positions, and rows read by them.

top pads every field to a fixed width and puts one space between fields: numbers are
right-aligned under their header, text left-aligned, so a number ends where its header ends
and a text begins where its header begins. Between a text and a number that follows it, the
number is the run of non-blanks before its header's end (numbers never hold spaces), and the
text is what lies before that run. So values holding spaces (command lines, ENVIRON, EXE...)
are kept whole wherever their column is.
"""

from __future__ import annotations

import re

from parsers.errors import ParseError
from parsers.rows import ProcessRow, row_of
from parsers.top_linux_fields import LEFT_ALIGNED, READERS, Reader

__all__ = ["CHOICES", "TopLayout"]

_FIELD_INDEX = {name: index for index, name in enumerate(ProcessRow._fields)}
_HEADER_NAME = re.compile(r"\S+")
# The field read when a header shows several that fill the same values: the effective user
# (ps' USER) before the real one, TIME+ (to the hundredth) before TIME.
CHOICES = (("USER", "RUSER"), ("TIME+", "TIME"))
_CUT_NUMBER = "?"
_FOREST_BRANCH = "`- "


class TopLayout:
    """The columns of one ``top`` header: names, where each begins and ends, its alignment.

    ``chosen`` maps each field name read into rows (see :data:`READERS`, and COMMAND) to its
    column's index; other columns are skipped. Raises ParseError for a header without one
    PID.
    """

    __slots__ = ("chosen", "ends", "header", "left", "names", "starts")

    def __init__(self, header: str, line_number: int) -> None:
        found = list(_HEADER_NAME.finditer(header))
        self.header = header
        self.names = [match[0] for match in found]
        self.starts = [match.start() for match in found]
        self.ends = [match.end() for match in found]
        self.left = [name in LEFT_ALIGNED for name in self.names]
        if self.names.count("PID") != 1:
            raise ParseError("top header without one PID", line_number=line_number, line=header)
        self.chosen = {
            name: self.names.index(name)
            for name in ("COMMAND", *READERS)
            if name in self.names and not _outranked(name, self.names)
        }

    def cut(self, index: int, line: str) -> int:
        """Where in ``line`` the value of column ``index`` ends and the next one's begins."""
        after = index + 1
        if self.left[after]:
            return self.starts[after]
        if not self.left[index]:
            return self.ends[index]
        # A text, then a number: the number is the non-blanks that end under its header
        # (none when that place is blank: a suppressed zero, or a line ending before it).
        end = self.ends[after]
        if len(line) < end or line[end - 1] == " ":
            return self.starts[after]
        return min(self.starts[after], line.rfind(" ", 0, end) + 1)

    def text(self, index: int, line: str) -> str:
        """The value of column ``index`` in ``line``, without the padding around it."""
        start = 0 if index == 0 else self.cut(index - 1, line)
        end = len(line) if index == len(self.names) - 1 else self.cut(index, line)
        return line[start:end].strip()

    def read_row(self, line_number: int, line: str) -> ProcessRow:
        """The row of ``line``, each chosen column read from its place; ParseError if unreadable.

        COMMAND loses forest view's `` `- `` before it; without COMMAND the name is ``""``,
        named in ``truncated_fields``. Blank numbers are zeros (top's zero
        suppression); a number top could not fit (``?``, or cut with a ``+``) is None and its
        fields named in ``truncated_fields``, as is a text cut with a ``+`` (kept as printed).
        """
        values: list[object] = [None] * len(_FIELD_INDEX)
        values[0] = line_number
        truncated: list[str] = []
        if "COMMAND" in self.chosen:
            # Forest view (top's V) draws a child's place in the tree before its COMMAND.
            command = self.text(self.chosen["COMMAND"], line).removeprefix(_FOREST_BRANCH)
            if not command:
                self._refuse(line_number, line, "COMMAND", command)
            if command[-1] == "+":
                truncated.append("process_name")
        else:
            # No COMMAND (hidden, or left out by top for want of width): no name to trust.
            command = ""
            truncated.append("process_name")
        values[_FIELD_INDEX["process_name"]] = command
        for name, index in self.chosen.items():
            if name != "COMMAND":
                text = self.text(index, line)
                if not _read(READERS[name], text, values, truncated):
                    self._refuse(line_number, line, name, text)
        values[_FIELD_INDEX["truncated_fields"]] = tuple(
            sorted(truncated, key=_FIELD_INDEX.__getitem__)
        )
        return row_of(tuple(values))

    def _refuse(self, line_number: int, line: str, name: str, text: str) -> None:
        raise ParseError(
            f"not a row of {self.header.strip()!r}: {name} is {text!r}",
            line_number=line_number,
            line=line,
        )


def _outranked(name: str, names: list[str]) -> bool:
    """Whether a field the header also shows is read in place of ``name``."""
    for choice in CHOICES:
        if name in choice:
            return any(other in names for other in choice[: choice.index(name)])
    return False


def _read(reader: Reader, text: str, values: list[object], truncated: list[str]) -> bool:
    """Put what ``text`` says into ``values``; False when the field cannot be read."""
    if not text and reader.zero is not None:
        text = reader.zero
    cut = text[-1:] == "+"
    if not reader.keeps_cut and (cut or text == _CUT_NUMBER):
        # Only a number top may also leave blank may be unknown: PID and S are needed.
        truncated.extend(reader.fields)
        return reader.zero is not None
    if reader.pattern(text) is None:
        return False
    value = reader.convert(text)
    if cut:
        truncated.extend(reader.fields)
    if len(reader.fields) == 1:
        values[_FIELD_INDEX[reader.fields[0]]] = value
    else:
        for field, part in zip(reader.fields, value, strict=True):
            values[_FIELD_INDEX[field]] = part
    return True
