"""Faults with real processes: workers killed with SIGKILL, PostgreSQL and the broker cut off.

Each test produces distinct snapshots to a topic of its own and asserts exact counts at the
end: every snapshot stored once, none lost, no dead letter.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.conftest import migrated_database, stored_counts
from tests.e2e.harness import (
    ROWS_PER_SNAPSHOT,
    CuttableProxy,
    Workers,
    produce,
    proxy_to,
    snapshot_envelopes,
    wait_for,
    worker_settings,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_database("procmon_faults") as url:
        yield url


def _worker_group(bootstrap: str, database: str, redis_prefix: str, log_dir: Path) -> Workers:
    settings = worker_settings(
        bootstrap, database, redis_prefix, db_retry_attempts=40, parking_dir=log_dir / "parked"
    )
    return Workers(settings, log_dir)


@pytest.fixture
def workers(broker: str, database: str, redis_prefix: str, tmp_path: Path) -> Iterator[Workers]:
    group = _worker_group(broker, database, redis_prefix, tmp_path)
    yield group
    group.stop_all()


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def _assert_all_stored_once(database: str, snapshots: int) -> None:
    wait_for(lambda: stored_counts(database)[0] >= snapshots, f"{snapshots} snapshots")
    time.sleep(1)  # anything stored twice would show up by now
    assert stored_counts(database) == (snapshots, snapshots * ROWS_PER_SNAPSHOT, 0)


def test_two_workers_one_killed_mid_stream(workers: Workers, database: str) -> None:
    first = workers.start()
    workers.start()
    produce(workers.settings.kafka_bootstrap, workers.settings.topic, snapshot_envelopes(200))
    wait_for(lambda: stored_counts(database)[0] >= 200, "the first snapshots")
    produce(
        workers.settings.kafka_bootstrap,
        workers.settings.topic,
        snapshot_envelopes(6000, start=200),
    )
    wait_for(lambda: stored_counts(database)[0] >= 1000, "ingest under way")
    _kill(first)
    assert stored_counts(database)[0] < 6200, "the kill must happen mid-stream"
    _assert_all_stored_once(database, 6200)


def test_single_worker_killed_and_restarted(workers: Workers, database: str) -> None:
    worker = workers.start()
    produce(workers.settings.kafka_bootstrap, workers.settings.topic, snapshot_envelopes(6000))
    wait_for(lambda: stored_counts(database)[0] >= 500, "ingest under way")
    _kill(worker)
    assert stored_counts(database)[0] < 6000, "the kill must happen mid-stream"
    workers.start()
    _assert_all_stored_once(database, 6000)


def test_database_cut_off_then_back(workers: Workers, database: str) -> None:
    port = int(conninfo_to_dict(database).get("port") or 5432)
    with proxy_to(port) as proxy:
        worker = workers.start(make_conninfo(database, host="127.0.0.1", port=proxy.port))
        produce(workers.settings.kafka_bootstrap, workers.settings.topic, snapshot_envelopes(100))
        wait_for(lambda: stored_counts(database)[0] == 100, "the first snapshots")
        proxy.cut()
        produce(
            workers.settings.kafka_bootstrap,
            workers.settings.topic,
            snapshot_envelopes(900, start=100),
        )
        time.sleep(6)
        assert stored_counts(database)[0] == 100, "nothing can be stored while cut off"
        assert worker.poll() is None, "the worker waits for the database instead of exiting"
        assert "retrying" in workers.logs()
        proxy.restore()
        _assert_all_stored_once(database, 1000)
        assert worker.poll() is None


def test_a_worker_joining_mid_stream_shares_the_work(workers: Workers, database: str) -> None:
    workers.start()
    produce(workers.settings.kafka_bootstrap, workers.settings.topic, snapshot_envelopes(6000))
    wait_for(lambda: stored_counts(database)[0] >= 500, "ingest under way")
    workers.start()
    _assert_all_stored_once(database, 6000)


def test_broker_unreachable_then_back(
    broker_proxy: CuttableProxy, database: str, redis_prefix: str, tmp_path: Path
) -> None:
    """What a worker sees of a broker restart: every connection dropped, new ones refused for
    longer than the session timeout, then accepted again. (Restarting tansu itself would lose
    its in-memory log and group offsets, which Apache Kafka keeps; the worker's side of it,
    reconnecting and rejoining its group, is the same.)"""
    bootstrap = f"127.0.0.1:{broker_proxy.port}"
    workers = _worker_group(bootstrap, database, redis_prefix, tmp_path)
    try:
        worker = workers.start()
        produce(bootstrap, workers.settings.topic, snapshot_envelopes(100))
        wait_for(lambda: stored_counts(database)[0] == 100, "the first snapshots")
        broker_proxy.cut()
        time.sleep(workers.settings.session_timeout + 4)
        assert worker.poll() is None, "the worker waits for the broker instead of exiting"
        broker_proxy.restore()
        produce(bootstrap, workers.settings.topic, snapshot_envelopes(900, start=100))
        _assert_all_stored_once(database, 1000)
        assert worker.poll() is None, "the same worker reconnected"
    finally:
        workers.stop_all()
