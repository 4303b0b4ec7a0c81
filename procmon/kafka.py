"""Talking to the broker: topic creation and publishing envelopes.

Broker-agnostic: the same code runs against Apache Kafka and the dev broker; what differs
(producer idempotence) is a setting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from procmon.envelope import Envelope
from procmon.errors import CollectorError
from procmon.settings import Settings

__all__ = [
    "compression_type",
    "ensure_topics",
    "producer_options",
    "publish",
    "publish_raw",
]

# Leaves room under the broker's default 1 MiB message limit for the JSON around the output.
MAX_MESSAGE_BYTES = 1_000_000


def compression_type(settings: Settings) -> str | None:
    """The producer compression as Kafka clients name it (``None`` for no compression)."""
    return None if settings.kafka_compression == "none" else settings.kafka_compression


def producer_options(settings: Settings) -> dict[str, Any]:
    """Options for an ``AIOKafkaProducer`` under these settings."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        "enable_idempotence": settings.kafka_idempotence,
        "acks": "all",
        "compression_type": compression_type(settings),
        "max_request_size": MAX_MESSAGE_BYTES + 64_000,
    }


async def ensure_topics(settings: Settings) -> None:
    """Create the source and dead-letter topics with the configured partitions unless they exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        await admin.start()
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
    """Publish envelopes keyed by machine id, waiting for the broker's acks; return the count."""
    messages = [(envelope, envelope.to_bytes()) for envelope in envelopes]
    for envelope, body in messages:
        if len(body) > MAX_MESSAGE_BYTES:
            raise CollectorError(
                f"the listing of machine {envelope.machine_id} at {envelope.timestamp.isoformat()} "
                f"is {len(body)} bytes as a message, over the {MAX_MESSAGE_BYTES}-byte limit"
            )
    return await publish_raw(settings, [(envelope.key, body) for envelope, body in messages])


async def publish_raw(settings: Settings, messages: Sequence[tuple[bytes | None, bytes]]) -> int:
    """Publish (key, value) messages to the source topic, waiting for every ack."""
    if not messages:
        return 0
    producer = AIOKafkaProducer(**producer_options(settings))
    try:
        await producer.start()
        pending = [await producer.send(settings.topic, value, key=key) for key, value in messages]
        await asyncio.gather(*pending)
    except KafkaError as exc:
        raise CollectorError(
            f"publishing to {settings.topic!r} at {settings.kafka_bootstrap} failed: {exc!r}"
        ) from exc
    finally:
        await producer.stop()
    return len(messages)
