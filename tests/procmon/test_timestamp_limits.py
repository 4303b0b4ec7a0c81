"""The times a worker accepts a listing from, each bound named when one is out of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from procmon.settings import Settings
from procmon.timestamp_limits import timestamp_problem

LIMITS = Settings(earliest_timestamp=datetime(2020, 1, 1, tzinfo=UTC), max_clock_ahead_seconds=60)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timestamp", "problem"),
    [
        (
            datetime(2019, 12, 31, 23, 59, tzinfo=UTC),
            "timestamp 2019-12-31T23:59:00+00:00 is before 2020-01-01T00:00:00+00:00, the "
            "earliest accepted (PROCMON_EARLIEST_TIMESTAMP)",
        ),
        (datetime(2020, 1, 1, tzinfo=UTC), None),
        (NOW + timedelta(seconds=60), None),
        (
            NOW + timedelta(seconds=61),
            "timestamp 2026-11-28T12:01:01+00:00 is more than 60 seconds ahead of the clock "
            "checking it (2026-11-28T12:00:00+00:00; PROCMON_MAX_CLOCK_AHEAD_SECONDS)",
        ),
        # The same instant in another zone is just as far ahead.
        (datetime(2026, 11, 28, 14, 1, 1, tzinfo=timezone(timedelta(hours=2))), "ahead"),
    ],
)
def test_timestamps_outside_the_limits_are_named_with_the_bound(
    timestamp: datetime, problem: str | None
) -> None:
    found = timestamp_problem(timestamp, LIMITS, NOW)
    if problem is None or found is None:
        assert found == problem
    else:
        assert problem in found
