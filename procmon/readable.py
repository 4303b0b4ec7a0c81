"""Whether the workers could read a listing, asked before it is sent.

``procmon import`` rejects a saved file the workers could only dead-letter, and ``procmon
collect`` refuses at start-up a command whose first listing is such a one.
"""

from __future__ import annotations

from parsers import ParseError, parse_listing
from procmon.envelope import Envelope
from procmon.errors import SnapshotParseError

__all__ = ["parse_problem"]


def parse_problem(envelope: Envelope) -> SnapshotParseError | None:
    """Why the workers could not parse ``envelope``'s listing, as they would say it; else None."""
    try:
        parse_listing(
            envelope.raw_output,
            os_type=envelope.os_type,
            command=envelope.command_type,
            observed_at=envelope.timestamp,
        )
    except ParseError as exc:
        return SnapshotParseError(str(exc), line_number=exc.line_number)
    return None
