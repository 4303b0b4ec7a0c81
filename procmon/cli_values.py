"""How the ``procmon`` command reads the values of its options: each a function of the text
given, raising ``argparse.ArgumentTypeError`` with the reason when it is not one."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["label", "path", "positive", "seconds", "timestamp"]


def timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries its UTC offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"timestamp {text!r} has no UTC offset; add one, e.g. {text}+00:00"
        )
    return value


def positive(text: str) -> int:
    """Parse a whole number above zero."""
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"not a whole number above 0: {text!r}")
    return int(text)


def label(text: str) -> tuple[str, str]:
    """Parse one ``name=value`` label."""
    from procmon.labels import parse_label

    try:
        return parse_label(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def path(text: str) -> Path:
    """A path named on the command line."""
    from pathlib import Path

    return Path(text)


def seconds(text: str) -> float:
    """Parse a number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a number of seconds above 0: {text!r}")
    return value
