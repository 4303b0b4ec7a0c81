"""Request bodies over PROCMON_API_MAX_BODY_BYTES get 413 before anything reads them whole."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from tests.graphql_api.conftest import Fleet, Serve

LIMIT = 200
MESSAGE = "is larger than the API's limit of 200 bytes (PROCMON_API_MAX_BODY_BYTES)"


async def test_a_body_within_the_limit_is_answered(
    fleet: Fleet, database_url: str, serve: Serve
) -> None:
    async with serve(database_url, api_max_body_bytes=LIMIT) as client:
        response = await client.post("/graphql", json={"query": "{ machines { machineId } }"})
    assert response.status_code == 200
    assert len(response.json()["data"]["machines"]) == 3


async def test_a_body_declared_too_large_is_refused(database_url: str, serve: Serve) -> None:
    body = json.dumps({"query": "{ machines { machineId } }" + " " * LIMIT}).encode()
    async with serve(database_url, api_max_body_bytes=LIMIT) as client:
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    message = response.json()["errors"][0]["message"]
    assert message == f"request body of {len(body)} bytes {MESSAGE}"


async def test_a_streamed_body_growing_too_large_is_refused(
    database_url: str, serve: Serve
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the size shows only as the body arrives.
        yield b'{"query": "{ machines { machineId } }'
        for _ in range(10):
            yield b" " * 50
        yield b'"}'

    async with serve(database_url, api_max_body_bytes=LIMIT) as client:
        response = await client.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == f"request body {MESSAGE}"
