"""GraphiQL from the package: its page and assets, and the page in headless Chromium offline."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import websockets

from procmon.api_keys import create_api_key
from procmon.devstack import free_port
from procmon.settings import Settings
from tests.graphql_api.conftest import Fleet, Serve, uvicorn_server

CHROMIUM = "/usr/bin/chromium"
ASSETS = (
    "graphiql.min.css",
    "graphiql.min.js",
    "react.production.min.js",
    "react-dom.production.min.js",
)


async def test_the_page_loads_its_assets_from_the_api(database_url: str, serve: Serve) -> None:
    async with serve(database_url) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        # The assets need no key: a browser fetches them before the page can send one.
        client.headers.pop("Authorization")
        assets = [await client.get(f"/graphiql/{name}") for name in ASSETS]
    assert page.status_code == 200
    assert "http://" not in page.text
    assert "https://" not in page.text
    for name, response in zip(ASSETS, assets, strict=True):
        assert f'"/graphiql/{name}"' in page.text
        assert response.status_code == 200, name
        assert len(response.content) > 10_000, name


async def test_the_asset_route_serves_only_the_assets(database_url: str, serve: Serve) -> None:
    async with serve(database_url) as client:
        responses = [
            await client.get(f"/graphiql/{name}")
            for name in ("refresh.sh", "SOURCES.md", "..%2Fapp.py", "missing.js")
        ]
    assert [response.status_code for response in responses] == [404, 404, 404, 404]


class _DevTools:
    """A minimal client of Chromium's DevTools protocol over one page's websocket."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.requested: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, noting requests the page makes meanwhile."""
        call_id = next(self._ids)
        await self._socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self._socket.recv())
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            if message.get("id") == call_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    async def text_of(self, selector: str) -> str:
        """The text shown by the first element matching ``selector`` ('' when none does)."""
        expression = f"document.querySelector({json.dumps(selector)})?.innerText ?? ''"
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return str(result["result"].get("value", ""))

    async def wait_for_text(self, selector: str, wanted: str, seconds: float = 30) -> str:
        """The text of ``selector`` once it contains ``wanted``; fails after ``seconds``."""
        deadline = time.monotonic() + seconds
        text = ""
        while time.monotonic() < deadline:
            text = await self.text_of(selector)
            if wanted in text:
                return text
            await asyncio.sleep(0.2)
        raise AssertionError(f"{selector} never showed {wanted!r}; it showed {text!r}")


@contextmanager
def _chromium() -> Iterator[str]:
    """Headless Chromium resolving no name but 127.0.0.1 (so no CDN can answer); yield the
    websocket URL of its page."""
    assert Path(CHROMIUM).exists(), "needs Debian's chromium (make test installs it)"
    port = free_port()
    profile = tempfile.mkdtemp(prefix="procmon-chromium-")
    try:
        browser = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own group: its helper processes (renderer, zygote) stop with it.
            start_new_session=True,
        )
        try:
            yield _page_socket(port)
        finally:
            os.killpg(browser.pid, signal.SIGTERM)
            browser.wait(10)
    finally:
        _remove_profile(profile)


def _remove_profile(profile: str) -> None:
    # Helpers of the browser may still write to the profile for a moment after it exits.
    deadline = time.monotonic() + 10
    while True:
        try:
            shutil.rmtree(profile)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _page_socket(port: int) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
            pages = [target for target in targets if target["type"] == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "Chromium's DevTools never answered"
        time.sleep(0.2)


@pytest.mark.e2e
@pytest.mark.timeout(120)
async def test_graphiql_runs_the_example_query_offline_in_chromium(
    fleet: Fleet, database_url: str, redis_prefix: str
) -> None:
    settings = Settings(database_url=database_url, redis_prefix=redis_prefix)
    key = create_api_key(database_url, name="browser", role="reader")
    with uvicorn_server(settings) as base, _chromium() as page_socket:
        async with websockets.connect(page_socket, max_size=None) as socket:
            tools = _DevTools(socket)
            await tools.call("Network.enable")
            await tools.call("Page.enable")
            await tools.call("Page.navigate", url=f"{base}/graphql#key={key}")
            query = await tools.wait_for_text(".graphiql-query-editor", "snapshotCount")
            headers = await tools.wait_for_text(".graphiql-editor-tool", "Authorization")
            run = "document.querySelector('.graphiql-execute-button').click()"
            await tools.call("Runtime.evaluate", expression=run)
            result = await tools.wait_for_text(".graphiql-response", "z-host-1")
    assert "Headers tab" in query
    assert f"Bearer {key}" in headers
    for machine in ('"b-host-2"', '"a-host-3"', '"machineName": "alpha"'):
        assert machine in result
    # Every request over the network went to the API (the styles inline fonts as data: URLs).
    fetched = [url for url in tools.requested if urlsplit(url).scheme not in {"data", "blob"}]
    assert {urlsplit(url).netloc for url in fetched} == {urlsplit(base).netloc}
    assert f"{base}/graphiql/graphiql.min.js" in fetched
