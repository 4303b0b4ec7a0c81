"""A clock for the agent's tests: time moves only when it is slept or set."""

from __future__ import annotations

import asyncio


class ControlledClock:
    """Time that moves only when the code under test sleeps or the test moves it."""

    def __init__(self, now: float) -> None:
        self.time = now

    def now(self) -> float:
        """The clock's time, Unix seconds."""
        return self.time

    async def sleep(self, seconds: float) -> None:
        """Move the clock on ``seconds`` at once (and let other tasks run)."""
        self.time += seconds
        await asyncio.sleep(0)
