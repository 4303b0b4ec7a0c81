"""A bound on the size of a request's body, checked before any route reads it.

A GraphQL document is limited in tokens, depth and aliases once parsed (graphql_api.schema),
but parsing needs the whole body in memory first: this bound comes before that. A request
saying it is larger (``Content-Length``), or turning out larger as it streams, gets 413 and a
message naming the limit and its setting.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LimitBody"]


class LimitBody:
    """ASGI middleware refusing HTTP request bodies over ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body, read whole first, unless it is too large."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self._max_bytes:
            await self._refuse(f"request body of {int(declared)} bytes", scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client left: the app sees that, as it would have.
                await self._app(scope, _replay(message, receive), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self._max_bytes:
                await self._refuse("request body", scope, receive, send)
                return
            more = message.get("more_body", False)
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self._app(scope, _replay(body, receive), send)

    async def _refuse(self, what: str, scope: Scope, receive: Receive, send: Send) -> None:
        message = (
            f"{what} is larger than the API's limit of {self._max_bytes} bytes"
            " (PROCMON_API_MAX_BODY_BYTES)"
        )
        response = JSONResponse({"errors": [{"message": message}]}, status_code=413)
        await response(scope, receive, send)


def _replay(first: Message, receive: Receive) -> Receive:
    """A receive that hands out ``first``, then whatever ``receive`` gives."""
    pending = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
