"""The processes of the benchmark fleet over time: each pid's successive processes.

Every process slot of a machine (one pid) is restarted every :data:`RESTART_EVERY` at a phase
of its own, so that about 5% of a machine's pids get a new process each day, with a new start
time, CPU time from 0 and a new key. A process uses CPU at a rate of its own: mostly idle,
a tenth a little busy, one in a hundred up to a whole core. Its key is the worker's
(:func:`history.process_key_of` of the snapshot it is first seen in), which PostgreSQL cannot
compute: the few thousand processes are worked out here and sent to the server, which
derives the millions of rows from them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from datetime import datetime, timedelta

from history import process_key_of

__all__ = ["GENERATION_COLUMNS", "RESTART_EVERY", "generations", "snapshot_hash", "stable_number"]

RESTART_EVERY = timedelta(days=20)
_USERS = ("root", "postgres", "www-data", "alice", "bob")

# What the server is sent per process, in order: the machine and slot numbers, when the
# process started and when the next one replaces it (epoch seconds), its key, CPU seconds a
# second, user, base RSS, and the snapshot it is first seen in (process_keys.first_seen).
GENERATION_COLUMNS = (
    "machine integer, slot integer, born double precision, dies double precision,"
    ' process_key bigint, rate double precision, "user" text, rss bigint,'
    " first_seen timestamptz"
)


def stable_number(*parts: object) -> int:
    """A stable pseudo-random number of ``parts``."""
    text = ":".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def snapshot_hash(machine: int, snapshot: int) -> str:
    """The content hash of a fleet snapshot, as the SQL that inserts it computes it."""
    return hashlib.sha256(f"{machine}:{snapshot}".encode()).hexdigest()


def _rate(number: int) -> float:
    """CPU seconds per second: 90% nearly idle, 9% under 5% of a core, 1% up to a core."""
    share = number % 1000
    if share < 900:
        return (number // 1000 % 200) / 100_000
    if share < 990:
        return (number // 1000 % 5000) / 100_000
    return (number // 1000 % 100_000) / 100_000


def generations(
    *, machines: int, snapshots: int, processes: int, end: datetime, every: timedelta
) -> Iterator[tuple[object, ...]]:
    """One row (:data:`GENERATION_COLUMNS`) per process seen in the fleet's snapshots: those
    ``every`` apart up to ``end``, the s-th before ``end`` numbered s."""
    period = RESTART_EVERY.total_seconds()
    step = every.total_seconds()
    last = end.timestamp()
    first = last - (snapshots - 1) * step
    for machine in range(1, machines + 1):
        machine_id = f"m{machine:04d}"
        for slot in range(1, processes + 1):
            phase = stable_number("phase", machine, slot) % int(period)
            for k in range(
                math.floor((first - phase) / period), math.floor((last - phase) / period) + 1
            ):
                born = phase + k * period
                # The first snapshot at or after its start, the fleet's first at the latest.
                seen = first + max(math.ceil((born - first) / step), 0) * step
                snapshot = round((last - seen) / step)
                first_seen = end - snapshot * every
                key = process_key_of(
                    machine_id, first_seen, snapshot_hash(machine, snapshot), 100 + slot
                )
                number = stable_number("process", machine, slot, k)
                user = _USERS[number % len(_USERS)]
                rss = (number // 7 % 500_000) * 4096
                yield (
                    machine, slot, born, born + period, key, _rate(number), user, rss,
                    first_seen,
                )  # fmt: skip
