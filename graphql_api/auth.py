"""The API-key check in front of the API's data routes (``/graphql``, ``/export/...``).

A request carries ``Authorization: Bearer <key>``; the key's role goes into the request's
state for the context and the cache key. Each API process holds the SHA-256 and role of every
active key in memory, read in one query, so that neither a good key nor a wrong one costs a
database round trip of its own:

- the set is read again when a request comes and it is older than ``api_key_cache_seconds``
  (10 s by default; 0 reads it for every request): a revoked key stops working within that;
- a key that is not in the set has it read again, at most once per
  :data:`RELOAD_ON_MISS_SECONDS`: a key created a moment ago works within a second, and wrong
  keys, repeated or each different, cost at most one query a second whatever their rate;
- requests that need the set while it is being read wait for that one query.

Memory grows with the keys operators create (about 120 bytes each), never with requests:
wrong keys are not remembered one by one, they are simply not in the set.

A known key then passes the rate limit (:mod:`graphql_api.rate_limit`). The GraphiQL page
itself is served without a key: it sends one with each query it runs (the Headers tab).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

import psycopg
from psycopg_pool import PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.db import ApiPool, using_connection
from graphql_api.rate_limit import RateLimit
from procmon.api_keys import Role, active_keys, hash_token
from procmon.cache import FailOpenRedis
from procmon.settings import Settings

__all__ = ["RELOAD_ON_MISS_SECONDS", "KeyCheck", "RequireKey"]

log = logging.getLogger(__name__)

# Long enough that a flood of wrong keys costs the database one query a second per process,
# short enough that a key just created with `procmon apikey create` works at once for a user.
RELOAD_ON_MISS_SECONDS = 1.0

_MISSING = (
    "missing API key: send 'Authorization: Bearer <key>'"
    " (create one with `procmon apikey create --name NAME`)"
)
_INVALID = "invalid or revoked API key"


def _unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="procmon"'},
    )


class KeyCheck:
    """Who a request's key says the caller is, and whether the key may ask now."""

    def __init__(self, pool: ApiPool, redis: FailOpenRedis, settings: Settings) -> None:
        self._pool = pool
        self._required = settings.api_require_key
        self._fresh_seconds = settings.api_key_cache_seconds
        self._rate_limit = RateLimit(
            redis, limit=settings.api_rate_limit, window_seconds=settings.api_rate_window
        )
        self._keys: dict[bytes, Role] = {}
        # When the query of the set in use started, and when the last one started.
        self._loaded_at = -math.inf
        self._tried_at = -math.inf
        self._loading: asyncio.Task[None] | None = None

    async def admit(self, request: Request) -> Role | JSONResponse:
        """The caller's role, or the response refusing the request."""
        if not self._required:
            return "reader"
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized(_MISSING)
        digest = hash_token(token.strip())
        try:
            await self._refresh_for(digest)
        except (PoolTimeout, psycopg.Error):
            log.exception("could not read the API keys")
            return JSONResponse(
                {"errors": [{"message": "API keys cannot be checked now; try again shortly"}]},
                status_code=503,
            )
        role = self._keys.get(digest)
        if role is None:
            return _unauthorized(_INVALID)
        refusal = await self._rate_limit.refusal(digest)
        return role if refusal is None else refusal

    async def _refresh_for(self, digest: bytes) -> None:
        """Read the set again if it is stale, or if ``digest`` may be a key created since."""
        now = time.monotonic()
        unknown = digest not in self._keys
        if (
            now - self._loaded_at >= self._fresh_seconds
            or (unknown and self._loading is not None)
            or (unknown and now - self._tried_at >= RELOAD_ON_MISS_SECONDS)
        ):
            if self._loading is None:
                self._loading = asyncio.create_task(self._load())
                self._loading.add_done_callback(self._loaded)
            # Shielded: a client that goes away does not cancel the query the others wait on.
            await asyncio.shield(self._loading)

    async def _load(self) -> None:
        started = self._tried_at = time.monotonic()
        self._keys = await using_connection(self._pool, active_keys)
        self._loaded_at = started

    def _loaded(self, task: asyncio.Task[None]) -> None:
        self._loading = None
        if not task.cancelled():
            # Every waiter was given the error; this only marks it as seen.
            task.exception()


class RequireKey:
    """ASGI middleware of one route: refuse requests without a valid key, note the role."""

    def __init__(self, app: ASGIApp, check: KeyCheck, serves_ide: bool = False) -> None:
        self._app = app
        self._check = check
        self._serves_ide = serves_ide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the key of an HTTP request before the route sees it."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        ide_page = (
            self._serves_ide
            and request.method == "GET"
            and "text/html" in request.headers.get("accept", "")
            and "query" not in request.query_params
        )
        if not ide_page:
            role = await self._check.admit(request)
            if isinstance(role, JSONResponse):
                await role(scope, receive, send)
                return
            scope.setdefault("state", {})["role"] = role
        await self._app(scope, receive, send)
