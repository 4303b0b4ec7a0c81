"""Generated snapshot sequences with history to work out, and what in-order arrival stores.

A machine's processes over time: CPU time growing at each one's rate, pids reused (by another
program, or the same one restarted from zero CPU time), a process missing from a listing now
and then, and gaps longer than the longest measured. Each snapshot is a real ``ps aux``
listing, parsed as the worker parses it, so the same sequence can go through the writer or
through the broker and a real worker.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from history import HistoryValues, LinkedSnapshot, SnapshotPlace, link_snapshot
from parsers import Listing, parse_listing
from procmon.envelope import Envelope, make_envelope
from streams.batch import RawMessage, Snapshot

__all__ = [
    "MAX_GAP",
    "START",
    "Stored",
    "first_sightings",
    "in_order",
    "machine_history",
    "process_keys",
    "snapshot_of",
    "stored",
]

START = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
MAX_GAP = 600.0
_HEADER = "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
# What a stored row's history is: the machine, time and pid name it.
Stored = dict[tuple[str, datetime, int], HistoryValues]


@dataclass
class _Process:
    pid: int
    name: str
    started: datetime
    cpu: float
    rate: float


def _line(process: _Process) -> str:
    seconds = int(process.cpu)
    return (
        f"root      {process.pid:6d}  0.5  0.1  10000  5000 ?        S    "
        f"{process.started:%H:%M}  {seconds // 60}:{seconds % 60:02d} /usr/bin/{process.name}"
    )


def machine_history(seed: int, machine: str, length: int) -> list[Envelope]:
    """``length`` ps aux listings of ``machine``, oldest first, from the random ``seed``."""
    rng = random.Random(seed)
    processes = [
        _Process(100 + n, f"prog{n % 4}", START - timedelta(hours=1), 10.0 * n, rng.random())
        for n in range(6)
    ]
    envelopes = []
    when = START
    for _ in range(length):
        when += timedelta(seconds=rng.choice([30, 60, 60, 90, 900]))
        for process in processes:
            process.cpu += process.rate * 60 * rng.random()
        if rng.random() < 0.4:
            index = rng.randrange(len(processes))
            processes[index] = _Process(
                processes[index].pid,
                rng.choice([processes[index].name, "other"]),
                when - timedelta(seconds=rng.choice([5, 300])),
                0.0,
                rng.random(),
            )
        lines = [_line(process) for process in processes if rng.random() > 0.1]
        envelopes.append(
            make_envelope(
                raw_output="\n".join([_HEADER, *lines]),
                machine_id=machine,
                machine_name=machine,
                os_type="linux",
                os_version="6.1",
                command_type="ps aux",
                timestamp=when,
            )
        )
    return envelopes


def _listing(envelope: Envelope) -> Listing:
    assert envelope.raw_output is not None
    return parse_listing(
        envelope.raw_output, os_type="linux", command="ps aux", observed_at=envelope.timestamp
    )


def snapshot_of(envelope: Envelope) -> Snapshot:
    """The snapshot the worker makes of ``envelope``."""
    message = RawMessage("topic", 0, 0, envelope.key, envelope.to_bytes())
    return Snapshot(envelope, _listing(envelope), message)


def in_order(envelopes: list[Envelope]) -> Stored:
    """What in-order arrival stores: the pure linker, each machine's snapshots in time order."""
    expected: Stored = {}
    previous: dict[str, LinkedSnapshot] = {}
    for envelope in sorted(envelopes, key=lambda e: (e.timestamp, e.content_hash)):
        rows = _listing(envelope).rows
        place = SnapshotPlace(envelope.machine_id, envelope.timestamp, envelope.content_hash)
        values, previous[place.machine_id] = link_snapshot(
            place, rows, previous.get(place.machine_id), max_gap_seconds=MAX_GAP
        )
        for row, (key, seconds, percent) in zip(rows, values, strict=True):
            expected[(place.machine_id, place.observed_at, row.pid)] = (
                key,
                _real(seconds),
                _real(percent),
            )
    return expected


def _real(value: float | None) -> float | None:
    """``value`` as a ``real`` column gives it back, to six significant digits."""
    return None if value is None else float(f"{value:.6g}")


def stored(database_url: str, machines: list[str] | None = None) -> Stored:
    """The history stored for ``machines`` (all when None)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT machine_id, observed_at, pid, process_key, interval_seconds,"
            " interval_cpu_percent FROM processes"
            " WHERE %(machines)s::text[] IS NULL OR machine_id = ANY(%(machines)s::text[])",
            {"machines": machines},
        ).fetchall()
    return {
        (machine, when, pid): (key, _real(seconds), _real(percent))
        for machine, when, pid, key, seconds, percent in rows
    }


def first_sightings(history: Stored) -> dict[int, tuple[str, datetime]]:
    """Where each key of ``history`` was first seen: its machine and earliest time."""
    firsts: dict[int, tuple[str, datetime]] = {}
    for (machine, when, _), (key, _, _) in sorted(history.items(), key=lambda item: item[0][1]):
        firsts.setdefault(key, (machine, when))
    return firsts


def process_keys(
    database_url: str, machines: list[str] | None = None
) -> dict[int, tuple[str, datetime]]:
    """The stored ``process_keys`` of ``machines`` (all when None) that name stored rows."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT k.process_key, k.machine_id, k.first_seen FROM process_keys k"
            " WHERE (%(machines)s::text[] IS NULL OR k.machine_id = ANY(%(machines)s::text[]))"
            " AND EXISTS (SELECT FROM processes p WHERE p.machine_id = k.machine_id"
            " AND p.process_key = k.process_key)",
            {"machines": machines},
        ).fetchall()
    return {key: (machine, when) for key, machine, when in rows}
