"""Exports over real sockets: stalled clients cannot starve the API, and an export failing
after its status line ends so that clients notice."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from graphql_api.export import EXPORT_RETRY_AFTER
from procmon.api_keys import create_api_key
from procmon.settings import Settings
from tests.graphql_api.conftest import killing_export, uvicorn_server

pytestmark = pytest.mark.timeout(180)

STALLED = 20
EXPORT_CONNECTIONS = 4
WRITE_TIMEOUT = 4.0


def _stalled_export(base: str, token: str) -> tuple[socket.socket, str]:
    """Start an export, read its status line and headers, then read nothing more."""
    url = urlsplit(base)
    sock = socket.socket()
    # A small receive window, so that the server's writes block soon.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect((url.hostname or "127.0.0.1", url.port or 80))
    sock.sendall(
        f"GET /export/processes?format=csv HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(1)
        assert data, "the server closed before its headers"
        head += data
    return sock, head.decode("latin-1")


def _in_transaction(database_url: str) -> int:
    """Connections to the database left idle inside a transaction."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND state = 'idle in transaction'"""
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def settings(big_database: str, redis_prefix: str) -> Settings:
    return Settings(
        database_url=big_database,
        redis_prefix=redis_prefix,
        api_export_connections=EXPORT_CONNECTIONS,
        api_export_write_timeout=WRITE_TIMEOUT,
    )


def test_stalled_exports_leave_graphql_and_healthz_answering(settings: Settings) -> None:
    token = create_api_key(settings.database_url, name="stalls", role="reader")
    with uvicorn_server(settings) as base:
        with ThreadPoolExecutor(STALLED) as pool:
            stalled = list(pool.map(lambda _: _stalled_export(base, token), range(STALLED)))
        try:
            heads = [head for _, head in stalled]
            streaming = [h for h in heads if h.startswith("HTTP/1.1 200")]
            refused = [h for h in heads if h.startswith("HTTP/1.1 503")]
            assert 1 <= len(streaming) <= EXPORT_CONNECTIONS
            assert len(streaming) + len(refused) == STALLED
            assert all(f"retry-after: {EXPORT_RETRY_AFTER}" in h.lower() for h in refused)
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=5
            ) as http:
                assert http.get("/healthz").status_code == 200
                answer = http.post("/graphql", json={"query": "{ machines { machineId } }"})
                assert answer.json() == {"data": {"machines": [{"machineId": "big"}]}}
            # Past the write timeout, every stalled export has given its connection back.
            deadline = time.monotonic() + WRITE_TIMEOUT + 30
            while _in_transaction(settings.database_url) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _in_transaction(settings.database_url) == 0
        finally:
            for sock, _ in stalled:
                sock.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_an_export_failing_midway_is_an_error_for_curl(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    token = create_api_key(settings.database_url, name="curl", role="reader")
    with (
        uvicorn_server(settings) as base,
        caplog.at_level(logging.WARNING),
        killing_export(settings.database_url) as killed,
    ):
        done = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--limit-rate", "4M",
             "-H", f"Authorization: Bearer {token}", f"{base}/export/processes?format=ndjson"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert killed.is_set(), "the export's backend was terminated"
    assert done.stdout == "200"
    # 18: "Transfer closed with outstanding read data remaining" (the chunked body was cut).
    assert done.returncode == 18, done.stderr
    assert any("export cut after it started" in r.getMessage() for r in caplog.records)


def test_an_export_failing_before_any_row_gets_an_http_error(
    settings: Settings, redis_prefix: str
) -> None:
    # A pattern that backtracks over every command line: its first fetch outlasts the timeout.
    slow = Settings(
        database_url=settings.database_url,
        redis_prefix=redis_prefix,
        api_require_key=False,
        api_statement_timeout=0.05,
    )
    pattern = "%a%b%c%d%e%f%a%b%c%d%e%f%zzz"
    with uvicorn_server(slow) as base, httpx.Client(base_url=base, timeout=60) as http:
        response = http.get(
            "/export/processes", params={"filter": f'{{"commandLine": {{"like": "{pattern}"}}}}'}
        )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "export failed: a fetch ran longer than the API's statement timeout;"
                " ask for less"
            }
        ]
    }
