"""Publishing dead letters to their topic: the original message, with why it failed in headers.

The same letters are also recorded in the ``ingest_errors`` table in the batch's transaction;
the topic is for operators and tools that replay or inspect failures from Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faust.types import TopicT

from streams.batch import DeadLetter

__all__ = ["dead_letter_headers", "publish_dead_letters"]


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The Kafka headers of a dead letter: the error and where the message came from."""
    message, error = letter.message, letter.error
    values: list[tuple[str, object]] = [
        ("procmon-error-class", type(error).__name__),
        ("procmon-reason", error.reason),
        ("procmon-line-number", error.line_number),
        ("procmon-source-topic", message.topic),
        ("procmon-source-partition", message.partition),
        ("procmon-source-offset", message.offset),
        ("procmon-machine-id", error.context.machine_id),
        ("procmon-content-hash", error.context.content_hash),
    ]
    return [(name, str(value).encode("utf-8")) for name, value in values if value is not None]


async def publish_dead_letters(topic: TopicT, letters: Sequence[DeadLetter]) -> None:
    """Send each letter's original bytes to ``topic`` and wait until the broker has them all."""
    pending = [
        await topic.send(
            key=letter.message.key,
            value=letter.message.value,
            headers=dead_letter_headers(letter),
        )
        for letter in letters
    ]
    await asyncio.gather(*pending)
