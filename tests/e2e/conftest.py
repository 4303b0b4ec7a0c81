"""The end-to-end fixture: a running `procmon up`, one per test module."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from procmon.database import drop_database
from procmon.devstack import free_port, start_dev_broker
from tests.conftest import REDIS_URL, drop_redis_keys, fresh_database_url
from tests.e2e.harness import CuttableProxy, proxy_to

__all__ = ["RunningStack", "running_stack", "start_procmon_up"]


@dataclass
class RunningStack:
    """A running `procmon up` and what it printed."""

    process: subprocess.Popen[str]
    graphql_url: str
    metrics_url: str
    bootstrap: str
    database_url: str
    redis_prefix: str
    env: dict[str, str]
    api_key: str

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(
            self.graphql_url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_procmon_up(
    env: dict[str, str], log_path: Path, *args: str
) -> tuple[subprocess.Popen[str], dict[str, str], threading.Event]:
    """Start `procmon up ARGS` in a session of its own, logging to LOG_PATH; return the process,
    the addresses it prints (filled in as it prints them) and an event set once the key is out.

    It starts with SIGINT ignored, as a shell starts a background job (and CI, this suite): the
    tests' Ctrl-C must stop it all the same.
    """
    log_file = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "procmon", "up", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_sigint,
    )
    log_file.close()
    printed: dict[str, str] = {}
    ready = threading.Event()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            for key in ("GraphiQL", "broker", "metrics", "API key"):
                match = re.match(rf"\s*{key}:\s+(\S+)", line)
                if match:
                    printed[key] = match.group(1)
            if "API key" in printed:
                ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    return process, printed, ready


def procmon_up_environment(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    redis_prefix: str,
    **settings: str,
) -> dict[str, str]:
    """The environment of a `procmon up` of a test's own: its database, Redis prefix, API port
    and HOME, quick batches, and ``settings`` (PROCMON_ variables) on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    return env | {
        "PROCMON_DATABASE_URL": database_url,
        "PROCMON_REDIS_URL": REDIS_URL,
        "PROCMON_REDIS_PREFIX": redis_prefix,
        "PROCMON_API_PORT": str(free_port()),
        "PROCMON_BATCH_TIMEOUT": "0.2",
        # `procmon up` keeps its key and settings files under HOME: not in the user's.
        "HOME": str(tmp_path_factory.mktemp("home")),
        **settings,
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with running_stack(tmp_path_factory) as running:
        yield running


@contextlib.contextmanager
def running_stack(
    tmp_path_factory: pytest.TempPathFactory, **settings: str
) -> Iterator[RunningStack]:
    """A `procmon up` of its own (``settings``: PROCMON_ variables on top), until the block
    ends; its database and Redis keys are dropped then."""
    redis_prefix = f"procmon-e2e-{uuid.uuid4().hex[:12]}"
    database_url = fresh_database_url("procmon_e2e")
    env = procmon_up_environment(tmp_path_factory, database_url, redis_prefix, **settings)
    log_path = tmp_path_factory.mktemp("e2e") / "stack.log"
    process, printed, ready = start_procmon_up(env, log_path)
    try:
        assert ready.wait(120), f"`procmon up` printed no GraphiQL address:\n{log_path.read_text()}"
        yield RunningStack(
            process,
            printed["GraphiQL"],
            printed["metrics"],
            printed["broker"],
            database_url,
            redis_prefix,
            env
            | {
                "PROCMON_KAFKA_BOOTSTRAP": printed["broker"],
                "PROCMON_KAFKA_IDEMPOTENCE": "false",
            },
            printed["API key"],
        )
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        drop_database(database_url)
        drop_redis_keys(redis_prefix)


@pytest.fixture
def broker_proxy() -> Iterator[CuttableProxy]:
    """A broker of the test's own, which clients reach only through a cuttable proxy.

    The proxy's port is the broker's advertised address, so that every connection a client
    makes after bootstrapping (to the partition leader, to the group coordinator) crosses it.
    """
    port = free_port()
    with proxy_to(port) as proxy:
        process, _ = start_dev_broker(port=port, advertised_port=proxy.port)
        try:
            yield proxy
        finally:
            process.kill()
            process.wait()
