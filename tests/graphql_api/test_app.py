"""The ASGI app's routes besides GraphQL queries, and ``run_api`` as a real server process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx
import psycopg

from tests.conftest import fresh_database_url
from tests.graphql_api.conftest import Fleet, Serve, post

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_healthz_is_ok_when_the_database_answers(database_url: str, serve: Serve) -> None:
    async with serve(database_url) as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "cache": {"hits": 0, "misses": 0}},
    )


async def test_healthz_is_unavailable_when_the_database_is_missing(serve: Serve) -> None:
    # The app must come up anyway: the pool opens without waiting for a first connection.
    async with serve(fresh_database_url("procmon_missing"), require_key=False) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "no database connection available within 1 s",
    }


async def test_graphiql_is_served_to_browsers(database_url: str, serve: Serve) -> None:
    async with serve(database_url) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_queries_also_work_over_get(fleet: Fleet, database_url: str, serve: Serve) -> None:
    async with serve(database_url) as client:
        response = await client.get("/graphql", params={"query": "{ machines { machineId } }"})
    assert response.status_code == 200
    assert [m["machineId"] for m in response.json()["data"]["machines"]] == [
        "z-host-1",
        "a-host-3",
        "b-host-2",
    ]


async def test_run_api_serves_until_terminated(database_url: str, redis_prefix: str) -> None:
    env = {
        **os.environ,
        "PROCMON_DATABASE_URL": database_url,
        "PROCMON_REDIS_PREFIX": redis_prefix,
        "PROCMON_API_HOST": "127.0.0.1",
        "PROCMON_API_PORT": str(free_port()),
        "PROCMON_LOG_LEVEL": "info",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from graphql_api import run_api; from procmon.settings import load_settings;"
        " run_api(load_settings())",
        cwd=PROJECT_ROOT,
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert server.stderr is not None
    log: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not (address := re.search(r"Uvicorn running on (http://\S+)", "".join(log))):
                line = await server.stderr.readline()
                assert line, f"the server exited early: {''.join(log)}"
                log.append(line.decode())
        async with httpx.AsyncClient(base_url=address[1]) as client:
            health = await client.get("/healthz")
        assert (health.status_code, health.json()) == (
            200,
            {"status": "ok", "cache": {"hits": 0, "misses": 0}},
        )
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(server.stderr.read(), 30)
        log.append(rest.decode())
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells it.
    assert await server.wait() == -signal.SIGTERM
    assert "Application shutdown complete." in "".join(log)
    assert "Traceback" not in "".join(log)


async def test_a_connection_postgres_closed_is_replaced_unseen(
    fleet: Fleet, database_url: str, serve: Serve
) -> None:
    async with serve(database_url) as client:
        assert "errors" not in await post(client, "{ machines { machineId } }")
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND application_name = ''"
            )
        # A new query string: no cached answer may hide what the connection does.
        body = await post(client, "{ machines { machineName } }")
    assert "errors" not in body
    assert len(body["data"]["machines"]) == 3
