"""The captured ps aux sequence through the real pipeline: dev broker, worker, PostgreSQL.

The keys and intervals read back must be those worked out by hand in
:mod:`tests.history.sequences`, whichever order the listings arrive in: here the last first,
then the others, so that the worker links them again as the earlier ones land.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import psycopg
import pytest

from history import process_key_of
from tests.conftest import migrated_database
from tests.e2e.harness import Workers, produce, wait_for, worker_settings
from tests.history.sequences import PS_AUX, TIMES, envelopes_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

STORED = """SELECT c."timestamp", p.pid, p.process_key, p.interval_seconds, p.interval_cpu_percent
  FROM processes p JOIN commands c ON c.id = p.command_id
 WHERE c.machine_id = %s ORDER BY c."timestamp", p.line_number"""


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_database("procmon_sequences") as url:
        yield url


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 0, 2, 1)], ids=["in order", "last first"])
def test_the_ps_aux_sequence_is_stored_with_the_history_worked_out_by_hand(
    broker: str, database: str, redis_prefix: str, tmp_path: Path, order: tuple[int, ...]
) -> None:
    machine = f"history-{'-'.join(map(str, order))}"
    envelopes = envelopes_of("ps-aux", "ps aux", machine_id=machine)
    settings = worker_settings(broker, database, redis_prefix)
    workers = Workers(settings, tmp_path)
    workers.start()
    try:
        # One at a time, each stored before the next is sent: each arrives after the ones before.
        for stored, n in enumerate(order, start=1):
            produce(settings.kafka_bootstrap, settings.topic, [envelopes[n]])
            wait_for(partial(_stored, database, machine, stored), f"{stored} snapshots")
    finally:
        workers.stop_all()
    with psycopg.connect(database) as conn:
        rows = conn.execute(STORED, (machine,)).fetchall()
    found: list[dict[int, tuple[int, float | None, float | None]]] = [{} for _ in TIMES]
    for observed_at, pid, key, interval, cpu in rows:
        found[TIMES.index(observed_at)][pid] = (key, interval, cpu)
    for n, expected in enumerate(PS_AUX):
        assert found[n].keys() == expected.keys()
        for pid, (first, interval, cpu) in expected.items():
            key = process_key_of(machine, TIMES[first], envelopes[first].content_hash, pid)
            got_key, got_interval, got_cpu = found[n][pid]
            assert got_key == key, (n, pid)
            # Stored as real (float4): 60.0 and 5.0 are exact, as every figure here is.
            assert (got_interval, got_cpu) == (interval, cpu), (n, pid)


def _stored(database: str, machine: str, count: int) -> bool:
    """Whether the database holds COUNT snapshots of MACHINE."""
    with psycopg.connect(database) as conn:
        query = "SELECT count(*) FROM commands WHERE machine_id = %s"
        row = conn.execute(query, (machine,)).fetchone()
    return row is not None and row[0] == count
