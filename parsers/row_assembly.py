"""Rows of whitespace-separated listings (``ps aux``, ``ps -ef``, ``ps -o``) made by a plan.

A shape (:mod:`parsers.line_shapes`) says how a line splits into its columns' texts; a plan
says, for each field of :class:`~parsers.rows.ProcessRow`, where its value comes from:
the line number, a constant, a column's text, a column read as a count, or a column passed
to a reader whose results are remembered, for the listing or across listings (these columns
repeat the same few texts). :func:`assemble_rows` carries a plan out over a listing's lines.

It is compiled (``parsers/_row_assembly.c``, built on install) where a C compiler was found,
because a row made by the interpreter costs about 1 µs, most of a ps line's parsing;
:func:`assemble_rows_python` is the same in Python, used where the extension was not built,
and the reference the tests hold the compiled one to. :data:`ASSEMBLER` says which is used.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any, Final, TypeVar

from parsers.line_shapes import Shape, split_columns, words
from parsers.rows import ProcessRow

__all__ = [
    "ASSEMBLER",
    "PlanEntry",
    "Source",
    "assemble_rows",
    "assemble_rows_python",
    "constant",
    "count",
    "line_number",
    "lookup",
    "program_lookup",
    "read_entry",
    "row_plan",
    "shared_memo",
    "text",
]

Row = TypeVar("Row", bound=tuple[Any, ...])


class Source(IntEnum):
    """Where a plan entry's value comes from (the C twin numbers them the same)."""

    LINE_NUMBER = 0
    CONSTANT = 1
    TEXT = 2
    COUNT = 3
    LOOKUP = 4
    PROGRAM_LOOKUP = 5


PlanEntry = tuple[Source, int, Any]
"""(source, column, argument): the argument is a constant, a multiplier or (memo, reader)."""

_MAX_DIGITS: Final = 15
_SHARED_MEMO_SIZE: Final = 65_536
_shared_memos: dict[Callable[[str], object], dict[str, object]] = {}


def line_number() -> PlanEntry:
    """The 1-based number of the line in the listing."""
    return (Source.LINE_NUMBER, 0, None)


def constant(value: object) -> PlanEntry:
    """The same value on every row."""
    return (Source.CONSTANT, 0, value)


def text(column: int) -> PlanEntry:
    """The column's text as printed (the last column right-stripped)."""
    return (Source.TEXT, column, None)


def count(column: int, multiplier: int = 1) -> PlanEntry:
    """The column as 1 to 15 ASCII digits, times ``multiplier`` (1024 for KiB to bytes)."""
    return (Source.COUNT, column, multiplier)


def lookup(column: int, reader: Callable[[str], object], *, shared: bool = False) -> PlanEntry:
    """``reader(text)`` of the column, remembered by text; its ValueError refuses the line.

    Remembered for the listing, or with ``shared`` for every listing read by the same
    ``reader`` (see :func:`shared_memo`): only for a reader whose result depends on the text
    alone.
    """
    return (Source.LOOKUP, column, (_memo(reader, shared), reader))


def program_lookup(
    column: int, reader: Callable[[str], object], *, shared: bool = False
) -> PlanEntry:
    """``reader`` of the column's first word (all of it when it starts with ``[``), remembered.

    For process names: they depend on the program only, which repeats where whole command
    lines do not. ``shared`` as for :func:`lookup`.
    """
    return (Source.PROGRAM_LOOKUP, column, (_memo(reader, shared), reader))


def shared_memo(reader: Callable[[str], object]) -> dict[str, object]:
    """The memo of ``reader`` that every listing shares, emptied once it holds 65,536 texts.

    A stream of small listings (the worker's: about 150 rows each) repeats the same process
    names, times and states from listing to listing far more than within one; remembered
    per listing, most of them were read again.
    """
    memo = _shared_memos.setdefault(reader, {})
    if len(memo) >= _SHARED_MEMO_SIZE:
        memo.clear()
    return memo


