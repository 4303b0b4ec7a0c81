"""The ASGI application of the API and the server running it."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import msgspec
import uvicorn
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from uvicorn.supervisors import Multiprocess

from graphql_api.auth import KeyCheck, RequireKey
from graphql_api.body_limit import LimitBody
from graphql_api.budget import Budget
from graphql_api.cache import ResponseCache
from graphql_api.context import ApiContext, new_context
from graphql_api.db import ApiPool, check_health, create_export_pool, create_pool
from graphql_api.errors import is_internal_error
from graphql_api.export import export_processes
from graphql_api.graphiql import ASSET_ROUTE, asset, ide_page
from graphql_api.metrics import ApiMetrics
from graphql_api.schema import build_schema
from procmon.cache import FailOpenRedis
from procmon.logs import configure_logging
from procmon.settings import Settings, load_settings

__all__ = ["app_from_environment", "create_app", "listening_socket", "run_api"]


def _role(request: Request | WebSocket) -> str:
    """The role :class:`graphql_api.auth.RequireKey` found for the request's key."""
    return str(getattr(request.state, "role", "reader"))


# Deeper request bodies are refused before graphql-core walks them (recursively).
MAX_BODY_DEPTH = 64


def _depth(value: object) -> int:
    """How deeply JSON arrays and objects nest in ``value``, without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_BODY_DEPTH:
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest


class _GraphQL(GraphQL[ApiContext, None]):
    """Strawberry's ASGI view: a fresh :class:`ApiContext` (and budget) per request, answers
    within a size limit, those not too large cached."""

    def __init__(
        self, pool: ApiPool, cache: ResponseCache, metrics: ApiMetrics, settings: Settings
    ) -> None:
        super().__init__(build_schema(settings), graphql_ide="graphiql")
        self._pool = pool
        self._cache = cache
        self._metrics = metrics
        self._settings = settings

    async def render_graphql_ide(self, request: Request) -> Response:
        """procmon's GraphiQL page, its assets served by the API (no CDN)."""
        return ide_page()

    def decode_json(self, data: str | bytes) -> object:
        """The request's JSON, which must be an object (or a list, refused as a batch)."""
        try:
            value = json.loads(data)
        except RecursionError as exc:
            raise HTTPException(400, f"request body nests deeper than {MAX_BODY_DEPTH}") from exc
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"request body is not UTF-8: {exc.reason}") from exc
        except ValueError as exc:
            raise HTTPException(400, f"request body is not JSON: {exc}") from exc
        if not isinstance(value, dict | list):
            raise HTTPException(400, 'request body must be a JSON object: {"query": "...", ...}')
        if _depth(value) > MAX_BODY_DEPTH:
            raise HTTPException(400, f"request body nests deeper than {MAX_BODY_DEPTH}")
        return value

    def encode_json(self, data: object) -> bytes:
        """The response as JSON, by msgspec: a tenth of the json module's time on a page."""
        return msgspec.json.encode(data)

    def _sized(self, result: ExecutionResult) -> tuple[ExecutionResult, bytes | None]:
        """The result, or an error in its place when its data is over the size limit; and
        its data as JSON."""
        if result.data is None:
            return result, None
        payload = msgspec.json.encode(result.data)
        limit = self._settings.api_max_response_bytes
        if len(payload) <= limit:
            return result, payload
        message = (
            f"the answer is {len(payload)} bytes, over the limit of {limit} bytes"
            " (PROCMON_API_MAX_RESPONSE_BYTES); ask for fewer fields, rows or aliases"
        )
        return ExecutionResult(data=None, errors=[GraphQLError(message)]), None

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: ApiContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Answer from the cache when it can; cache every answer without errors."""
        self._metrics.requests.inc()
        with self._metrics.latency.time():
            key = self._cache.key_for(
                request_data.query,
                request_data.variables,
                request_data.operation_name,
                _role(request),
            )
            if key is not None:
                data, generation = await self._cache.get(key)
                if data is not None:
                    return ExecutionResult(data=data, errors=None)
            result, payload = self._sized(
                await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
            )
            # An answer too large to cache would only make Redis slow for every client.
            cacheable = payload is not None and len(payload) <= self._settings.api_cache_max_bytes
            if key is not None and payload is not None and cacheable and not result.errors:
                await self._cache.put(key, generation, payload)
        for error in result.errors or ():
            self._metrics.errors.labels("server" if is_internal_error(error) else "client").inc()
        return result

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ApiContext:
        """Build the context of one request, with the whole of its budget."""
        budget = Budget.start(
            self._settings.api_request_seconds,
            self._settings.api_request_rows,
            self._settings.api_max_response_bytes,
        )
        return new_context(
            self._pool,
            budget,
            page_size=self._settings.api_page_size,
            max_page_size=self._settings.api_max_page_size,
            role=_role(request),
        )


def create_app(settings: Settings) -> Starlette:
    """Build the API: ``/graphql`` (GraphiQL on GET from a browser, its assets under
    ``/graphiql/``), ``/export/processes``, ``/healthz``, ``/metrics``.

    ``/graphql`` and ``/export/processes`` need an API key unless ``api_require_key`` is off
    (see graphql_api.auth). No request body over ``api_max_body_bytes`` is read.

    The pool opens in the lifespan without waiting for PostgreSQL, so the API starts, and
    reports itself unavailable on ``/healthz``, while the database is unreachable.
    """
    pool = create_pool(settings)
    export_pool = create_export_pool(settings)
    redis = FailOpenRedis(settings.redis_url, settings.redis_prefix)
    cache = ResponseCache(
        redis,
        settings.cache_ttl,
        shaped_by=(settings.api_page_size, settings.api_max_page_size),
    )
    metrics = ApiMetrics(cache)
    keys = KeyCheck(pool, redis, settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await pool.open(wait=False)
        await export_pool.open(wait=False)
        try:
            yield
        finally:
            await export_pool.close()
            await pool.close()
            await redis.close()

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> JSONResponse:
        reason = await check_health(pool)
        if reason is None:
            return JSONResponse(
                {"status": "ok", "cache": {"hits": cache.hits, "misses": cache.misses}}
            )
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

    return Starlette(
        routes=[
            Route(
                "/graphql",
                RequireKey(_GraphQL(pool, cache, metrics, settings), keys, serves_ide=True),
            ),
            Route(
                "/export/processes",
                RequireKey(
                    request_response(
                        partial(
                            export_processes,
                            pool=export_pool,
                            write_timeout=settings.api_export_write_timeout,
                        )
                    ),
                    keys,
                ),
                methods=["GET"],
            ),
            Route(ASSET_ROUTE, asset, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        middleware=[Middleware(LimitBody, max_bytes=settings.api_max_body_bytes)],
        lifespan=lifespan,
    )


def run_api(settings: Settings, workers: int = 1) -> None:
    """Serve the API on ``settings.api_host:settings.api_port`` until interrupted or SIGTERM.

    With more than one worker, this process holds the socket and starts ``workers`` processes
    that accept from it (uvicorn's supervisor, which replaces one that dies); each builds its
    app with :func:`app_from_environment`, reading its settings from the environment as every
    procmon process does, so ``settings`` must be the environment's (as ``procmon api`` has
    them). SIGTERM stops the workers, each finishing its requests in flight, then this process.
    """
    options: dict[str, Any] = {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_level": logging.getLevelNamesMapping()[settings.log_level],
        # A lifespan failure must stop the server rather than leave it serving without a pool.
        "lifespan": "on",
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    config = uvicorn.Config(
        f"{__name__}:{app_from_environment.__name__}", factory=True, workers=workers, **options
    )
    Multiprocess(config, sockets=[listening_socket(config)]).run()


def listening_socket(config: uvicorn.Config) -> socket.socket:
    """The socket of ``config``, bound, for worker processes to accept from.

    uvicorn binds it with protocol 0, and asyncio sets TCP_NODELAY only on connections
    accepted from a socket whose protocol is TCP: without it, every answer on a kept-alive
    connection waited about 40 ms for the client's delayed ACK (uvicorn issue #3149).
    """
    bound = config.bind_socket()
    return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())


def app_from_environment() -> Starlette:
    """The app of one API worker process, from the ``PROCMON_*`` settings it was started with."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
