"""Whether the workers could read a listing, asked before it is sent."""

from __future__ import annotations

from datetime import UTC, datetime

from procmon.envelope import Envelope, make_envelope
from procmon.readable import parse_problem


def _envelope(raw_output: str) -> Envelope:
    return make_envelope(
        raw_output=raw_output,
        machine_id="m",
        machine_name="m",
        os_type="linux",
        os_version="6",
        command_type="ps -eo pid,args",
        timestamp=datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
    )


def test_a_listing_the_parsers_read_has_no_problem() -> None:
    assert parse_problem(_envelope("  PID COMMAND\n    1 /sbin/init\n")) is None


def test_a_listing_they_cannot_read_gives_the_workers_reason_and_line() -> None:
    problem = parse_problem(_envelope("\n  PID   RSS\n    1  1024\n"))
    assert problem is not None
    assert problem.line_number == 2
    assert "no command or name column" in str(problem)
