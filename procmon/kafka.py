"""Talking to the broker: topic creation and publishing envelopes.

Broker-agnostic: the same code runs against Apache Kafka and the dev broker; what differs
(producer idempotence) is a setting. Every client connects as :mod:`procmon.kafka_security` says.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence, Sized
from typing import Any

import cramjam
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from procmon.envelope import MAX_MESSAGE_BYTES, Envelope
from procmon.errors import CollectorError
from procmon.kafka_security import kafka_client_options, start_client
from procmon.object_store import ObjectStore, open_store
from procmon.settings import Settings

__all__ = [
    "compression_type",
    "ensure_topics",
    "message_for",
    "producer_options",
    "publish",
    "publish_raw",
]

# The most a single message may hold before compression is what a worker decodes at most
# (MAX_MESSAGE_BYTES); the broker's own limit applies to the compressed record batch, which
# _size_problem estimates.
# What a record batch adds around one message: headers, key, CRC, lengths.
_BATCH_OVERHEAD_BYTES = 1024
_COMPRESSORS: dict[str, Callable[[bytes], Sized]] = {
    "gzip": cramjam.gzip.compress,
    "snappy": cramjam.snappy.compress,
    "lz4": cramjam.lz4.compress,
    "zstd": cramjam.zstd.compress,
}


def compression_type(settings: Settings) -> str | None:
    """The producer compression as Kafka clients name it (``None`` for no compression)."""
    return None if settings.kafka_compression == "none" else settings.kafka_compression


def producer_options(settings: Settings) -> dict[str, Any]:
    """Options for an ``AIOKafkaProducer`` under these settings, TLS and SASL included."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        "enable_idempotence": settings.kafka_idempotence,
        "acks": "all",
        "compression_type": compression_type(settings),
        "max_request_size": MAX_MESSAGE_BYTES + _BATCH_OVERHEAD_BYTES,
        **kafka_client_options(settings),
    }


async def ensure_topics(settings: Settings) -> None:
    """Create the source and dead-letter topics with the configured partitions unless they exist."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, **kafka_client_options(settings)
    )
    try:
        await start_client(admin, settings)
        existing = set(await admin.list_topics())
        for name in (settings.topic, settings.dead_letter_topic):
            if name in existing:
                continue
            topic = NewTopic(name, settings.topic_partitions, replication_factor=1)
            # Another process may create it between our look and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([topic])
    finally:
        await admin.close()


async def publish(settings: Settings, envelopes: Iterable[Envelope]) -> int:
    """Publish envelopes keyed by machine id, waiting for the broker's acks; return the count.

    A listing the broker would refuse even compressed goes to the object store, when one is
    set, and its envelope carries the reference instead.
    """
    store = open_store(settings.object_store_url)
    messages = [message_for(settings, envelope, store) for envelope in envelopes]
    return await publish_raw(settings, messages)


def message_for(
    settings: Settings, envelope: Envelope, store: ObjectStore | None
) -> tuple[bytes, bytes]:
    """The (key, value) to send: the envelope, or, too large for the broker, its reference.

    Raises CollectorError, saying the limit and the sizes, for a listing too large without a
    store, and ObjectStoreError when the store cannot keep it.
    """
    body = envelope.to_bytes()
    problem = _size_problem(settings, envelope, body)
    if problem is None:
        return envelope.key, body
    if store is None:
        raise CollectorError(f"{problem}; set PROCMON_OBJECT_STORE_URL to send it by reference")
    reference = store.put(envelope.raw_output.encode("utf-8"))
    return envelope.key, envelope.by_reference(reference).to_bytes()


def _size_problem(settings: Settings, envelope: Envelope, body: bytes) -> str | None:
    """Why the broker would refuse the message, with the limit and the size; None if it won't.

    A message over the broker's limit can still go when the producer's compression brings it
    under; the compressed size is measured with the same codec.
    """
    limit = settings.kafka_max_message_bytes - _BATCH_OVERHEAD_BYTES
    if len(body) <= limit:
        return None
    what = f"the listing of machine {envelope.machine_id} at {envelope.timestamp.isoformat()}"
    compress = _COMPRESSORS.get(settings.kafka_compression)
    if compress is None:
        return (
            f"{what} is {len(body)} bytes as a message, over the broker's limit of "
            f"{settings.kafka_max_message_bytes} bytes, and PROCMON_KAFKA_COMPRESSION is none"
        )
    compressed = len(compress(body))
    if len(body) > MAX_MESSAGE_BYTES or compressed > limit:
        return (
            f"{what} is {len(body)} bytes as a message ({compressed} bytes compressed with "
            f"{settings.kafka_compression}), over the broker's limit of "
            f"{settings.kafka_max_message_bytes} bytes"
        )
    return None


async def publish_raw(settings: Settings, messages: Sequence[tuple[bytes | None, bytes]]) -> int:
    """Publish (key, value) messages to the source topic, waiting for every ack."""
    if not messages:
        return 0
    producer = AIOKafkaProducer(**producer_options(settings))
    try:
        await start_client(producer, settings)
        pending = [await producer.send(settings.topic, value, key=key) for key, value in messages]
        await asyncio.gather(*pending)
    except KafkaError as exc:
        raise CollectorError(
            f"publishing to {settings.topic!r} at {settings.kafka_bootstrap} failed: {exc!r}"
        ) from exc
    finally:
        await producer.stop()
    return len(messages)
