"""The ASGI application of the API (``/graphql`` and ``/healthz``) and the server running it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from graphql_api.context import ApiContext, new_context
from graphql_api.db import ApiPool, check_health, create_pool
from graphql_api.schema import schema
from procmon.settings import Settings

__all__ = ["create_app", "run_api"]


class _GraphQL(GraphQL[ApiContext, None]):
    """Strawberry's ASGI view, giving each request a fresh :class:`ApiContext`."""

    def __init__(self, pool: ApiPool) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self._pool = pool

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ApiContext:
        """Build the context of one request."""
        return new_context(self._pool)


def create_app(settings: Settings) -> Starlette:
    """Build the API: ``/graphql`` (GraphiQL on GET from a browser) and ``/healthz``.

    The pool opens in the lifespan without waiting for PostgreSQL, so the API starts, and
    reports itself unavailable on ``/healthz``, while the database is unreachable.
    """
    pool = create_pool(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await pool.open(wait=False)
        try:
            yield
        finally:
            await pool.close()

    async def healthz(_: Request) -> JSONResponse:
        reason = await check_health(pool)
        if reason is None:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

    return Starlette(
        routes=[Route("/graphql", _GraphQL(pool)), Route("/healthz", healthz, methods=["GET"])],
        lifespan=lifespan,
    )


def run_api(settings: Settings) -> None:
    """Serve the API on ``settings.api_host:settings.api_port`` until interrupted."""
    level = logging.getLevelNamesMapping()[settings.log_level]
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=level,
        # A lifespan failure must stop the server rather than leave it serving without a pool.
        lifespan="on",
    )
