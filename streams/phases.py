"""Where a worker's time goes, phase by phase: what ``procmon_worker_phase_seconds`` counts.

Parsing the next batch overlaps with writing the one in flight, so the phases' seconds add up
to more than the wall time when both keep busy; each phase's share still says where to look.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, get_args

__all__ = ["PHASES", "Phase", "PhaseTimes"]

Phase = Literal[
    "consume", "decode", "dedupe", "parse", "commands", "history", "copy", "commit", "ack"
]
PHASES: tuple[Phase, ...] = get_args(Phase)


class PhaseTimes:
    """Seconds spent in each phase, accumulated."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds: dict[Phase, float] = dict.fromkeys(PHASES, 0.0)

    @contextmanager
    def timing(self, phase: Phase) -> Iterator[None]:
        """Add the time the block takes to ``phase``, whether it ends well or not."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - started

    def add(self, phase: Phase, seconds: float) -> None:
        """Add ``seconds`` measured elsewhere to ``phase``."""
        self.seconds[phase] += seconds
