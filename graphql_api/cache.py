"""The API's response cache: answers keyed by normalized query, sorted variables and role.

A key also holds the generation the worker bumps after each committed batch, so new data
retires every cached answer; a TTL with jitter bounds what a missed bump could leave stale.
Redis failing costs nothing but the cache (see :mod:`procmon.cache`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, parse, print_ast

from procmon.cache import GENERATION, FailOpenRedis

__all__ = ["ResponseCache"]

_JITTER = 0.1


class ResponseCache:
    """Cached ``data`` of successful query answers, with hit and miss counts."""

    def __init__(self, redis: FailOpenRedis, ttl_seconds: float) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self.hits = 0
        self.misses = 0

    async def key_for(
        self,
        query: str | None,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        role: str,
    ) -> str | None:
        """The cache key of a request, or ``None`` for one that does not parse (never cached)."""
        if not query:
            return None
        try:
            normalized = print_ast(parse(query))
        except GraphQLError:
            return None
        generation = (await self._redis.get(GENERATION) or b"0").decode()
        identity = json.dumps(
            [normalized, variables or {}, operation_name, role], sort_keys=True, default=str
        )
        digest = hashlib.sha256(identity.encode()).hexdigest()
        return f"response:{generation}:{digest}"

    async def get(self, key: str) -> dict[str, Any] | None:
        """The cached ``data`` of ``key``, counting a hit or a miss."""
        cached = await self._redis.get(key)
        if cached is None:
            self.misses += 1
            return None
        self.hits += 1
        data: dict[str, Any] = json.loads(cached)
        return data

    async def put(self, key: str, data: Mapping[str, Any]) -> None:
        """Cache ``data`` under ``key`` for the TTL, give or take the jitter."""
        ttl = self._ttl * (1 + random.uniform(0, _JITTER))  # noqa: S311 - spreading expiry, not secrecy
        await self._redis.set(key, json.dumps(data).encode(), ttl)
