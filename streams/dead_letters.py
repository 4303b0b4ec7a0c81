"""Publishing dead letters to their topic: the original message, with why it failed in headers.

The same failures are also recorded in the ``ingest_errors`` table (or, refused there, in the
parking directory); the topic is for operators and tools that replay or inspect failures from
Kafka. A message too large for the topic (a listing that came compressed under the broker's
limit may not fit again) is sent as a small reference to its ``ingest_errors`` row instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Sequence
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError, RecordTooLargeError
from faust.types import TopicT

from streams.failures import Failure

__all__ = ["REFERENCE_HEADER", "dead_letter_headers", "publish_dead_letters", "reference_body"]

# Names what the body of a dead letter sent by reference points to.
REFERENCE_HEADER = "procmon-body-reference"
_SIZE_HEADER = "procmon-original-bytes"
# What a record and its batch add around key, value and headers: lengths, CRC, timestamps.
_RECORD_OVERHEAD_BYTES = 1024
# The most characters of one header: a reason can name a field of any length, and a dead
# letter sent by reference must stay small. ingest_errors keeps the whole text.
_HEADER_CHARACTERS = 1000


def dead_letter_headers(failure: Failure) -> list[tuple[str, bytes]]:
    """The Kafka headers of a dead letter: the error and where the message came from."""
    failure = failure.storable()
    message = failure.message
    values: list[tuple[str, object]] = [
        ("procmon-error-class", failure.error_class),
        ("procmon-reason", failure.reason),
        ("procmon-line-number", failure.line_number),
        ("procmon-source-topic", message.topic),
        ("procmon-source-partition", message.partition),
        ("procmon-source-offset", message.offset),
        ("procmon-machine-id", failure.machine_id),
        ("procmon-content-hash", failure.content_hash),
    ]
    return [(name, _header_value(str(value))) for name, value in values if value is not None]


def _header_value(text: str) -> bytes:
    if len(text) > _HEADER_CHARACTERS:
        text = f"{text[:_HEADER_CHARACTERS]}... ({len(text)} characters, whole in ingest_errors)"
    return text.encode("utf-8")


def reference_body(failure: Failure) -> bytes:
    """The body sent instead of a message too large for the topic: where it is kept whole."""
    message = failure.message
    where = {"topic": message.topic, "partition": message.partition, "offset": message.offset}
    return json.dumps({"ingest_errors": where, "bytes": len(message.value)}).encode("utf-8")


async def publish_dead_letters(
    topic: TopicT, failures: Sequence[Failure], max_message_bytes: int
) -> None:
    """Send each failure to ``topic`` and wait until the broker has them all.

    A message over ``max_message_bytes`` with its headers goes as a reference (see
    :func:`reference_body`), as does one the producer or the broker refuses as too large.
    """
    pending: list[tuple[Failure, Awaitable[Any]]] = []
    for failure in failures:
        headers = dead_letter_headers(failure)
        message = failure.message
        size = len(message.key or b"") + len(message.value) + _RECORD_OVERHEAD_BYTES
        size += sum(len(name) + len(value) for name, value in headers)
        if size > max_message_bytes:
            pending.append((failure, await _send_reference(topic, failure, headers)))
            continue
        try:
            sent = await topic.send(key=message.key, value=message.value, headers=headers)
        except Exception as exc:
            if not _too_large(exc):
                raise
            sent = await _send_reference(topic, failure, headers)
        pending.append((failure, sent))
    results = await asyncio.gather(*(sent for _, sent in pending), return_exceptions=True)
    for (failure, _), result in zip(pending, results, strict=True):
        if isinstance(result, BaseException):
            if not _too_large(result):
                raise result
            await (await _send_reference(topic, failure, dead_letter_headers(failure)))


async def _send_reference(
    topic: TopicT, failure: Failure, headers: list[tuple[str, bytes]]
) -> Awaitable[Any]:
    marked = [
        *headers,
        (REFERENCE_HEADER, b"ingest_errors"),
        (_SIZE_HEADER, str(len(failure.message.value)).encode("ascii")),
    ]
    return await topic.send(key=failure.message.key, value=reference_body(failure), headers=marked)


def _too_large(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps: Faust wraps the client's errors) is a size refusal."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MessageSizeTooLargeError | RecordTooLargeError):
            return True
        seen = seen.__cause__
    return False
