"""The ingest bench's topic: the listings of a fleet, published to a dev broker.

K snapshots of 150-process `ps aux` listings, made of real captured rows (benchmarks.corpus_ps):
those of 200 machines a minute apart from 2026-11-01, each machine's showing the same processes
with their CPU time growing and now and then a pid reused (``ps_aux_history``), so that the
worker links every snapshot to the one before and measures interval CPU, as it does for a real
fleet.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from benchmarks.corpus_ps import ps_aux_history
from procmon.devstack import start_dev_broker
from procmon.envelope import make_envelope
from procmon.kafka import ensure_topics, publish_raw
from procmon.settings import Settings

__all__ = ["PROCESSES_PER_SNAPSHOT", "published_topics"]

PROCESSES_PER_SNAPSHOT = 150
_MACHINES = 200
_PUBLISH_CHUNK = 1000


def _messages(snapshots: int, machines: str) -> list[tuple[bytes | None, bytes]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    every = timedelta(minutes=1)
    messages: list[tuple[bytes | None, bytes]] = []
    for n in range(snapshots):
        machine, listing = n % _MACHINES, n // _MACHINES
        envelope = make_envelope(
            raw_output=ps_aux_history(
                PROCESSES_PER_SNAPSHOT,
                machine=machine,
                listing=listing,
                first_at=start,
                every=every,
            ),
            machine_id=f"{machines}-{machine}",
            machine_name=f"{machines}-{machine}",
            os_type="linux",
            os_version="6.1",
            command_type="ps aux",
            timestamp=start + listing * every,
        )
        messages.append((envelope.key, envelope.to_bytes()))
    return messages


@contextmanager
def published_topics(snapshots: int, count: int = 1) -> Iterator[tuple[str, list[str]]]:
    """A dev broker holding ``count`` new topics of ``snapshots`` listings each (see the
    module's docstring), the first's machines named ``bench-N``, the n-th's ``benchn-N``, so
    that each topic's listings are new to a database that stored another's; yields its
    bootstrap address and the topics' names, and stops the broker after the block."""
    broker, bootstrap = start_dev_broker()
    topics = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    try:
        for n, topic in enumerate(topics):
            messages = _messages(snapshots, "bench" if n == 0 else f"bench{n}")
            asyncio.run(
                ensure_topics(
                    Settings(
                        kafka_bootstrap=bootstrap, topic=topic, dead_letter_topic=f"{topic}-dead"
                    )
                )
            )
            publisher = Settings(kafka_bootstrap=bootstrap, kafka_idempotence=False, topic=topic)
            for start in range(0, len(messages), _PUBLISH_CHUNK):
                asyncio.run(publish_raw(publisher, messages[start : start + _PUBLISH_CHUNK]))
        yield bootstrap, topics
    finally:
        broker.kill()
        broker.wait()
