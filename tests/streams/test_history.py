"""Process history as the writer stores it: the same keys and intervals whatever the order in
which snapshots arrive, in which batches, over how many connections."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from history import process_key_of
from parsers import Listing, ProcessRow
from procmon.envelope import make_envelope
from streams.batch import PreparedBatch, RawMessage, Snapshot
from streams.history import ProcessHistory
from streams.writer import SnapshotWriter
from tests.streams.arrivals import ARRIVALS, deliver_as_drawn
from tests.streams.history_sequences import (
    MAX_GAP,
    START,
    first_sightings,
    in_order,
    machine_history,
    process_keys,
    snapshot_of,
    stored,
)
from tests.streams.machines_aggregate import fresh_machines, stored_machines


def _snapshot(machine: str, when: datetime, rows: list[ProcessRow], text: str) -> Snapshot:
    envelope = make_envelope(
        raw_output=f"listing {machine} {text}",
        machine_id=machine,
        machine_name=machine,
        os_type="linux",
        os_version="6.1",
        command_type="ps aux",
        timestamp=when,
    )
    message = RawMessage("topic", 0, 0, machine.encode(), envelope.to_bytes())
    return Snapshot(envelope, Listing(format="ps aux", rows=rows), message)


def _writer(database_url: str, tmp_path: Path, history: ProcessHistory) -> SnapshotWriter:
    return SnapshotWriter(database_url, retry_attempts=1, parking_dir=tmp_path, history=history)


def _history() -> ProcessHistory:
    return ProcessHistory(max_gap_seconds=MAX_GAP, memory_size=100)


async def test_in_order_batches_store_what_the_linker_says(
    clean_database: str, tmp_path: Path
) -> None:
    envelopes = machine_history(1, "m1", 12) + machine_history(2, "m2", 12)
    snapshots = [snapshot_of(envelope) for envelope in envelopes]
    writer = _writer(clean_database, tmp_path, _history())
    ordered = sorted(snapshots, key=lambda s: s.envelope.timestamp)
    for start in range(0, len(ordered), 5):
        await writer.write(PreparedBatch(snapshots=ordered[start : start + 5]))
    await writer.close()
    history = stored(clean_database)
    assert history == in_order(envelopes)
    assert process_keys(clean_database) == first_sightings(history)
    # Not all first sightings: most rows continue a process, with an interval.
    assert sum(values[1] is not None for values in history.values()) > len(history) / 2


@ARRIVALS
@given(seed=st.integers(0, 10_000), data=st.data())
async def test_any_arrival_order_and_batching_stores_what_in_order_arrival_does(
    clean_database: str, tmp_path: Path, seed: int, data: st.DataObject
) -> None:
    envelopes = machine_history(seed, "m1", 10) + machine_history(seed + 1, "m2", 6)
    snapshots = [snapshot_of(envelope) for envelope in envelopes]
    await deliver_as_drawn(
        clean_database, tmp_path, snapshots, data, history=_history, redelivered=3
    )
    assert stored(clean_database) == in_order(envelopes)
    # Every key names where its process was first seen, whatever the order it was found in.
    assert process_keys(clean_database) == first_sightings(in_order(envelopes))
    assert stored_machines(clean_database) == fresh_machines(clean_database)


async def test_a_snapshot_stored_between_two_others_relinks_the_later_one(
    clean_database: str, tmp_path: Path
) -> None:
    """Worked by hand: pid 7 at t0 (CPU 10 s), t2 (CPU 70 s, two minutes on); t1 comes last."""
    row = _busy
    t0, t1, t2 = (START + timedelta(minutes=minute) for minute in (0, 1, 2))
    first = _snapshot("m", t0, [row(10.0)], "t0")
    last = _snapshot("m", t2, [row(70.0)], "t2")
    writer = _writer(clean_database, tmp_path, _history())
    await writer.write(PreparedBatch(snapshots=[first]))
    await writer.write(PreparedBatch(snapshots=[last]))
    before = stored(clean_database)
    assert before[("m", t2, 7)][1:] == (120.0, 50.0)  # 60 s of CPU in 120 s
    # The middle one: the same process, 40 s of CPU time by then.
    await writer.write(PreparedBatch(snapshots=[_snapshot("m", t1, [row(40.0)], "t1")]))
    after = stored(clean_database)
    assert after[("m", t1, 7)][1:] == (60.0, 50.0)
    assert after[("m", t2, 7)][1:] == (60.0, 50.0)  # 30 s in 60 s, no longer 60 in 120
    assert len({values[0] for values in after.values()}) == 1
    await writer.close()


def _busy(cpu: float, name: str = "busy") -> ProcessRow:
    return ProcessRow(line_number=2, pid=7, process_name=name, cpu_time_seconds=cpu)


async def test_an_earlier_sighting_arriving_late_gives_the_whole_chain_its_key(
    clean_database: str, tmp_path: Path
) -> None:
    times = [START + timedelta(minutes=minute) for minute in range(4)]
    snapshots = [_snapshot("m", when, [_busy(10.0 * n)], f"t{n}") for n, when in enumerate(times)]
    writer = _writer(clean_database, tmp_path, _history())
    for snapshot in snapshots[1:]:
        await writer.write(PreparedBatch(snapshots=[snapshot]))
    late_key = {values[0] for values in stored(clean_database).values()}
    await writer.write(PreparedBatch(snapshots=[snapshots[0]]))
    await writer.close()
    history = stored(clean_database)
    first = snapshots[0].envelope
    key = process_key_of("m", first.timestamp, first.content_hash, 7)
    assert late_key != {key}
    assert {values[0] for values in history.values()} == {key}
    # 10 s of CPU time a minute, from the first interval on.
    assert [history[("m", when, 7)][1:] for when in times] == [(None, None)] + [(60.0, 16.6667)] * 3


async def test_another_program_under_the_pid_in_between_splits_the_chain(
    clean_database: str, tmp_path: Path
) -> None:
    t0, t1, t2 = (START + timedelta(minutes=minute) for minute in range(3))
    writer = _writer(clean_database, tmp_path, _history())
    await writer.write(PreparedBatch(snapshots=[_snapshot("m", t0, [_busy(10.0)], "t0")]))
    await writer.write(PreparedBatch(snapshots=[_snapshot("m", t2, [_busy(70.0)], "t2")]))
    await writer.write(PreparedBatch(snapshots=[_snapshot("m", t1, [_busy(5.0, "other")], "t1")]))
    await writer.close()
    history = stored(clean_database)
    keys = [history[("m", when, 7)][0] for when in (t0, t1, t2)]
    # busy, then other (a new process), then busy again: by the rule, a third process.
    assert len(set(keys)) == 3
    assert [history[("m", when, 7)][1:] for when in (t0, t1, t2)] == [(None, None)] * 3
