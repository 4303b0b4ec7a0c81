"""Reading the values listings print: numbers, names, terminals and Unix state codes.

Shared by every parser so that a number, a process name or a state reads the same way
whatever the format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from parsers.rows import ProcessStatus

__all__ = [
    "DECIMAL_PATTERN",
    "INTEGER_PATTERN",
    "NO_TERMINAL",
    "decimal",
    "integer",
    "memoized",
    "process_name",
    "read_column",
    "scaled_bytes",
    "terminal",
    "unix_status",
    "whole_percent",
]

_T = TypeVar("_T")

# Linux prints "?" for no controlling terminal, macOS "??", FreeBSD "-".
NO_TERMINAL = frozenset({"?", "??", "-"})

_UNIX_STATUSES = {
    "R": ProcessStatus.RUNNING,
    "S": ProcessStatus.SLEEPING,
    "D": ProcessStatus.DISK_SLEEP,
    # macOS: uninterruptible wait, its name for Linux's D.
    "U": ProcessStatus.DISK_SLEEP,
    "I": ProcessStatus.IDLE,
    "T": ProcessStatus.STOPPED,
    "t": ProcessStatus.TRACED,
    "Z": ProcessStatus.ZOMBIE,
    "X": ProcessStatus.DEAD,
}

# The bounds are far beyond any real PID or KiB count, and keep byte counts within 64 bits.
INTEGER_PATTERN = re.compile(r"[0-9]{1,15}")
DECIMAL_PATTERN = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")
# A size as top prints it: a number, maybe with a fraction, maybe with a binary unit letter.
_SCALED_SIZE = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,6}))?([BbKkMmGgTtPpEe]?)")
_UNIT_POWERS = {"b": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def terminal(tty: str) -> str | None:
    """A TTY column's terminal: ``None`` for the marks of no terminal (``?``, ``??``, ``-``)."""
    return None if tty in NO_TERMINAL else tty


def whole_percent(text: str) -> float:
    """An integer percentage, as ps' C column prints it."""
    return float(integer(text))


def unix_status(code: str) -> ProcessStatus:
    """The shared state of a Unix state code (``Ss``, ``R+``, ``I<``...): its first letter."""
    return _UNIX_STATUSES.get(code[:1], ProcessStatus.UNKNOWN)


def read_column(column: str, convert: Callable[[str], _T], text: str) -> _T:
    """Convert one column's text, prefixing any complaint with the column's name."""
    try:
        return convert(text)
    except ValueError as exc:
        raise ValueError(f"{column}: {exc}") from exc


def integer(text: str) -> int:
    """A non-negative integer, refusing what int() also takes: signs, "_", non-ASCII digits."""
    # INTEGER_PATTERN's test without the regex engine, which is slower on listings' hot path.
    if len(text) > 15 or not (text.isascii() and text.isdigit()):
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


def decimal(text: str) -> float:
    """A non-negative decimal number, refusing what float() also accepts: nan, inf, exponents."""
    # DECIMAL_PATTERN's test without the regex engine, which is slower on listings' hot path.
    whole, point, fraction = text.partition(".")
    if not (
        len(whole) <= 15
        and len(fraction) <= 15
        and text.isascii()
        and whole.isdigit()
        and (fraction.isdigit() or not point)
    ):
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def process_name(command: str) -> str:
    """The program's name: base name of the first word, or the bracketed kernel thread name.

    A first word ending in ``:`` is a title the program wrote over its argv, ``name: what it
    does`` (``postgres: 15/main: checkpointer``, ``nginx: worker process``, ``sshd:
    alice@pts/0``): the name is the word without its colons. A program whose file name
    really ends in ``:`` loses them too; none is known, and ps cannot tell the two apart.
    """
    if command[:1] == "[":
        # A kernel thread, or a zombie shown as "[name] <defunct>": no argv, only the name in
        # brackets, up to the first "]" and not empty (found without a regex: they are many);
        # without its "]" (cut at the terminal's width) the name is what is left of it.
        end = command.find("]")
        if end > 1:
            return command[1:end]
        if end < 0 and len(command) > 1:
            return command[1:]
    first_word = command.split(None, 1)[0]
    program = first_word.rstrip(":") or first_word
    return program.rstrip("/").rsplit("/", 1)[-1] or program


def scaled_bytes(text: str, default_unit: int) -> int:
    """Bytes of a size like ``42296K``, ``1.2g``, ``0B`` or ``13208`` (no letter: default_unit).

    The letter (any case) is a power of 1024: B bytes, K KiB, M MiB, G, T, P, E. A fraction is
    kept exactly and the result rounded half up to a whole byte, as precise as the tool printed.
    """
    match = _SCALED_SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size")
    whole, fraction, letter = match.groups()
    unit: int = 1024 ** _UNIT_POWERS[letter.lower()] if letter else default_unit
    if not fraction:
        return int(whole) * unit
    scale: int = 10 ** len(fraction)
    quotient, remainder = divmod(int(whole + fraction) * unit, scale)
    return quotient + (2 * remainder >= scale)


class _Memo(dict[str, _T]):
    """A converter remembering its results: ``memo[text]`` converts ``text`` once."""

    def __init__(self, convert: Callable[[str], _T]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, text: str) -> _T:
        value = self[text] = self._convert(text)
        return value


def memoized(convert: Callable[[str], _T]) -> Callable[[str], _T]:
    """``convert`` remembering what it read, for one listing: columns repeat the same texts.

    A text ``convert`` refuses is not remembered, so it is refused again each time. A hit is
    a plain dict lookup, the cheapest there is on a parser's hot path.
    """
    return _Memo(convert).__getitem__
