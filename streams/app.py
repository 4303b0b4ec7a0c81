"""The Faust worker: consume raw listings, store them, acknowledge only after the commit.

The pattern follows what was measured to lose nothing (see the README's worker section):
the source topic is raw bytes (a JSON-typed topic stalls silently on a bad message), batches
come from ``noack_take`` (``take`` acks a batch even when its processing raised), every event
of a batch is acknowledged after the database commit, poison messages included once they are
on the dead-letter topic and in ``ingest_errors``, and anything unexpected ends the process,
so that a restart resumes from the last committed offset instead of Faust's supervisor
restarting the agent in an unknown state. From a prepared batch to its acknowledgement the
agent takes the path ``procmon replay`` takes too (:mod:`streams.ingest`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict
from functools import partial
from itertools import cycle
from typing import Any, NoReturn, cast

import faust
from faust import Stream
from faust.types import EventT, StreamT

from procmon.cache import FailOpenRedis
from procmon.kafka import compression_type, ensure_topics
from procmon.maintenance import maintain
from procmon.object_store import open_store
from procmon.partitions import KnownDays
from procmon.settings import Settings
from streams.batch import PreparedBatch, RawMessage
from streams.credentials import broker_credentials
from streams.dead_letters import publish_dead_letters
from streams.history import ProcessHistory
from streams.ingest import IngestPath
from streams.metrics import WorkerMetrics, serve_metrics
from streams.recent import RecentKeys
from streams.rollup import RollupWorker
from streams.writer import SnapshotWriter

__all__ = ["build_app", "run_worker"]

log = logging.getLogger(__name__)

# Exit code of a worker that stopped itself on an error it cannot handle; a supervisor
# (docker, systemd, `procmon up`) restarts it and it resumes from the last commit.
EXIT_UNRECOVERABLE = 70


def _raw_message(event: EventT[Any]) -> RawMessage:
    message = event.message
    return RawMessage(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value or b"",  # a tombstone (no value) becomes a dead letter
    )


def build_app(settings: Settings, metrics: WorkerMetrics) -> faust.App:
    """Build the Faust app with its ingest agent under these settings, counting in ``metrics``."""
    # Faust makes its data directory (empty with the memory store) in the working directory
    # unless given one, and makes only its last level: a worker run from a checkout would
    # leave a directory in it.
    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.consumer_group,
        datadir=settings.worker_data_dir / settings.consumer_group,
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap.split(",")],
        broker_credentials=broker_credentials(settings),
        store="memory://",
        topic_partitions=settings.topic_partitions,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.heartbeat_interval,
        consumer_auto_offset_reset="earliest",
        producer_compression_type=compression_type(settings),
        # One limit for what the worker sends: a dead letter over it goes by reference.
        producer_max_request_size=settings.kafka_max_message_bytes,
        web_enabled=False,
        loghandlers=[],
    )
    topic = app.topic(
        settings.topic,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    dead_letter_topic = app.topic(
        settings.dead_letter_topic, key_serializer="raw", value_serializer="raw"
    )
    # One connection per batch in flight: a single COPY keeps one PostgreSQL backend busy,
    # and the commit, the commands insert and the worker's own turns leave it idle between.
    # One memory of each machine's latest snapshot for all the writers: a batch links to the
    # one before it, whichever connection wrote that.
    history = ProcessHistory.from_settings(settings)
    partitions = KnownDays(settings.partition_days)
    writers = [
        SnapshotWriter(
            settings.database_url,
            retry_attempts=settings.db_retry_attempts,
            parking_dir=settings.parking_dir,
            history=history,
            partitions=partitions,
        )
        for _ in range(settings.writer_connections)
    ]
    recent = RecentKeys(settings.dedupe_cache_size)
    store = open_store(settings.object_store_url)
    cache = FailOpenRedis(settings.redis_url, settings.redis_prefix)
    ingest_path = IngestPath(
        cache,
        publish=partial(
            publish_dead_letters,
            dead_letter_topic,
            max_message_bytes=settings.kafka_max_message_bytes,
        ),
        recent=recent,
    )

    def end_worker(events: Sequence[EventT[Any]]) -> NoReturn:
        first = _raw_message(events[0]).context
        log.exception(
            "ending the worker: batch of %d messages from partition %s offset %s failed",
            len(events),
            first.partition,
            first.offset,
            extra=asdict(first),
        )
        logging.shutdown()
        os._exit(EXIT_UNRECOVERABLE)

    async def commit_and_ack(
        source: Stream[Any],
        events: Sequence[EventT[Any]],
        batch: PreparedBatch,
        started: float,
        writer: SnapshotWriter,
        previous: asyncio.Task[None] | None,
    ) -> None:
        async def acknowledge() -> None:
            # Acknowledged in order: a batch's offsets follow those of the batch before it.
            if previous is not None:
                await previous
            with batch.phases.timing("ack"):
                for event in events:
                    await source.ack(event)

        try:
            result = await ingest_path.store(batch, writer, acknowledge)
        except Exception:
            end_worker(events)
        metrics.record_batch(batch, result, len(events), time.perf_counter() - started)
        _record_lag(app, metrics, events)
        log.info(
            "batch committed: %d messages, %d snapshots stored, %d already stored, "
            "%d duplicates in batch, %d recently stored, %d process rows, %d dead letters",
            len(events),
            result.snapshots_stored,
            result.snapshots_already_stored,
            batch.duplicates_in_batch,
            batch.recently_stored,
            result.process_rows,
            result.dead_letters,
        )

    async def ingest(stream: StreamT[Any]) -> None:
        source = cast(Stream[Any], stream)
        batches = source.noack_take(settings.batch_size, within=settings.batch_timeout)
        # While PostgreSQL stores batches, the next is parsed: a batch in flight per writer
        # connection at most, each acknowledged after those before it.
        in_flight: deque[asyncio.Task[None]] = deque()
        # In turn: when a batch takes a writer, the batch that last had it is done.
        turns = cycle(writers)
        # Waiting for the first batch is joining the group, not consuming: it is not counted.
        waiting_since: float | None = None
        async for values in batches:
            # noack_take yields the events themselves (its annotation says values) so that
            # each can be acknowledged by hand.
            events = cast(Sequence[EventT[Any]], values)
            started = time.perf_counter()
            batch = PreparedBatch()
            if waiting_since is not None:
                batch.phases.add("consume", started - waiting_since)
            try:
                for event in events:
                    batch.add(_raw_message(event), recent, store, settings)
                    # Let the batch in flight feed PostgreSQL more COPY data between two
                    # listings: its socket holds only a few milliseconds of the server's work.
                    await asyncio.sleep(0)
            except Exception:
                end_worker(events)
            if len(in_flight) == len(writers):
                # The oldest is done, and with it its writer, the one this batch takes.
                await in_flight.popleft()
            previous = in_flight[-1] if in_flight else None
            in_flight.append(
                asyncio.create_task(
                    commit_and_ack(source, events, batch, started, next(turns), previous)
                )
            )
            waiting_since = time.perf_counter()
        for task in in_flight:
            await task

    app.agent(topic, name="procmon.ingest")(ingest)

    # Every worker runs the rollup: rounds at once share the pending snapshots between them.
    rollup = RollupWorker(settings.database_url, cache)

    async def roll_up() -> None:
        await rollup.round()

    app.timer(settings.rollup_interval, name="procmon.rollup")(roll_up)

    # Partitions ahead of the clock and retention; the round takes turns with the other
    # workers' in the database, and its statements block, so it runs beside the loop.
    async def maintenance() -> None:
        await asyncio.to_thread(maintain, settings)

    app.timer(settings.maintenance_interval, name="procmon.maintenance")(maintenance)
    return app


def _record_lag(app: faust.App, metrics: WorkerMetrics, events: Sequence[EventT[Any]]) -> None:
    """Lag of each partition in the batch, from the high-watermark of the consumer's last fetch."""
    last_offsets: dict[Any, int] = {}
    for event in events:
        tp = event.message.tp
        last_offsets[tp] = max(last_offsets.get(tp, -1), event.message.offset)
    for tp, offset in last_offsets.items():
        highwater = app.consumer.highwater(tp)
        if highwater is not None:
            metrics.consumer_lag.labels(str(tp.partition)).set(max(highwater - offset - 1, 0))


def _tune_garbage_collection() -> None:
    """Spare the worker most of the collections its stream of rows sets off.

    The worker makes hundreds of thousands of objects a second, and collections triggered by
    them took a tenth of its CPU (py-spy). What exists at start-up (modules, Faust, aiokafka)
    is frozen out of collection, and each generation is collected far less often: a 600k-row
    ingest took 11% less worker CPU. Reference cycles are still collected, later.
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def run_worker(settings: Settings) -> None:
    """Create the topic if needed, then run the worker until it is stopped."""
    # One loop for both, because Faust's worker runs on the loop current when it is built.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings))
    metrics = WorkerMetrics()
    if settings.metrics_port:
        serve_metrics(metrics, settings.metrics_host, settings.metrics_port)
        log.info("metrics at http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    app = build_app(settings, metrics)
    _tune_garbage_collection()
    worker = faust.Worker(
        app, loop=loop, loglevel=settings.log_level, override_logging=False, quiet=True
    )
    worker.execute_from_commandline()
