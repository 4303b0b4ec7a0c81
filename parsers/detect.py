"""Choosing the parser for a listing by its header line."""

from __future__ import annotations

from datetime import datetime

from parsers import (
    bsd_ps,
    powershell,
    powershell_csv,
    powershell_list,
    ps_ef,
    tasklist,
    tasklist_records,
    top_bsd,
    top_linux,
    top_macos,
    wmic,
)
from parsers.errors import ParseError
from parsers.formats import ListingFormat
from parsers.lines import first_line
from parsers.rows import Listing

__all__ = ["SUPPORTED_FORMATS", "parse_listing"]


# Tried in order: each family module lists its formats; a new family is one more entry.
SUPPORTED_FORMATS: tuple[ListingFormat, ...] = (
    *bsd_ps.FORMATS,
    *ps_ef.FORMATS,
    *powershell.FORMATS,
    *powershell_csv.FORMATS,
    *powershell_list.FORMATS,
    *wmic.FORMATS,
    *tasklist.FORMATS,
    *tasklist_records.FORMATS,
    *top_linux.FORMATS,
    *top_macos.FORMATS,
    *top_bsd.FORMATS,
)


def parse_listing(raw: str, *, os_type: str, command: str, observed_at: datetime) -> Listing:
    """Parse a raw process listing, whichever supported format its header shows.

    The header decides: ``os_type`` and ``command`` (what the agent says it ran where) only
    serve to name the listing when no format of :data:`SUPPORTED_FORMATS` recognises it (an
    empty one is left out).
    ``observed_at`` is the timezone-aware moment of the snapshot, which start times are
    resolved against. Raises ParseError for empty input, an unknown header (quoted with its
    line number) or whatever the chosen parser refuses.
    """
    first = first_line(raw)
    if first is None:
        raise ParseError("empty listing")
    header_number, header = first
    for listing_format in SUPPORTED_FORMATS:
        if listing_format.matches_header(header):
            return listing_format.parse(raw, observed_at)
    # What the sender said it ran is named as such: the header, quoted, is what decided.
    sent = ", ".join(
        f"{name} {value!r}" for name, value in (("os", os_type), ("command", command)) if value
    )
    raise ParseError(
        "no supported listing format has this header" + (f" (sent as {sent})" if sent else ""),
        line_number=header_number,
        line=header,
    )
