"""procmon relink: rows without history (stored before it) or linked under another gap get
what in-order arrival gives them, and only they are written."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import psycopg

from procmon.envelope import Envelope
from procmon.settings import Settings
from streams.batch import PreparedBatch
from streams.history import ProcessHistory
from streams.relink import relink_machines
from streams.writer import SnapshotWriter
from tests.streams.history_sequences import (
    MAX_GAP,
    first_sightings,
    in_order,
    machine_history,
    process_keys,
    snapshot_of,
    stored,
)


async def _store_in_order(database_url: str, tmp_path: Path, envelopes: list[Envelope]) -> None:
    writer = SnapshotWriter(
        database_url,
        retry_attempts=1,
        parking_dir=tmp_path,
        history=ProcessHistory(max_gap_seconds=MAX_GAP, memory_size=10),
    )
    for envelope in sorted(envelopes, key=lambda e: e.timestamp):
        await writer.write(PreparedBatch(snapshots=[snapshot_of(envelope)]))
    await writer.close()


async def test_rows_stored_without_history_get_it(clean_database: str, tmp_path: Path) -> None:
    envelopes = machine_history(7, "m1", 10) + machine_history(8, "m2", 10)
    await _store_in_order(clean_database, tmp_path, envelopes)
    with psycopg.connect(clean_database) as conn:
        # As a database from before process history holds them, for m1, and one row of m2.
        conn.execute(
            "UPDATE processes SET process_key = NULL, interval_seconds = NULL,"
            " interval_cpu_percent = NULL WHERE machine_id = 'm1'"
        )
        conn.execute("DELETE FROM process_keys WHERE machine_id = 'm1'")
        conn.execute(
            "UPDATE processes SET interval_cpu_percent = 999 WHERE ctid ="
            " (SELECT ctid FROM processes WHERE machine_id = 'm2' AND interval_seconds > 0 LIMIT 1)"
        )
        m1_rows = conn.execute("SELECT count(*) FROM processes WHERE machine_id = 'm1'").fetchone()
    assert stored(clean_database) != in_order(envelopes)
    machines, changed = await relink_machines(clean_database, max_gap_seconds=MAX_GAP)
    assert stored(clean_database) == in_order(envelopes)
    assert process_keys(clean_database) == first_sightings(in_order(envelopes))
    assert m1_rows is not None
    assert (machines, changed) == (2, m1_rows[0] + 1)
    # Nothing left to change.
    assert await relink_machines(clean_database, max_gap_seconds=MAX_GAP) == (2, 0)


def test_the_command_relinks_the_machines_named(clean_database: str, tmp_path: Path) -> None:
    envelopes = machine_history(9, "m1", 6)
    asyncio.run(_store_in_order(clean_database, tmp_path, envelopes))
    with psycopg.connect(clean_database) as conn:
        conn.execute("UPDATE processes SET process_key = NULL")
    settings = Settings(database_url=clean_database, history_max_gap=MAX_GAP)
    done = subprocess.run(
        [sys.executable, "-m", "procmon", "relink", "--machine", "m1"],
        env=settings.environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr.startswith("linked 1 machines again:")
    assert stored(clean_database) == in_order(envelopes)
