"""When a collector's listings fall: on wall-clock multiples of the interval, shifted by an offset
of the machine's own.

Tick ``k`` is at ``k * interval + offset`` seconds since the Unix epoch. The offset, derived from
the machine id, spreads a fleet's machines over the interval (ten thousand of them do not all
publish in the same second), and stays the same across restarts, so that one machine's
snapshots are evenly spaced. Ticks are counted, never added up, so no listing's run time
shifts the ones after it. The agent reads time from a :class:`Clock`, which its tests control.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Clock", "Schedule", "SystemClock", "machine_offset", "sleep_unless"]

# 64 bits of the digest: a fraction of the interval far finer than any clock.
_OFFSET_BYTES = 8
_OFFSET_SCALE = float(1 << (8 * _OFFSET_BYTES))


def machine_offset(machine_id: str, interval: float) -> float:
    """Seconds into each interval at which this machine's ticks fall, in ``[0, interval)``."""
    digest = hashlib.sha256(machine_id.encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:_OFFSET_BYTES], "big") / _OFFSET_SCALE
    # The largest digests round to a fraction of 1.0: they fall at the interval's start.
    return fraction * interval % interval


@dataclass(frozen=True, slots=True)
class Schedule:
    """The ticks of one machine: every ``interval`` seconds, ``offset`` seconds into each."""

    interval: float
    offset: float

    @classmethod
    def for_machine(cls, machine_id: str, interval: float) -> Schedule:
        """The schedule of the machine ``machine_id``."""
        return cls(interval, machine_offset(machine_id, interval))

    def at(self, index: int) -> float:
        """The time (Unix seconds) of tick ``index``."""
        return index * self.interval + self.offset

    def first_at_or_after(self, now: float) -> int:
        """The index of the first tick at ``now`` or later."""
        return math.ceil((now - self.offset) / self.interval)

    def next_after(self, index: int, now: float) -> tuple[int, int]:
        """The tick to take after tick ``index`` once it ended at ``now``, and how many ticks
        were skipped because it ran past them (0 when it ended before the next one)."""
        following = max(index + 1, self.first_at_or_after(now))
        return following, following - index - 1


class Clock(Protocol):
    """Wall-clock time and sleeping; the agent's tests give it one they control."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` seconds of this clock."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> float:
        """``time.time()``."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(seconds)


async def sleep_unless(clock: Clock, seconds: float, event: asyncio.Event) -> None:
    """Sleep ``seconds`` of ``clock``, returning early once ``event`` is set."""
    sleeping = asyncio.ensure_future(clock.sleep(max(seconds, 0.0)))
    waiting = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait((sleeping, waiting), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeping, waiting):
            task.cancel()
