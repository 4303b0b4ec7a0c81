"""The agent's ticks, on a clock of the test's own: aligned, offset per machine, never drifting;
a slow listing skips ticks and says so; a stop waits for the listing in progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from procmon.agent import Command, Ticker
from procmon.collector import MachineIdentity
from procmon.envelope import Envelope, make_envelope
from procmon.errors import CollectorError
from procmon.schedule import Schedule
from tests.procmon.controlled_clock import ControlledClock

IDENTITY = MachineIdentity(
    machine_id="agent-test", machine_name="agent-test", os_type="linux", os_version="6.1"
)
START = 1_800_000_000.25
INTERVAL = 10.0
PS_AUX = ("ps", "aux")
TOP = ("top", "-b", "-n", "1")


def _envelope(identity: MachineIdentity, now: datetime, argv: Command) -> Envelope:
    return make_envelope(
        raw_output="USER PID\n",
        machine_id=identity.machine_id,
        machine_name=identity.machine_name,
        os_type=identity.os_type,
        os_version=identity.os_version,
        command_type=" ".join(argv),
        timestamp=now,
    )


def _run(
    durations: Sequence[float],
    *,
    set_back_after: int | None = None,
    fail_at: int | None = None,
    stop_during: int | None = None,
) -> list[float]:
    """Run a ticker whose n-th listing takes ``durations[n]`` seconds of the clock, until as
    many listings were taken; return when each was taken (Unix seconds)."""
    clock = ControlledClock(START)
    taken: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ticker: Ticker

        def collect(identity: MachineIdentity, now: datetime, argv: Command) -> Envelope:
            count = len(taken)
            taken.append(now.timestamp())
            clock.time += durations[count]
            if count == set_back_after:
                clock.time -= 1000 * INTERVAL
            if count == stop_during:
                loop.call_soon_threadsafe(ticker.stop)
            if count == fail_at:
                raise CollectorError("ps failed")
            return _envelope(identity, now, argv)

        handled: list[Envelope] = []

        def handle(envelope: Envelope) -> None:
            handled.append(envelope)
            if len(taken) == len(durations):
                ticker.stop()

        schedule = Schedule.for_machine(IDENTITY.machine_id, INTERVAL)
        ticker = Ticker(schedule, IDENTITY, clock=clock, commands=[PS_AUX], collect=collect)
        await asyncio.wait_for(ticker.run(handle), 10)
        expected = len(taken) - (fail_at is not None)
        assert [e.timestamp.timestamp() for e in handled] == [
            t for n, t in enumerate(taken) if n != fail_at
        ][:expected]

    asyncio.run(main())
    return taken


def _ticks(indexes: Callable[[int], int], count: int) -> object:
    """The times of the ticks ``indexes(n)`` after the first, to the microsecond (as a
    listing's timestamp keeps them)."""
    schedule = Schedule.for_machine(IDENTITY.machine_id, INTERVAL)
    first = schedule.first_at_or_after(START)
    return pytest.approx([schedule.at(first + indexes(n)) for n in range(count)], abs=1e-6)


def test_ticks_fall_on_the_machines_schedule_whatever_the_listing_takes() -> None:
    taken = _run([2.5, 0.1, 7.0, 3.3, 9.9])
    assert taken == _ticks(lambda n: n, 5)
    offset = Schedule.for_machine(IDENTITY.machine_id, INTERVAL).offset
    assert all((t - offset) % INTERVAL == pytest.approx(0.0, abs=1e-6) for t in taken)
    assert datetime.fromtimestamp(taken[0], UTC) > datetime.fromtimestamp(START, UTC)


def test_another_machine_ticks_at_another_offset() -> None:
    one = Schedule.for_machine("agent-test", INTERVAL)
    other = Schedule.for_machine("agent-test-2", INTERVAL)
    assert one.offset != other.offset
    assert one.at(7) - other.at(7) == pytest.approx(one.offset - other.offset)


def test_a_slow_listing_skips_ticks_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="procmon.agent"):
        taken = _run([1.0, 25.0, 1.0, 1.0])
    # The second listing, at tick 1, ran 25 s: ticks 2 and 3 passed meanwhile.
    assert taken == _ticks(lambda n: (0, 1, 4, 5)[n], 4)
    assert "the listing took 25.0 s, longer than the interval of 10.0 s: skipped 2 tick(s)" in (
        caplog.text
    )


def test_a_failed_listing_is_logged_and_the_next_tick_taken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="procmon.agent"):
        taken = _run([1.0, 1.0, 1.0], fail_at=1)
    assert taken == _ticks(lambda n: n, 3)
    assert "ps failed" in caplog.text


def test_a_stop_during_a_listing_lets_it_finish_and_takes_no_other() -> None:
    taken = _run([1.0, 5.0, 1.0, 1.0], stop_during=1)
    assert taken == _ticks(lambda n: n, 2)


def test_a_clock_set_back_picks_up_the_schedule_from_the_new_time() -> None:
    taken = _run([1.0, 1.0, 1.0, 1.0], set_back_after=1)
    assert taken == _ticks(lambda n: (0, 1, -998, -997)[n], 4)


def test_each_command_is_taken_at_every_tick_in_order() -> None:
    clock = ControlledClock(START)
    taken: list[tuple[Command, float]] = []

    async def main() -> None:
        def collect(identity: MachineIdentity, now: datetime, argv: Command) -> Envelope:
            taken.append((argv, now.timestamp()))
            clock.time += 1.5
            return _envelope(identity, now, argv)

        def handle(envelope: Envelope) -> None:
            if len(taken) == 6:
                ticker.stop()

        schedule = Schedule.for_machine(IDENTITY.machine_id, INTERVAL)
        ticker = Ticker(schedule, IDENTITY, clock=clock, commands=[PS_AUX, TOP], collect=collect)
        await asyncio.wait_for(ticker.run(handle), 10)

    asyncio.run(main())
    assert [argv for argv, _ in taken] == [PS_AUX, TOP] * 3
    # Both listings of a tick carry the tick's moment, whatever the first one took.
    assert [at for _, at in taken] == _ticks(lambda n: n // 2, 6)
