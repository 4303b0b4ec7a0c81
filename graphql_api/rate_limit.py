"""A per-key rate limit: at most ``limit`` requests per fixed window of ``window`` seconds.

The count lives in Redis, so every API process of a deployment (``procmon api --workers``,
several hosts) shares it. A request costs one round trip: INCR and EXPIRE of the counter
``rate:<SHA-256 of the key, hex>:<window number>`` (the key itself never reaches Redis).
Windows are numbered from the Unix epoch, so processes agree on them without talking.

A fixed window is the cheapest shape that bounds a key: one counter, one round trip. Its
cost is that a client can make up to twice the limit across a window's boundary, which still
bounds what one key takes from the others. When Redis is away the limit fails open, as the
cache does: requests are served unlimited rather than refused.
"""

from __future__ import annotations

import math
import time

from starlette.responses import JSONResponse

from procmon.cache import FailOpenRedis

__all__ = ["RateLimit"]


class RateLimit:
    """At most ``limit`` requests per key per ``window_seconds``; a ``limit`` of 0 is none."""

    def __init__(self, redis: FailOpenRedis, limit: int, window_seconds: int) -> None:
        self._redis = redis
        self._limit = limit
        self._window = window_seconds

    async def refusal(self, key_hash: bytes) -> JSONResponse | None:
        """``None`` when the key may make this request, else the 429 answer to send."""
        if self._limit == 0:
            return None
        now = time.time()
        window = int(now // self._window)
        count = await self._redis.count(f"rate:{key_hash.hex()}:{window}", self._window)
        if count is None or count <= self._limit:
            return None
        retry_after = max(1, math.ceil((window + 1) * self._window - now))
        message = (
            f"rate limit exceeded: at most {self._limit} requests per {self._window} s"
            f" per API key; retry in {retry_after} s"
        )
        return JSONResponse(
            {
                "errors": [
                    {
                        "message": message,
                        "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
                    }
                ]
            },
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )
