"""Real processes for fault tests: the dev broker, workers, a cuttable TCP proxy to PostgreSQL.

Everything here runs on loopback and is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from procmon.envelope import Envelope, make_envelope
from procmon.settings import Settings

HEADER = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND"
ROWS_PER_SNAPSHOT = 3
BASE_TIME = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll ``check`` until it holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def snapshot_envelopes(count: int, machines: int = 16, start: int = 0) -> list[Envelope]:
    """``count`` distinct small `ps aux` snapshots spread over ``machines`` machines."""
    envelopes = []
    for n in range(start, start + count):
        rows = "\n".join(
            f"root {n * 10 + r + 1} 0.{r} 0.1 {1000 + r} {500 + r} ? S 10:00 0:01 /bin/p{r} --n {n}"
            for r in range(ROWS_PER_SNAPSHOT)
        )
        envelopes.append(
            make_envelope(
                raw_output=f"{HEADER}\n{rows}\n",
                machine_id=f"fault-{n % machines}",
                machine_name=f"fault-{n % machines}",
                os_type="linux",
                os_version="6.1",
                command_type="ps aux",
                timestamp=BASE_TIME + timedelta(seconds=n),
            )
        )
    return envelopes


async def _produce(bootstrap: str, topic: str, envelopes: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, e.to_bytes(), key=e.key) for e in envelopes]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def produce(bootstrap: str, topic: str, envelopes: list[Envelope]) -> None:
    """Publish envelopes and wait for every ack."""
    asyncio.run(_produce(bootstrap, topic, envelopes))


@dataclass
class Workers:
    """Worker processes of one consumer group, with their logs."""

    settings: Settings
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, database_url: str | None = None) -> subprocess.Popen[bytes]:
        """Start one more worker (optionally against another database URL)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
        changes: dict[str, object] = {"metrics_port": 0}
        if database_url is not None:
            changes["database_url"] = database_url
        env |= self.settings.model_copy(update=changes).environment()
        log = (self.log_dir / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "procmon", "worker"], env=env, stdout=log, stderr=log
        )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        """Everything the workers wrote so far."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def stop_all(self) -> None:
        """Stop every worker still running, forcefully after a grace period."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class CuttableProxy:
    """A loopback TCP proxy whose traffic can be cut (connections dropped, new ones refused)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._listener.listen(64)
        self._open = threading.Event()
        self._open.set()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every connection and refuse new ones until :meth:`restore`."""
        self._open.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        """Let connections through again."""
        self._open.set()

    def close(self) -> None:
        """Stop listening and drop everything."""
        self.cut()
        self._listener.close()


@contextlib.contextmanager
def proxy_to(port: int) -> Iterator[CuttableProxy]:
    """A :class:`CuttableProxy` to ``port`` for the duration of the block."""
    proxy = CuttableProxy(port)
    try:
        yield proxy
    finally:
        proxy.close()


def worker_settings(
    bootstrap: str, database: str, redis_prefix: str, **changes: object
) -> Settings:
    """Settings of a worker group of its own (topic, dead-letter topic, group) for a test."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    fields: dict[str, object] = {
        "kafka_bootstrap": bootstrap,
        "kafka_idempotence": False,
        "topic": name,
        "dead_letter_topic": f"{name}-dead",
        "consumer_group": name,
        "database_url": database,
        "session_timeout": 6,
        "heartbeat_interval": 1,
        "batch_size": 20,
        "batch_timeout": 0.2,
        "redis_prefix": redis_prefix,
    }
    return Settings.model_validate(fields | changes)


async def _produce_raw(
    bootstrap: str, topic: str, messages: Sequence[tuple[bytes | None, bytes]]
) -> list[tuple[int, int]]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, compression_type="lz4", max_request_size=2**24
    )
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for key, value in messages]
        acked = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return [(record.partition, record.offset) for record in acked]


def produce_raw(
    bootstrap: str, topic: str, messages: Sequence[tuple[bytes | None, bytes]]
) -> list[tuple[int, int]]:
    """Publish (key, value) messages as they are; return each one's (partition, offset)."""
    return asyncio.run(_produce_raw(bootstrap, topic, messages))


async def _read_topic(bootstrap: str, topic: str, count: int, seconds: float) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(seconds):
            async for record in consumer:
                found.append(record)
                if len(found) == count:
                    break
    finally:
        await consumer.stop()
    return found


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[Any]:
    """The first ``count`` records of ``topic`` (aiokafka ConsumerRecords)."""
    return asyncio.run(_read_topic(bootstrap, topic, count, timeout))
