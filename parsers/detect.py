"""Choosing the parser for a listing by its header line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from importlib import import_module

from parsers.errors import ParseError
from parsers.formats import ListingFormat
from parsers.lines import first_line
from parsers.rows import Listing

__all__ = ["SUPPORTED_FORMATS", "parse_listing"]


# Tried in order: each family module lists its formats; a new family is one more name. A
# family is imported when it is first tried, so that `procmon parse` of a ps listing, a
# program compared with jc as a whole process, does not load the parsers of top or Windows.
_FAMILIES = (
    "bsd_ps",
    "ps_ef",
    "powershell",
    "powershell_csv",
    "powershell_list",
    "wmic",
    "tasklist",
    "tasklist_records",
    "top_linux",
    "top_macos",
    "top_bsd",
)

SUPPORTED_FORMATS: tuple[ListingFormat, ...]
"""Every format, in the order detection tries them; importing it imports every family."""


def __getattr__(name: str) -> tuple[ListingFormat, ...]:
    """:data:`SUPPORTED_FORMATS`, made when it is first asked for."""
    if name == "SUPPORTED_FORMATS":
        return tuple(_formats())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _formats() -> Iterator[ListingFormat]:
    """The formats of each family in turn, each family imported as it comes."""
    for family in _FAMILIES:
        formats: tuple[ListingFormat, ...] = import_module(f"parsers.{family}").FORMATS
        yield from formats


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
    for listing_format in _formats():
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
