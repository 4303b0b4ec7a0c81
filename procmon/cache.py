"""Redis for the response cache and the rate limit, failing open: when Redis is away,
callers carry on without it.

Calls have short timeouts; after a failure a circuit breaker skips Redis for a while, so an
outage costs one timeout per ``retry_after`` seconds rather than one per request, and it is
logged once when it begins and once when it ends.

The worker bumps :data:`GENERATION` after every batch that stored snapshots; the API puts the
generation in its cache keys, so a committed batch retires every cached answer at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

__all__ = ["GENERATION", "FailOpenRedis"]

log = logging.getLogger(__name__)

GENERATION = "generation"

_T = TypeVar("_T")


class FailOpenRedis:
    """A few Redis commands under ``prefix``, each answering ``None`` when Redis fails."""

    def __init__(
        self, url: str, prefix: str, timeout: float = 0.1, retry_after: float = 10.0
    ) -> None:
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._prefix = prefix
        self._retry_after = retry_after
        self._closed_until = 0.0
        self._down = False

    def _name(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def _failed(self, exc: Exception) -> None:
        self._closed_until = time.monotonic() + self._retry_after
        if not self._down:
            self._down = True
            log.warning(
                "Redis unavailable, carrying on without the cache and rate limit"
                " (next try in %.0f s): %s",
                self._retry_after,
                exc,
            )

    def _succeeded(self) -> None:
        if self._down:
            self._down = False
            log.info("Redis is back; the cache and rate limit are in use again")

    async def _call(self, command: Callable[[], Awaitable[_T]]) -> _T | None:
        if time.monotonic() < self._closed_until:
            return None
        try:
            result = await command()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._succeeded()
        return result

    async def get(self, name: str) -> bytes | None:
        """The value of ``name``, or ``None`` if it is absent or Redis is unavailable."""
        value = await self._call(lambda: self._client.get(self._name(name)))
        return value if isinstance(value, bytes) else None

    async def get_many(self, *names: str) -> list[bytes | None]:
        """The values of ``names`` in one round trip; all ``None`` if Redis is unavailable."""
        values = await self._call(lambda: self._client.mget([self._name(n) for n in names]))
        if not isinstance(values, list):
            return [None] * len(names)
        return [value if isinstance(value, bytes) else None for value in values]

    async def set(self, name: str, value: bytes, ttl_seconds: float) -> None:
        """Store ``value`` for ``ttl_seconds``, unless Redis is unavailable."""
        milliseconds = int(ttl_seconds * 1000)
        await self._call(lambda: self._client.set(self._name(name), value, px=milliseconds))

    async def incr(self, name: str) -> None:
        """Add one to the counter ``name``, unless Redis is unavailable."""
        await self._call(lambda: self._client.incr(self._name(name)))

    async def count(self, name: str, ttl_seconds: int) -> int | None:
        """Add one to the counter ``name`` and return it, or ``None`` if Redis is unavailable.

        The counter expires ``ttl_seconds`` after its last count. INCR and EXPIRE go as one
        MULTI/EXEC in one write: one round trip, and no counter is left without an expiry.
        """

        async def incr_and_expire() -> list[object]:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(self._name(name))
                pipe.expire(self._name(name), ttl_seconds)
                return await pipe.execute()

        replies = await self._call(incr_and_expire)
        return replies[0] if replies is not None and isinstance(replies[0], int) else None

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()
