"""The growth benchmark's arithmetic: each size's fleet, the change of each figure from the
smallest size to the largest, and the targets, with whether each is met.

Kept apart from the timing (benchmarks.growth) so that it can be tested on its own.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from datetime import timedelta

from benchmarks.api import QUESTIONS
from benchmarks.api_fleet import PROBE_MACHINE, SNAPSHOT_EVERY

__all__ = [
    "GROWTH_DAYS",
    "GROWTH_SNAPSHOTS",
    "TARGETS",
    "FleetShape",
    "Target",
    "changes",
    "fleet_shape",
    "ingest_rows",
    "parse_sizes",
    "verdict",
]

GROWTH_DAYS = 31
# A machine's snapshots SNAPSHOT_EVERY apart from its first to its last GROWTH_DAYS later
# (2,233: the first day is partial, and is the one the retention run removes).
GROWTH_SNAPSHOTS = math.ceil(timedelta(days=GROWTH_DAYS) / SNAPSHOT_EVERY) + 1
# The single-machine questions ask about the probe machine, which must therefore exist.
_MIN_MACHINES = int(PROBE_MACHINE[1:])
_PROCESSES = 100
# The fleet generator names line 2 python3 and line 3 nginx; ten keep a few others beside.
_MIN_PROCESSES = 10
# The worker's passes into each loaded database store this many rows in all (the same at
# every size, so that the rates compare), fewer when the smallest size is smaller.
_INGEST_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class FleetShape:
    """Machines x snapshots a machine x processes a snapshot."""

    machines: int
    snapshots: int
    processes: int

    @property
    def rows(self) -> int:
        """The process rows of the fleet."""
        return self.machines * self.snapshots * self.processes


def fleet_shape(rows: int) -> FleetShape:
    """The fleet of about ``rows`` process rows over :data:`GROWTH_DAYS` days: 100 processes a
    snapshot and as many machines as that takes, or, below the probe machine's number of
    machines, that many with fewer processes. Raises ValueError when even ten processes on
    that few machines are more than ``rows``."""
    processes = min(_PROCESSES, rows // (_MIN_MACHINES * GROWTH_SNAPSHOTS))
    if processes < _MIN_PROCESSES:
        least = _MIN_MACHINES * GROWTH_SNAPSHOTS * _MIN_PROCESSES
        raise ValueError(
            f"{rows:,} process rows are too few for the growth fleet: it takes at least"
            f" {least:,} ({_MIN_MACHINES} machines x {GROWTH_SNAPSHOTS} snapshots, {GROWTH_DAYS}"
            f" days, x {_MIN_PROCESSES} processes)"
        )
    machines = max(_MIN_MACHINES, round(rows / (GROWTH_SNAPSHOTS * processes)))
    return FleetShape(machines, GROWTH_SNAPSHOTS, processes)


def parse_sizes(text: str) -> list[int]:
    """``--growth-rows``: two or more process row counts, comma-separated, each large enough
    for :func:`fleet_shape`; returned smallest first."""
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of row counts: {text!r}"
        ) from None
    if len(sizes) < 2:
        raise argparse.ArgumentTypeError(f"two different sizes are needed to compare: {text!r}")
    for size in sizes:
        try:
            fleet_shape(size)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return sizes


def ingest_rows(sizes: list[int]) -> int:
    """The rows the worker stores into each size's database: the same at every size."""
    return min(_INGEST_ROWS, *sizes)


@dataclass(frozen=True, slots=True)
class Target:
    """A figure's target: its change from the smallest size to the largest under ``bound``
    either way (``change``), or its value under ``bound`` at every size."""

    figure: str
    bound: float
    change: bool
    unit: str = ""

    def __str__(self) -> str:
        if self.change:
            return f"|change| < {self.bound:.0%}"
        return f"< {self.bound:g} {self.unit}".rstrip()


# Issue 16's targets on the 2-core benchmark machine.
TARGETS = (
    Target("ingest_rows_per_s", 0.20, change=True),
    *(Target(f"{q.key}_uncached_p50_ms", 0.20, change=True) for q in QUESTIONS),
    *(
        Target(f"{key}_uncached_p50_ms", 50.0, change=False, unit="ms")
        for key in ("h_week_fleet_os_per_hour", "i_all_fleet_per_process_name")
    ),
    Target("month_fleet_os_per_hour_rollup_p50_ms", 50.0, change=False, unit="ms"),
    Target("retention_seconds", 1.0, change=False, unit="s"),
)


def changes(figures: dict[str, float | str], sizes: list[int]) -> dict[str, float]:
    """``growth_change_<figure>``: each numeric figure's change from the smallest size to the
    largest as a fraction of the smallest's (0.1 is 10% more); none where that is zero."""
    first, last = f"growth_{min(sizes)}_", f"growth_{max(sizes)}_"
    result: dict[str, float] = {}
    for key, before in figures.items():
        if not key.startswith(first) or isinstance(before, str) or before == 0:
            continue
        figure = key.removeprefix(first)
        after = figures.get(last + figure)
        if isinstance(after, int | float):
            result[f"growth_change_{figure}"] = (after - before) / before
    return result


def verdict(target: Target, results: dict[str, float | str], sizes: list[int]) -> bool | None:
    """Whether ``target`` is met by ``results`` (figures and their changes); None when a
    figure it needs is missing."""
    if target.change:
        change = results.get(f"growth_change_{target.figure}")
        return None if not isinstance(change, int | float) else abs(change) < target.bound
    values = [results.get(f"growth_{size}_{target.figure}") for size in sizes]
    numbers = [value for value in values if isinstance(value, int | float)]
    if len(numbers) != len(values):
        return None
    return all(value < target.bound for value in numbers)
