"""A minimal HTTP/1.1 keep-alive client for timing the API, not the client.

httpx adds about 2 ms of its own to every request on the benchmark machine, as much as the
API spends on a cached answer; this client writes a request and reads a Content-Length body
on one kept-open connection, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

__all__ = ["KeepAliveClient"]


class KeepAliveClient:
    """One connection to ``127.0.0.1:port``, one request at a time."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self._port = port
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> KeepAliveClient:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def post_json(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST ``body`` as JSON; return the status and the decoded JSON answer."""
        if self._reader is None or self._writer is None:
            raise RuntimeError("open the client with `async with` first")
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self._headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self._writer.write(head.encode() + payload)
        await self._writer.drain()
        status = int((await self._reader.readline()).split()[1])
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answer: dict[str, Any] = json.loads(await self._reader.readexactly(length))
        return status, answer