def _memo(reader: Callable[[str], object], shared: bool) -> dict[str, object]:
    return shared_memo(reader) if shared else {}


def row_plan(**entries: PlanEntry) -> tuple[PlanEntry, ...]:
    """A plan of :class:`ProcessRow`, by field name; fields not named take their default."""
    unknown = entries.keys() - ProcessRow._fields
    if unknown:
        raise TypeError(f"not ProcessRow fields: {sorted(unknown)}")
    defaults = ProcessRow._field_defaults
    return tuple(
        line_number()
        if field == "line_number"
        else entries.get(field) or constant(defaults.get(field))
        for field in ProcessRow._fields
    )


_Getter = Callable[[list[str], int], object]


def _getter(source: Source, column: int, argument: Any) -> _Getter:
    """The value of a plan entry for a line's fields and number; ValueError refuses the line."""
    if source is Source.LINE_NUMBER:
        return lambda fields, number: number
    if source is Source.CONSTANT:
        return lambda fields, number: argument
    if source is Source.TEXT:
        return lambda fields, number: fields[column]
    if source is Source.COUNT:
        multiplier: int = argument

        def counted(fields: list[str], number: int) -> int:
            digits = fields[column]
            if not (digits.isdigit() and digits.isascii() and len(digits) <= _MAX_DIGITS):
                raise ValueError(digits)
            return int(digits) * multiplier

        return counted
    memo: dict[str, object] = argument[0]
    reader: Callable[[str], object] = argument[1]
    program = source is Source.PROGRAM_LOOKUP

    def looked_up(fields: list[str], number: int) -> object:
        key = fields[column]
        if program and key[0] != "[":
            key = key.partition(" ")[0]
        if key in memo:
            return memo[key]
        value = memo[key] = reader(key)
        return value

    return looked_up


def read_entry(entry: PlanEntry, fields: list[str]) -> object:
    """The value ``entry`` gives for a line of ``fields`` (line number 0), as a row would hold it.

    Raises ValueError where the assembler refuses the line for it: a count that is not 1 to
    15 ASCII digits (the text alone is the message), a reader's ValueError.
    """
    return _getter(*entry)(fields, 0)


def assemble_rows_python(
    lines: list[str],
    first_number: int,
    line_shape: Shape,
    plan: tuple[PlanEntry, ...],
    row_type: type[Row],
) -> list[Row] | int:
    """Rows of ``row_type`` read from ``lines`` by ``plan``, or the index of a line that does not.

    Each line is split by ``line_shape`` as :func:`split_columns` does; a blank line is
    skipped. A line refuses to read, and its index in ``lines`` is returned, when it does not
    fit the shape, a count column is not 1 to 15 ASCII digits, or a reader raises ValueError.
    ``first_number`` is the line number of ``lines[0]``.
    """
    getters = [_getter(*entry) for entry in plan]
    last = len(line_shape.spans) - 1
    # ps aux and ps -ef: str.split alone splits them, as split_columns would.
    plain = line_shape == words(last + 1)
    rows: list[Row] = []
    for index, line in enumerate(lines):
        if plain:
            fields = line.split(None, last)
            if len(fields) <= last:
                if not fields:
                    continue
                return index
            fields[last] = fields[last].rstrip()
        else:
            try:
                fields = split_columns(line, line_shape)
            except ValueError:
                return index
            if not fields:
                continue
        number = first_number + index
        try:
            rows.append(tuple.__new__(row_type, [get(fields, number) for get in getters]))
        except ValueError:
            return index
    return rows


try:
    from parsers._row_assembly import assemble_rows
except ImportError:  # pragma: no cover - where no C compiler was found on install
    assemble_rows = assemble_rows_python

ASSEMBLER: Final = "python" if assemble_rows is assemble_rows_python else "c"
"""Which :func:`assemble_rows` is used: ``"c"``, or ``"python"`` where none was compiled."""
