"""The worker's metrics count what batches came to, and are served over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from procmon.devstack import free_port
from procmon.errors import EnvelopeError
from streams.batch import DeadLetter, PreparedBatch, RawMessage
from streams.failures import Failure
from streams.metrics import WorkerMetrics, serve_metrics
from streams.phases import PhaseTimes
from streams.writer import BatchResult


def _batch() -> tuple[PreparedBatch, BatchResult]:
    letter = DeadLetter(RawMessage("t", 0, 3, None, b"x"), EnvelopeError("message is not JSON"))
    batch = PreparedBatch(dead_letters=[letter], duplicates_in_batch=2, recently_stored=1)
    batch.phases.add("parse", 0.5)
    written = PhaseTimes()
    written.add("copy", 1.25)
    written.add("commit", 0.125)
    result = BatchResult(
        snapshots_stored=4,
        snapshots_already_stored=5,
        process_rows=600,
        dead_letters=2,
        phases=written,
        refused=(Failure(RawMessage("t", 0, 4, None, b"y"), "StorageError", "refused"),),
        parked=(Path("t-0-5.json"),),
    )
    return batch, result


def test_counters_move_and_are_served() -> None:
    metrics = WorkerMetrics()
    batch, result = _batch()
    metrics.record_batch(batch, result, messages=13, seconds=0.25)
    metrics.record_batch(batch, result, messages=13, seconds=0.25)
    port = free_port()
    server = serve_metrics(metrics, "127.0.0.1", port)
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
        missing = httpx.get(f"http://127.0.0.1:{port}/nope")
    finally:
        server.shutdown()
    assert "procmon_messages_total 26.0" in text
    assert "procmon_snapshots_stored_total 8.0" in text
    assert "procmon_process_rows_stored_total 1200.0" in text
    assert 'procmon_duplicates_skipped_total{found_in="batch"} 4.0' in text
    assert 'procmon_duplicates_skipped_total{found_in="recent"} 2.0' in text
    assert 'procmon_duplicates_skipped_total{found_in="database"} 10.0' in text
    assert 'procmon_dead_letters_total{error_class="EnvelopeError"} 2.0' in text
    # Snapshots PostgreSQL refused are dead letters too; what it refused even then is parked.
    assert 'procmon_dead_letters_total{error_class="StorageError"} 2.0' in text
    assert "procmon_parked_messages_total 2.0" in text
    assert "procmon_batch_messages_count 2.0" in text
    assert 'procmon_worker_phase_seconds_total{phase="parse"} 1.0' in text
    assert 'procmon_worker_phase_seconds_total{phase="copy"} 2.5' in text
    assert 'procmon_worker_phase_seconds_total{phase="commit"} 0.25' in text
    # Every phase is listed from the start, at zero until time is spent in it.
    assert 'procmon_worker_phase_seconds_total{phase="consume"} 0.0' in text
    assert health["status"] == "ok"
    assert health["last_batch_at"] is not None
    assert missing.status_code == 404
