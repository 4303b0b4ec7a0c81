"""How a listing format is described to detection: a name, where it comes from, how to tell it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from parsers.rows import Listing, ProcessRow

__all__ = ["ListingFormat", "rows_format"]


@dataclass(frozen=True, slots=True)
class ListingFormat:
    """One kind of listing the package parses: where it comes from, how to tell it, its parser.

    ``os_types`` and ``commands`` document which systems and commands print it. Detection
    applies ``matches_header`` to the first non-blank line of the raw text (for formats whose
    header is not their first line, such as ``top``, that line is whatever the tool prints
    first); ``parse`` takes the whole raw text and the aware moment of the snapshot.
    """

    name: str
    os_types: tuple[str, ...]
    commands: tuple[str, ...]
    matches_header: Callable[[str], bool]
    parse: Callable[[str, datetime], Listing]


def rows_format(
    name: str,
    os_types: tuple[str, ...],
    commands: tuple[str, ...],
    matches_header: Callable[[str], bool],
    parse_rows: Callable[[str, datetime], list[ProcessRow]],
) -> ListingFormat:
    """A format whose parser gives rows and nothing more (no snapshot metadata)."""

    def parse(raw: str, observed_at: datetime) -> Listing:
        return Listing(format=name, rows=parse_rows(raw, observed_at))

    return ListingFormat(name, os_types, commands, matches_header, parse)
