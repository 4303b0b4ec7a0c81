"""The API's response cache: answers keyed by normalized query, sorted variables and role,
and by the settings that shape an answer (the page sizes).

An answer is stored with the generation the worker bumps after each committed batch, and
served only while that generation is current: new data retires every cached answer. One
MGET reads both. A TTL with jitter bounds what a missed bump could leave stale.
Redis failing costs nothing but the cache (see :mod:`procmon.cache`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import msgspec
from graphql import GraphQLError, parse, print_ast

from procmon.cache import GENERATION, FailOpenRedis

__all__ = ["ResponseCache"]

_JITTER = 0.1


@lru_cache(maxsize=256)
def _normalized(query: str) -> str | None:
    """The query as graphql-core prints it (blanks, commas and comments aside); None when it
    does not parse. Memoized: clients send the same few texts again and again."""
    try:
        return print_ast(parse(query))
    except GraphQLError:
        return None


class ResponseCache:
    """Cached ``data`` of successful query answers, with hit and miss counts."""

    def __init__(
        self, redis: FailOpenRedis, ttl_seconds: float, shaped_by: tuple[object, ...] = ()
    ) -> None:
        """``shaped_by``: the settings an answer depends on beyond the request (page sizes),
        so that API processes configured otherwise never serve each other's answers."""
        self._redis = redis
        self._ttl = ttl_seconds
        self._shaped_by = list(shaped_by)
        self.hits = 0
        self.misses = 0

    def key_for(
        self,
        query: str | None,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        role: str,
    ) -> str | None:
        """The cache key of a request, or ``None`` for one that does not parse (never cached)."""
        if not query:
            return None
        normalized = _normalized(query)
        if normalized is None:
            return None
        identity = json.dumps(
            [normalized, variables or {}, operation_name, role, self._shaped_by],
            sort_keys=True,
            default=str,
        )
        return "response:" + hashlib.sha256(identity.encode()).hexdigest()

    async def get(self, key: str) -> tuple[dict[str, Any] | None, bytes]:
        """The cached ``data`` of ``key`` if it is of the current generation, and that
        generation; one round trip to Redis. Counts a hit or a miss."""
        generation, cached = await self._redis.get_many(GENERATION, key)
        generation = generation or b"0"
        stored_generation, _, payload = (cached or b"").partition(b"\n")
        if cached is None or stored_generation != generation:
            self.misses += 1
            return None, generation
        self.hits += 1
        data: dict[str, Any] = msgspec.json.decode(payload)
        return data, generation

    async def put(self, key: str, generation: bytes, payload: bytes) -> None:
        """Cache ``payload`` (an answer's data as JSON), computed at ``generation``, for the TTL
        give or take the jitter.

        A batch committed meanwhile has bumped the generation: the answer then never hits.
        """
        ttl = self._ttl * (1 + random.uniform(0, _JITTER))  # noqa: S311 - spreading expiry, not secrecy
        value = generation + b"\n" + payload
        await self._redis.set(key, value, ttl)
