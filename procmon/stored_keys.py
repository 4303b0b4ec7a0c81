"""Which snapshots the database already holds, asked by ``procmon import`` before it sends.

A re-import would otherwise send every listing again, to be dropped by the workers' unique key
and counted nowhere. The question needs the database, which a machine of the fleet may not
reach and a collector's install may not have a driver for: then the answer is "unknown" and
the import sends everything, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from procmon.logs import mask_secrets

__all__ = ["STORED_KEYS", "SnapshotKey", "StoredKeys"]

log = logging.getLogger(__name__)

SnapshotKey = tuple[str, datetime, str]

# The unique key of commands (machine_id, timestamp, content_hash), looked up by its index.
STORED_KEYS = """
SELECT c.machine_id, c."timestamp", c.content_hash
FROM commands AS c
JOIN unnest(%s::text[], %s::timestamptz[], %s::text[]) AS k(machine_id, ts, content_hash)
  ON c.machine_id = k.machine_id AND c."timestamp" = k.ts AND c.content_hash = k.content_hash
"""


class StoredKeys:
    """Answers "which of these are stored?" from ``database_url``, or None once it cannot."""

    def __init__(self, database_url: str, connect_timeout: int = 3) -> None:
        self._url = database_url
        self._timeout = connect_timeout
        self.available = True

    def among(self, keys: Sequence[SnapshotKey]) -> set[SnapshotKey]:
        """The ``keys`` the database holds; none when it cannot be asked (then never again)."""
        if not self.available or not keys:
            return set()
        try:
            import psycopg
        except ImportError:
            self.available = False
            return set()
        try:
            with psycopg.connect(self._url, connect_timeout=self._timeout) as conn:
                columns = [[key[i] for key in keys] for i in range(3)]
                rows = conn.execute(STORED_KEYS, columns)
                return {(m, t, h) for m, t, h in rows.fetchall()}
        except psycopg.Error as exc:
            # One try per import: an unreachable database should not slow every chunk.
            self.available = False
            log.warning("not checking for listings already stored: %s", mask_secrets(str(exc)))
            return set()
