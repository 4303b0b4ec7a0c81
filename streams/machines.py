"""The machines table as the worker keeps it: what a batch adds, one row per machine.

The snapshots a batch stored now are summarized per machine here, in Python (a batch holds a
few hundred), so that the database runs one small upsert per batch
(:data:`streams.sql.UPSERT_MACHINES`) rather than aggregating rows it has just been sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from psycopg.types.json import Jsonb

from streams.batch import Snapshot

__all__ = ["machine_rows"]


@dataclass(slots=True)
class _Seen:
    """A machine's snapshots among those stored now."""

    latest: Snapshot
    latest_id: int
    first_seen: datetime
    count: int = 1


def machine_rows(stored: Iterable[tuple[Snapshot, int]]) -> list[tuple[object, ...]]:
    """The rows of ``UPSERT_MACHINES`` for the snapshots ``stored`` now (with their ids), in
    machine id order: each machine's latest snapshot (what it says, its time and key), the time
    of its earliest, and how many there are."""
    seen: dict[str, _Seen] = {}
    for snapshot, command_id in stored:
        machine_id = snapshot.envelope.machine_id
        known = seen.get(machine_id)
        if known is None:
            seen[machine_id] = _Seen(snapshot, command_id, snapshot.envelope.timestamp)
            continue
        known.count += 1
        known.first_seen = min(known.first_seen, snapshot.envelope.timestamp)
        if snapshot.order > known.latest.order:
            known.latest, known.latest_id = snapshot, command_id
    rows: list[tuple[object, ...]] = []
    for machine_id in sorted(seen):
        known = seen[machine_id]
        envelope = known.latest.envelope
        rows.append(
            (
                machine_id,
                envelope.machine_name,
                envelope.os_type,
                envelope.os_version,
                Jsonb(envelope.labels or {}),
                envelope.cpu_count,
                known.first_seen,
                envelope.timestamp,
                known.latest_id,
                envelope.content_hash,
                known.count,
            )
        )
    return rows
