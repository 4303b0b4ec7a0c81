"""Live: a process burning 40% of one CPU, seen by real `ps aux` listings through the pipeline.

The collector takes four listings twelve seconds apart (collector envelope, dev broker, worker,
PostgreSQL); at the moment of each, the test reads the process's CPU time from /proc. The
stored interval CPU must be within 10 points of what /proc says it used in each interval,
while ps's own %CPU, its CPU time over its whole life, is far below: it slept first.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from procmon.collector import MachineIdentity, collect_listing
from procmon.envelope import Envelope
from procmon.kafka import publish
from tests.conftest import migrated_database
from tests.e2e.burner import burner, cpu_seconds
from tests.e2e.harness import Workers, wait_for, worker_settings

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and Linux ps"),
]

LISTINGS = 4
# ps aux prints TIME in whole seconds: over 12 s a delta is off by under 1 s, 8.3 points.
SPACING_SECONDS = 12.0
SLEEP_SECONDS = 20.0
BUSY_SHARE = 0.4
TOLERANCE_POINTS = 10.0

ROWS = """SELECT c."timestamp", p.cpu_percent, p.interval_seconds, p.interval_cpu_percent,
       p.process_key
  FROM processes p JOIN commands c ON c.id = p.command_id
 WHERE c.machine_id = %s AND p.pid = %s ORDER BY c."timestamp\""""


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_database("procmon_live_history") as url:
        yield url


def _listings(identity: MachineIdentity, pid: int) -> tuple[list[Envelope], list[float]]:
    """Four `ps aux` listings SPACING_SECONDS apart, and the burner's /proc CPU time at each."""
    envelopes, cpu = [], []
    start = time.monotonic()
    for n in range(LISTINGS):
        time.sleep(max(0.0, start + n * SPACING_SECONDS - time.monotonic()))
        cpu.append(cpu_seconds(pid))
        envelopes.append(collect_listing(identity, datetime.now(UTC), argv=("ps", "aux")))
    return envelopes, cpu


def test_interval_cpu_follows_proc_while_ps_percent_lags(
    broker: str, database: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = worker_settings(broker, database, redis_prefix)
    identity = MachineIdentity(f"live-{uuid.uuid4().hex[:8]}", "live", "linux", "6")
    workers = Workers(settings, tmp_path)
    workers.start()
    try:
        with burner(sleep_seconds=SLEEP_SECONDS, busy_share=BUSY_SHARE) as pid:
            # The first listing once it is busy, so that every interval is a busy one.
            time.sleep(SLEEP_SECONDS + 1.0)
            envelopes, cpu = _listings(identity, pid)
        asyncio.run(publish(settings, envelopes))

        def rows() -> list[tuple[datetime, float, float | None, float | None, int]]:
            with psycopg.connect(database) as conn:
                return conn.execute(ROWS, (identity.machine_id, pid)).fetchall()

        wait_for(lambda: len(rows()) == LISTINGS, f"{LISTINGS} sightings of the burner")
    finally:
        workers.stop_all()
    found = rows()
    assert len({key for *_, key in found}) == 1, "one process throughout"
    assert found[0][2:4] == (None, None), "the first sighting measures nothing"
    times = [envelope.timestamp for envelope in envelopes]
    for n in range(1, LISTINGS):
        wall = (times[n] - times[n - 1]).total_seconds()
        truth = 100 * (cpu[n] - cpu[n - 1]) / wall
        _, _, interval, interval_cpu, _ = found[n]
        assert interval == pytest.approx(wall, abs=1e-3)
        assert interval_cpu is not None
        assert abs(interval_cpu - truth) <= TOLERANCE_POINTS, (n, interval_cpu, truth)
    # ps divides by its whole life, the first 20 s asleep: far below what it used lately.
    span = (times[-1] - times[0]).total_seconds()
    truth = 100 * (cpu[-1] - cpu[0]) / span
    assert truth >= 5.0, "the burner hardly ran: the test measured nothing"
    assert found[-1][1] < 0.8 * truth, (found[-1][1], truth)
    stored = sum(row[2] * row[3] / 100 for row in found[1:] if row[2] and row[3] is not None)
    assert 100 * stored / span == pytest.approx(truth, abs=TOLERANCE_POINTS / 2)
