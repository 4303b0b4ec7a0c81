"""``procmon dead-letters list`` and ``replay``: looking at failures and retrying them.

Replay sends each recorded message's original bytes and key back to the source topic, then
marks it replayed, in one transaction with the selection, so a second replay sends nothing
again; and a replayed message that now stores is deduplicated like any other. Messages parked
in files (PostgreSQL refused them even in ``ingest_errors``, see streams.parking) are listed
and replayed too; each file records when it was replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.rows import class_row

from procmon.kafka import publish_raw
from procmon.settings import Settings
from streams.parking import ParkedMessage, mark_replayed, parked_messages
from streams.sql import LIST_DEAD_LETTERS, MARK_REPLAYED, SELECT_FOR_REPLAY

__all__ = [
    "DeadLetterRecord",
    "ReplayOutcome",
    "list_dead_letters",
    "list_parked",
    "replay_dead_letters",
]


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One row of ``ingest_errors`` as the list command shows it."""

    id: int
    received_at: datetime
    topic: str
    partition: int
    offset: int
    machine_id: str | None
    error_class: str
    reason: str
    line_number: int | None
    replayed_at: datetime | None


def list_dead_letters(
    settings: Settings, *, since: datetime | None = None, limit: int = 50
) -> list[DeadLetterRecord]:
    """The newest recorded dead letters, at most ``limit``."""
    with psycopg.connect(settings.database_url) as conn:
        cursor = conn.cursor(row_factory=class_row(DeadLetterRecord))
        return cursor.execute(LIST_DEAD_LETTERS, {"since": since, "limit": limit}).fetchall()


def list_parked(
    settings: Settings, *, since: datetime | None = None
) -> tuple[list[ParkedMessage], list[tuple[Path, str]]]:
    """The parked messages (parked at or after ``since``) and the files that cannot be read."""
    parked, unreadable = parked_messages(settings.parking_dir)
    return [p for p in parked if since is None or p.parked_at >= since], unreadable


@dataclass(slots=True)
class ReplayOutcome:
    """What a replay sent back to the topic, and what it could not."""

    replayed: int = 0
    parked_replayed: int = 0
    not_replayed: list[tuple[Path, str]] = field(default_factory=list)


async def replay_dead_letters(
    settings: Settings, *, ids: list[int] | None = None, since: datetime | None = None
) -> ReplayOutcome:
    """Send not-yet-replayed dead letters back to the source topic.

    Parked messages not yet replayed go too, unless ``ids`` (of ``ingest_errors`` rows) picks
    what to send; a parked file that cannot be read is named in the outcome with why.
    """
    outcome = ReplayOutcome()
    connection = await psycopg.AsyncConnection.connect(settings.database_url)
    async with connection as conn, conn.transaction():
        cursor = await conn.execute(SELECT_FOR_REPLAY, {"ids": ids, "since": since})
        rows = await cursor.fetchall()
        await publish_raw(settings, [(key, value) for _, key, value in rows])
        await conn.execute(MARK_REPLAYED, ([row_id for row_id, _, _ in rows],))
    outcome.replayed = len(rows)
    if ids is not None:
        return outcome
    parked, unreadable = list_parked(settings, since=since)
    outcome.not_replayed = [(path, f"not sent, unreadable: {why}") for path, why in unreadable]
    waiting = [p for p in parked if p.replayed_at is None]
    await publish_raw(settings, [(p.key, p.value) for p in waiting])
    for message in waiting:
        try:
            mark_replayed(message)
        except OSError as exc:
            # Sent all the same: a second replay sends it again, and it is deduplicated.
            why = f"sent, but could not be marked replayed: {exc}"
            outcome.not_replayed.append((message.path, why))
        outcome.parked_replayed += 1
    return outcome
