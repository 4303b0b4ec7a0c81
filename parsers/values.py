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
    "process_name",
    "read_column",
    "unix_status",
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
# A kernel thread, or a zombie shown as "[name] <defunct>": no argv, only the name in brackets.
_BRACKETED_NAME = re.compile(r"\[([^\]]+)\]")


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
    if not INTEGER_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not an integer")
    return int(text)


def decimal(text: str) -> float:
    """A non-negative decimal number, refusing what float() also accepts: nan, inf, exponents."""
    if not DECIMAL_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    return float(text)


def process_name(command: str) -> str:
    """The program's name: base name of the first word, or the bracketed kernel thread name."""
    if bracketed := _BRACKETED_NAME.match(command):
        return bracketed[1]
    first_word = command.split(None, 1)[0]
    return first_word.rstrip("/").rsplit("/", 1)[-1] or first_word
