"""The key of a process: derived from where it was first seen, so any arrival order agrees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from hashlib import blake2b

__all__ = ["process_key_of"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SIGN_BIT_CLEARED = (1 << 63) - 1


def process_key_of(machine_id: str, observed_at: datetime, content_hash: str, pid: int) -> int:
    """The key of the process first seen as ``pid`` in this snapshot of ``machine_id``.

    A snapshot is named by its machine, time and content hash (the dedupe key), so the key
    is the same whichever database, worker or arrival order computed it. 63 bits of BLAKE2b,
    positive so that it reads the same as a PostgreSQL ``bigint`` and a GraphQL ID: two of a
    billion processes share a key with odds of about 1 in 20, and then only their
    ``processHistory`` mixes (every other question also groups by machine).
    """
    microseconds = (observed_at - _EPOCH) // _MICROSECOND
    digest = blake2b(
        b"\x1f".join(
            (
                machine_id.encode(),
                microseconds.to_bytes(8, "big", signed=True),
                content_hash.encode(),
                pid.to_bytes(8, "big", signed=True),
            )
        ),
        digest_size=8,
    ).digest()
    return int.from_bytes(digest, "big") & _SIGN_BIT_CLEARED
