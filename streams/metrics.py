"""The worker's Prometheus metrics and its ``/metrics`` + ``/healthz`` HTTP endpoint.

Consumer lag is computed from the fetch high-watermark the consumer last saw, not from
ListOffsets, which the dev broker answers wrongly.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from streams.batch import PreparedBatch
from streams.phases import PHASES, PhaseTimes
from streams.writer import BatchResult

__all__ = ["WorkerMetrics", "serve_metrics"]


class WorkerMetrics:
    """Everything a worker counts, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.started_at = time.time()
        self.last_batch_at: float | None = None
        self.messages = Counter("procmon_messages", "Messages consumed.", registry=self.registry)
        self.snapshots_stored = Counter(
            "procmon_snapshots_stored", "Snapshots newly stored.", registry=self.registry
        )
        self.process_rows = Counter(
            "procmon_process_rows_stored", "Process rows written.", registry=self.registry
        )
        self.duplicates = Counter(
            "procmon_duplicates_skipped",
            "Snapshots skipped as already stored, by where the duplicate was found.",
            ["found_in"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "procmon_dead_letters",
            "Messages dead-lettered, by error class.",
            ["error_class"],
            registry=self.registry,
        )
        self.parked = Counter(
            "procmon_parked_messages",
            "Dead letters PostgreSQL refused even in ingest_errors, parked as files"
            " (PROCMON_PARKING_DIR; `procmon dead-letters list` shows them).",
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "procmon_batch_messages",
            "Messages per batch.",
            buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000),
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "procmon_batch_seconds",
            "Time from a batch's arrival to its commit.",
            registry=self.registry,
        )
        self.phase_seconds = Counter(
            "procmon_worker_phase_seconds",
            "Seconds spent per phase: waiting for messages (consume), decoding envelopes,"
            " deduplicating, parsing, inserting commands, copying processes, committing,"
            " acknowledging. Parsing overlaps with the batch in flight's write.",
            ["phase"],
            registry=self.registry,
        )
        for phase in PHASES:
            self.phase_seconds.labels(phase)
        self.consumer_lag = Gauge(
            "procmon_consumer_lag",
            "Messages behind the fetch high-watermark, per partition.",
            ["partition"],
            registry=self.registry,
        )

    def record_batch(
        self, batch: PreparedBatch, result: BatchResult, messages: int, seconds: float
    ) -> None:
        """Count what a committed batch came to."""
        self.last_batch_at = time.time()
        self.messages.inc(messages)
        self.batch_size.observe(messages)
        self.batch_seconds.observe(seconds)
        self.snapshots_stored.inc(result.snapshots_stored)
        self.process_rows.inc(result.process_rows)
        self.duplicates.labels("batch").inc(batch.duplicates_in_batch)
        self.duplicates.labels("recent").inc(batch.recently_stored)
        self.duplicates.labels("database").inc(result.snapshots_already_stored)
        for letter in batch.dead_letters:
            self.dead_letters.labels(type(letter.error).__name__).inc()
        for failure in result.refused:
            self.dead_letters.labels(failure.error_class).inc()
        self.parked.inc(len(result.parked))
        self.record_phases(batch.phases)
        self.record_phases(result.phases)

    def record_phases(self, phases: PhaseTimes) -> None:
        """Add time spent per phase."""
        for phase, seconds in phases.seconds.items():
            if seconds:
                self.phase_seconds.labels(phase).inc(seconds)

    def health(self) -> dict[str, object]:
        """What ``/healthz`` answers: alive, since when, and when the last batch committed."""
        return {
            "status": "ok",
            "started_at": self.started_at,
            "last_batch_at": self.last_batch_at,
        }


def serve_metrics(metrics: WorkerMetrics, host: str, port: int) -> ThreadingHTTPServer:
    """Serve ``/metrics`` and ``/healthz`` on a daemon thread; return the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._answer(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
            elif self.path == "/healthz":
                body = json.dumps(metrics.health()).encode()
                self._answer(200, "application/json", body)
            else:
                self._answer(404, "text/plain", b"not found: try /metrics or /healthz\n")

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes every few seconds would drown the worker's own log."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
