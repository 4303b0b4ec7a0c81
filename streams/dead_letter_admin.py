"""``procmon dead-letters list`` and ``replay``: looking at failures and retrying them.

Replay sends each recorded message's original bytes and key back to the source topic, then
marks it replayed, in one transaction with the selection, so a second replay sends nothing
again; and a replayed message that now stores is deduplicated like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from procmon.kafka import publish_raw
from procmon.settings import Settings
from streams.sql import LIST_DEAD_LETTERS, MARK_REPLAYED, SELECT_FOR_REPLAY

__all__ = ["DeadLetterRecord", "list_dead_letters", "replay_dead_letters"]


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


async def replay_dead_letters(
    settings: Settings, *, ids: list[int] | None = None, since: datetime | None = None
) -> int:
    """Send not-yet-replayed dead letters back to the source topic; return how many."""
    connection = await psycopg.AsyncConnection.connect(settings.database_url)
    async with connection as conn, conn.transaction():
        cursor = await conn.execute(SELECT_FOR_REPLAY, {"ids": ids, "since": since})
        rows = await cursor.fetchall()
        await publish_raw(settings, [(key, value) for _, key, value in rows])
        await conn.execute(MARK_REPLAYED, ([row_id for row_id, _, _ in rows],))
    return len(rows)
