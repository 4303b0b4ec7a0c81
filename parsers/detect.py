"""Choosing the parser for a listing by its header line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from parsers.bsd_ps import is_ps_aux_header, parse_ps_aux
from parsers.errors import ParseError
from parsers.lines import numbered_lines
from parsers.rows import ProcessRow

__all__ = ["SUPPORTED_FORMATS", "ListingFormat", "parse_listing"]


@dataclass(frozen=True, slots=True)
class ListingFormat:
    """One kind of listing the package parses: where it comes from, how to tell it, its parser.

    ``os_types`` and ``commands`` document which systems and commands print it; detection
    relies on ``matches_header`` alone, applied to the first non-blank line.
    """

    name: str
    os_types: tuple[str, ...]
    commands: tuple[str, ...]
    matches_header: Callable[[str], bool]
    parse: Callable[[str, datetime], list[ProcessRow]]


# Tried in order; a new format is one more entry here.
SUPPORTED_FORMATS: tuple[ListingFormat, ...] = (
    ListingFormat(
        name="ps aux",
        os_types=("linux", "macos", "freebsd", "openbsd", "netbsd"),
        commands=("ps aux", "ps axu", "ps auxww"),
        matches_header=is_ps_aux_header,
        parse=parse_ps_aux,
    ),
)


def parse_listing(
    raw: str, *, os_type: str, command: str, observed_at: datetime
) -> list[ProcessRow]:
    """Parse a raw process listing, whichever supported format its header shows.

    The header decides: ``os_type`` and ``command`` (what the agent says it ran where) only
    serve to name the listing when no format of :data:`SUPPORTED_FORMATS` recognises it.
    ``observed_at`` is the timezone-aware moment of the snapshot, which start times are
    resolved against. Raises ParseError for empty input, an unknown header (quoted with its
    line number) or whatever the chosen parser refuses.
    """
    lines = numbered_lines(raw)
    if not lines:
        raise ParseError("empty listing")
    header_number, header = lines[0]
    for listing_format in SUPPORTED_FORMATS:
        if listing_format.matches_header(header):
            return listing_format.parse(raw, observed_at)
    raise ParseError(
        f"unknown listing format for os {os_type!r}, command {command!r}",
        line_number=header_number,
        line=header,
    )
