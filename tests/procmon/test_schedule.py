"""The agent's schedule: ticks on multiples of the interval, shifted by a machine's offset."""

from __future__ import annotations

import pytest

from procmon.schedule import Schedule, machine_offset


def test_a_machines_offset_is_stable_and_within_the_interval() -> None:
    offsets = [machine_offset(f"machine-{n}", 60.0) for n in range(200)]
    assert all(0 <= offset < 60.0 for offset in offsets)
    assert offsets == [machine_offset(f"machine-{n}", 60.0) for n in range(200)]
    # Spread over the interval: every tenth of it holds some of the 200 machines.
    assert {int(offset // 6) for offset in offsets} == set(range(10))


def test_the_offset_is_the_same_fraction_of_any_interval() -> None:
    assert machine_offset("web-1", 10.0) * 6 == pytest.approx(machine_offset("web-1", 60.0))


def test_ticks_fall_on_multiples_of_the_interval_plus_the_offset() -> None:
    schedule = Schedule.for_machine("web-1", 60.0)
    index = schedule.first_at_or_after(1_800_000_000.0)
    tick = schedule.at(index)
    assert 1_800_000_000.0 <= tick < 1_800_000_060.0
    assert (tick - schedule.offset) % 60.0 == pytest.approx(0.0, abs=1e-6)
    assert schedule.at(index + 1000) - tick == pytest.approx(60_000.0)


def test_a_tick_is_its_own_first_tick() -> None:
    schedule = Schedule(interval=10.0, offset=3.0)
    assert schedule.first_at_or_after(23.0) == 2
    assert schedule.first_at_or_after(23.001) == 3


def test_a_listing_within_the_interval_skips_nothing() -> None:
    schedule = Schedule(interval=10.0, offset=3.0)
    assert schedule.next_after(2, now=32.9) == (3, 0)


def test_a_listing_past_ticks_skips_them() -> None:
    schedule = Schedule(interval=10.0, offset=3.0)
    # Tick 2 at 23 s ran until 50 s: ticks 3 (33 s) and 4 (43 s) passed meanwhile.
    assert schedule.next_after(2, now=50.0) == (5, 2)
