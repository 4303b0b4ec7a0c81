"""The API-key check in front of the API's data routes (``/graphql``, ``/export/...``).

A request carries ``Authorization: Bearer <key>``; the key's role goes into the request's
state for the context and the cache key. Verdicts are remembered for ``api_key_cache_seconds``
(10 s by default), so a busy client costs no database round trip per request, and a revoked
key stops working within that time. The GraphiQL page itself is served without a key: it
sends one with each query it runs (set it in the Headers tab).
"""

from __future__ import annotations

import logging
import time
from functools import partial

import psycopg
from psycopg_pool import PoolTimeout
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.db import ApiPool, using_connection
from procmon.api_keys import Role, hash_token, role_of

__all__ = ["KeyCheck", "RequireKey"]

log = logging.getLogger(__name__)

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
    """Who a request's key says the caller is; verdicts are kept ``verdict_seconds``."""

    def __init__(self, pool: ApiPool, required: bool, verdict_seconds: float) -> None:
        self._pool = pool
        self._required = required
        self._verdict_seconds = verdict_seconds
        self._verdicts: dict[bytes, tuple[Role | None, float]] = {}

    async def role(self, request: Request) -> Role | JSONResponse:
        """The caller's role, or the response refusing the request."""
        if not self._required:
            return "reader"
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized(_MISSING)
        token = token.strip()
        digest = hash_token(token)
        cached = self._verdicts.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            role = cached[0]
        else:
            try:
                role = await using_connection(self._pool, partial(role_of, token=token))
            except (PoolTimeout, psycopg.Error):
                log.exception("could not check an API key")
                return JSONResponse(
                    {"errors": [{"message": "API keys cannot be checked now; try again shortly"}]},
                    status_code=503,
                )
            if len(self._verdicts) > 10_000:
                self._verdicts.clear()
            self._verdicts[digest] = (role, time.monotonic() + self._verdict_seconds)
        return _unauthorized(_INVALID) if role is None else role


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
            role = await self._check.role(request)
            if isinstance(role, JSONResponse):
                await role(scope, receive, send)
                return
            scope.setdefault("state", {})["role"] = role
        await self._app(scope, receive, send)
