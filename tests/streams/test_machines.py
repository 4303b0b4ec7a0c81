"""The machines table as the writer keeps it: a fresh aggregate of the stored snapshots, whatever
order they arrive in, however often, in which batches, over how many writers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from hypothesis import given
from hypothesis import strategies as st

from parsers import Listing
from procmon.envelope import make_envelope
from streams.batch import PreparedBatch, RawMessage, Snapshot
from streams.history import ProcessHistory
from streams.sql import SUMMARIZE_MACHINES
from streams.writer import SnapshotWriter
from tests.streams.arrivals import ARRIVALS, deliver_as_drawn
from tests.streams.machines_aggregate import fresh_machines, stored_machines

START = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def _snapshot(
    machine: str,
    minute: int,
    text: str,
    *,
    name: str | None = None,
    labels: dict[str, str] | None = None,
    cpu_count: int | None = None,
) -> Snapshot:
    envelope = make_envelope(
        raw_output=f"listing of {machine}: {text}",
        machine_id=machine,
        machine_name=name or machine,
        os_type="linux",
        os_version=f"6.{minute}",
        command_type="ps aux",
        timestamp=START + timedelta(minutes=minute),
        labels=labels,
        cpu_count=cpu_count,
    )
    message = RawMessage("topic", 0, 0, machine.encode(), envelope.to_bytes())
    return Snapshot(envelope, Listing(format="ps aux", rows=[]), message)


def _writer(database_url: str, tmp_path: Path, history: ProcessHistory) -> SnapshotWriter:
    return SnapshotWriter(database_url, retry_attempts=1, parking_dir=tmp_path, history=history)


def _history() -> ProcessHistory:
    return ProcessHistory(max_gap_seconds=600.0, memory_size=100)


async def _write(database_url: str, tmp_path: Path, *batches: list[Snapshot]) -> None:
    writer = _writer(database_url, tmp_path, _history())
    for batch in batches:
        await writer.write(PreparedBatch(snapshots=batch))
    await writer.close()


async def test_a_late_older_snapshot_and_a_redelivery(clean_database: str, tmp_path: Path) -> None:
    middle = _snapshot("m1", 5, "b", name="web-1", labels={"role": "web"}, cpu_count=4)
    latest = _snapshot("m1", 9, "c", name="web-1-renamed", labels={"role": "db"}, cpu_count=8)
    earliest = _snapshot("m1", 1, "a", name="old-name", labels={"role": "old"}, cpu_count=2)
    await _write(clean_database, tmp_path, [middle], [latest])
    await _write(clean_database, tmp_path, [earliest, middle], [latest])
    [row] = stored_machines(clean_database)
    latest_id = row[8]
    # The late one moves first_seen and counts; the latest still says what the machine is.
    assert row == (
        "m1", "web-1-renamed", "linux", "6.9", {"role": "db"}, 8, earliest.envelope.timestamp,
        latest.envelope.timestamp, latest_id, latest.envelope.content_hash, 3,
    )  # fmt: skip
    assert stored_machines(clean_database) == fresh_machines(clean_database)


async def test_snapshots_of_one_moment_go_by_content_hash(
    clean_database: str, tmp_path: Path
) -> None:
    twins = sorted(
        (_snapshot("m1", 3, text, name=text) for text in ("ps", "top")),
        key=lambda snapshot: snapshot.envelope.content_hash,
    )
    # The greater hash first, alone; the lesser one after does not take its place.
    await _write(clean_database, tmp_path, [twins[1]], [twins[0]])
    [row] = stored_machines(clean_database)
    assert (row[1], row[9], row[10]) == (
        twins[1].envelope.machine_name,
        twins[1].envelope.content_hash,
        2,
    )
    assert stored_machines(clean_database) == fresh_machines(clean_database)


def _fleet(seed: int) -> list[Snapshot]:
    """Three machines' snapshots: some at one moment, names, labels and CPUs changing."""
    snapshots = []
    for machine in ("m1", "m2", "m3"):
        for n in range(6):
            minute = (n * 7 + seed) % 5  # repeats: several snapshots of one minute
            snapshots.append(
                _snapshot(
                    machine,
                    minute,
                    f"{seed}-{n}",
                    name=f"{machine}-name{n % 3}",
                    labels={"role": f"r{n % 2}"} if n % 3 else None,
                    cpu_count=n + 1 if n % 2 else None,
                )
            )
    return snapshots


@ARRIVALS
@given(seed=st.integers(0, 10_000), data=st.data())
async def test_any_arrival_order_batching_and_redelivery_keep_the_fresh_aggregate(
    clean_database: str, tmp_path: Path, seed: int, data: st.DataObject
) -> None:
    # Redelivered in later batches too (a redelivery, a replay): stored already, not counted.
    await deliver_as_drawn(
        clean_database, tmp_path, _fleet(seed), data, history=_history, redelivered=6
    )
    stored = stored_machines(clean_database)
    assert stored == fresh_machines(clean_database)
    assert [row[10] for row in stored] == [6, 6, 6]


async def test_workers_writing_the_same_machines_at_once_neither_deadlock_nor_miscount(
    clean_database: str, tmp_path: Path
) -> None:
    """Four workers (each its own history) writing at once, every batch holding snapshots of
    every machine, and half the batches delivered to two workers."""
    snapshots = [s for seed in range(4) for s in _fleet(seed)]
    batches = [snapshots[start::8] for start in range(8)]
    writers = [_writer(clean_database, tmp_path, _history()) for _ in range(4)]

    async def deliver(index: int) -> None:
        for batch in (batches[index], batches[(index + 1) % 4], *batches[4 + index :: 4]):
            await writers[index].write(PreparedBatch(snapshots=batch))

    await asyncio.wait_for(asyncio.gather(*(deliver(index) for index in range(4))), 60)
    for writer in writers:
        await writer.close()
    stored = stored_machines(clean_database)
    assert stored == fresh_machines(clean_database)
    assert [row[10] for row in stored] == [24, 24, 24]


async def test_the_summary_of_stored_snapshots_is_the_fresh_aggregate(
    clean_database: str, tmp_path: Path
) -> None:
    """SUMMARIZE_MACHINES, for snapshots stored without the worker, makes every row again."""
    await _write(clean_database, tmp_path, _fleet(1)[:10], _fleet(1)[10:])
    with psycopg.connect(clean_database) as conn:
        conn.execute("UPDATE machines SET snapshot_count = 0, machine_name = 'wrong'")
        conn.execute("DELETE FROM machines WHERE machine_id = 'm2'")
        conn.execute(SUMMARIZE_MACHINES)
    assert stored_machines(clean_database) == fresh_machines(clean_database)
    assert len(stored_machines(clean_database)) == 3
