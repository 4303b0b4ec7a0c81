"""The one path a prepared batch takes into the database: the worker's and ``procmon replay``'s.

In this order, each step only once the one before it is done:

1. the batch's dead letters are published (when the path has a publisher);
2. the batch is written and committed (:class:`~streams.writer.SnapshotWriter`, which also
   records the dead letters in ``ingest_errors``);
3. the snapshots PostgreSQL refused, now dead letters, are published;
4. the keys stored are remembered (when the path has a memory of recent keys), so that a
   redelivery of them is skipped before parsing;
5. the cache generation is bumped when snapshots were stored, retiring every answer the API
   cached before them;
6. the caller's acknowledgement runs: the worker acknowledges its events, so that an offset is
   committed only for what is in the database and no cached answer predates it.

The path raises whatever a step raised, and then nothing after that step happened: the caller
must not acknowledge (the worker ends itself, see :mod:`streams.app`). When Redis is down the
bump is skipped, logged once (:class:`~procmon.cache.FailOpenRedis`): storing goes on, and
cached answers expire after ``PROCMON_CACHE_TTL``.

Replay has no publisher: it re-reads the source topic, whose bad messages the worker sent to
the dead-letter topic and logged when it first consumed them. Publishing them again on every
replay would repeat them on that topic; ``ingest_errors`` keeps each once by its coordinates
all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict

from procmon.cache import GENERATION, FailOpenRedis
from streams.batch import PreparedBatch
from streams.failures import Failure, failures_of
from streams.recent import RecentKeys
from streams.writer import BatchResult, SnapshotWriter

__all__ = ["Acknowledge", "IngestPath", "PublishDeadLetters"]

log = logging.getLogger(__name__)

# Sends failures to the dead-letter topic and returns once the broker has them all.
PublishDeadLetters = Callable[[Sequence[Failure]], Awaitable[None]]
# Runs after the commit and the cache bump: what the caller does with a stored batch.
Acknowledge = Callable[[], Awaitable[None]]


class IngestPath:
    """Stores prepared batches, then acknowledges them, in the order the module describes."""

    def __init__(
        self,
        cache: FailOpenRedis,
        *,
        publish: PublishDeadLetters | None = None,
        recent: RecentKeys | None = None,
    ) -> None:
        """Bump the generation in ``cache``; with ``publish``, send and log dead letters; with
        ``recent``, remember the keys stored."""
        self._cache = cache
        self._publish = publish
        self._recent = recent

    async def store(
        self,
        batch: PreparedBatch,
        writer: SnapshotWriter,
        acknowledge: Acknowledge | None = None,
    ) -> BatchResult:
        """Store ``batch`` over ``writer``, then run ``acknowledge``; return what was stored."""
        if self._publish is not None:
            await self._publish(failures_of(batch.dead_letters))
        result = await writer.write(batch)
        if self._publish is not None:
            await self._publish(result.refused)
        if self._recent is not None:
            _remember(self._recent, batch, result)
        if result.snapshots_stored:
            await self._cache.incr(GENERATION)
        if self._publish is not None:
            _log_dead_letters(batch, result)
        if acknowledge is not None:
            await acknowledge()
        return result


def _remember(recent: RecentKeys, batch: PreparedBatch, result: BatchResult) -> None:
    # A refused snapshot is not stored: a replay of it must not be skipped as recent.
    refused = {(f.message.partition, f.message.offset) for f in result.refused}
    recent.remember(
        s.key for s in batch.snapshots if (s.message.partition, s.message.offset) not in refused
    )


def _log_dead_letters(batch: PreparedBatch, result: BatchResult) -> None:
    for letter in batch.dead_letters:
        log.warning("dead letter: %s", letter.error, extra=asdict(letter.error.context))
    for failure in result.refused:
        log.warning("dead letter: %s", failure.reason, extra=asdict(failure.context))
