"""Sending the spool: oldest first, each file deleted once acknowledged, and what is left said
when the broker does not answer (the agent's delivery under a cut broker: tests/e2e)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from procmon.delivery import Delivery, flush_spool
from procmon.devstack import free_port
from procmon.errors import CollectorError
from procmon.settings import Settings
from procmon.spool import Spool
from tests.e2e.harness import read_topic
from tests.procmon.controlled_clock import ControlledClock


def _settings(bootstrap: str, spool_dir: Path) -> Settings:
    return Settings(
        kafka_bootstrap=bootstrap,
        kafka_idempotence=False,
        kafka_send_timeout=2.0,
        topic=f"delivery-{uuid.uuid4().hex[:8]}",
        spool_dir=spool_dir,
    )


def _spool(settings: Settings, count: int) -> Spool:
    spool = Spool(settings.spool_dir, settings.spool_max_bytes)
    for n in range(count):
        spool.put(b"machine-1", f'{{"n": {n}}}'.encode())
    return spool


def test_flush_sends_the_spool_oldest_first_and_empties_it(broker: str, tmp_path: Path) -> None:
    settings = _settings(broker, tmp_path / "spool")
    spool = _spool(settings, 5)
    assert asyncio.run(flush_spool(settings)) == 5
    assert len(spool) == 0
    records = read_topic(broker, settings.topic, 5)
    assert [(r.key, r.value) for r in records] == [
        (b"machine-1", f'{{"n": {n}}}'.encode()) for n in range(5)
    ]


def test_flush_with_the_broker_away_keeps_the_spool_and_says_what_is_left(tmp_path: Path) -> None:
    settings = _settings(f"127.0.0.1:{free_port()}", tmp_path / "spool")
    spool = _spool(settings, 3)
    with pytest.raises(CollectorError, match=r"3 listing\(s\) left in .*spool$"):
        asyncio.run(flush_spool(settings))
    assert len(spool) == 3


def test_flush_of_an_empty_spool_needs_no_broker(tmp_path: Path) -> None:
    settings = _settings(f"127.0.0.1:{free_port()}", tmp_path / "spool")
    assert asyncio.run(flush_spool(settings)) == 0


def _procmon(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    return subprocess.run(
        [sys.executable, "-m", "procmon", *args],
        env=env | settings.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_spool_flush_with_the_broker_away_is_one_line_and_exit_2(tmp_path: Path) -> None:
    settings = _settings(f"127.0.0.1:{free_port()}", tmp_path / "spool")
    _spool(settings, 2)
    result = _procmon(settings, "spool", "flush")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"procmon: error: the broker at {settings.kafka_bootstrap} did not")
    assert line.endswith(f"2 listing(s) left in {settings.spool_dir}")


def test_spool_status_and_flush_from_the_command_line(broker: str, tmp_path: Path) -> None:
    settings = _settings(broker, tmp_path / "spool")
    _spool(settings, 2)
    status = _procmon(settings, "spool", "status")
    assert status.returncode == 0
    lines = dict(line.split(maxsplit=1) for line in status.stdout.splitlines())
    assert (lines["directory"], lines["files"], lines["dropped"]) == (
        str(settings.spool_dir),
        "2",
        "0",
    )
    assert int(lines["bytes"]) > 0
    flushed = _procmon(settings, "spool", "flush")
    assert (flushed.returncode, flushed.stderr) == (0, "sent 2 spooled listing(s)\n")
    assert "files      0\n" in _procmon(settings, "spool", "status").stdout


class _Retries(logging.Handler):
    """The waits the delivery logs before each try of the broker, ``done`` after ``count``."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.waits: list[int] = []
        self.done = asyncio.Event()
        self._count = count

    def emit(self, record: logging.LogRecord) -> None:
        match = re.search(r"trying again in (\d+) s", record.getMessage())
        if match:
            self.waits.append(int(match[1]))
            if len(self.waits) == self._count:
                self.done.set()


def test_an_away_broker_is_tried_again_with_doubling_backoff_up_to_30_s(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(f"127.0.0.1:{free_port()}", tmp_path / "spool")
    spool = Spool(settings.spool_dir, settings.spool_max_bytes)
    logger = logging.getLogger("procmon.delivery")

    async def main() -> list[int]:
        retries = _Retries(7)
        logger.addHandler(retries)
        try:
            delivery = Delivery(settings, spool, ControlledClock(1_800_000_000.0))
            delivery.submit((b"machine-1", b"first"))
            running = asyncio.create_task(delivery.run())
            await retries.done.wait()
            delivery.submit((b"machine-1", b"second"))
            delivery.finish()
            await running
        finally:
            logger.removeHandler(retries)
        return retries.waits

    with caplog.at_level(logging.WARNING, logger="procmon.delivery"):
        waits = asyncio.run(asyncio.wait_for(main(), 60))
    assert waits[:7] == [1, 2, 4, 8, 16, 30, 30]
    assert "spooled a listing while the broker is away: 2 spooled since, 2 in the spool" in (
        caplog.text
    )
    assert len(spool) == 2
    oldest = spool.oldest()
    assert oldest is not None
    assert (oldest.key, oldest.value) == (b"machine-1", b"first")
