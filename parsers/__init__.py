"""Parsers turning the raw text of process listings into normalized rows.

The package is pure and usable on its own, much like ``jc``: give it the text a command
printed and the moment it ran, get back :class:`ProcessRow` objects in common units::

    from datetime import datetime, timezone
    from parsers import parse_listing

    listing = parse_listing(
        raw, os_type="linux", command="ps aux", observed_at=datetime.now(timezone.utc)
    )
    listing.rows, listing.metadata

Text that does not parse raises :class:`ParseError` naming the line. Supported: ``ps aux``,
``ps -ef`` and any ``ps -o`` column list (Linux procps, macOS, the BSDs); ``top -b`` (Linux),
``top -l`` (macOS) and BSD ``top``; Windows ``tasklist`` (table, CSV, list; ``/v``; English,
French, German, Russian and Spanish), ``Get-Process`` tables and CSV, Win32_Process CSV and
lists, and ``wmic process`` tables, lists and CSV. ``parsers.detect.SUPPORTED_FORMATS`` names
them all; the header decides which parser reads a listing.
"""

from parsers.bsd_ps import parse_ps_aux
from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.rows import Listing, ProcessRow, ProcessStatus
from parsers.times import parse_cpu_time, resolve_start_time

__all__ = [
    "Listing",
    "ParseError",
    "ProcessRow",
    "ProcessStatus",
    "parse_cpu_time",
    "parse_listing",
    "parse_ps_aux",
    "resolve_start_time",
]
