"""The times a worker accepts a listing from, as the settings bound them against its clock.

Apart from :mod:`procmon.envelope`, whose validity is the message's own: these bounds depend
on the settings and on the clock checking them (the worker's, or ``procmon import``'s).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

__all__ = ["TimestampLimits", "timestamp_problem"]


class TimestampLimits(Protocol):
    """The timestamps a listing may have; :class:`procmon.settings.Settings` is one."""

    @property
    def earliest_timestamp(self) -> datetime:
        """No listing is older (PROCMON_EARLIEST_TIMESTAMP)."""

    @property
    def max_clock_ahead_seconds(self) -> float:
        """How far ahead of the clock checking it a listing may be dated, in seconds."""


def timestamp_problem(timestamp: datetime, limits: TimestampLimits, now: datetime) -> str | None:
    """Why ``timestamp`` is outside ``limits`` as seen at ``now``, naming the bound; else None."""
    if timestamp < limits.earliest_timestamp:
        return (
            f"timestamp {timestamp.isoformat()} is before "
            f"{limits.earliest_timestamp.isoformat()}, the earliest accepted "
            "(PROCMON_EARLIEST_TIMESTAMP)"
        )
    if timestamp - now > timedelta(seconds=limits.max_clock_ahead_seconds):
        return (
            f"timestamp {timestamp.isoformat()} is more than "
            f"{limits.max_clock_ahead_seconds:g} seconds ahead of the clock checking it "
            f"({now.isoformat()}; PROCMON_MAX_CLOCK_AHEAD_SECONDS)"
        )
    return None
