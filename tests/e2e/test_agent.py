"""The collector agent as a real process (`procmon collect --interval 1`) against a broker of the
test's own behind a cuttable proxy, with real workers storing into PostgreSQL: nothing taken
while the broker is away is lost, across a kill -9 too, and SIGTERM ends it cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from procmon.envelope import decode_envelope
from procmon.kafka import ensure_topics
from procmon.spool import Spool
from tests.conftest import migrated_database, stored_counts
from tests.e2e.harness import CuttableProxy, Workers, read_topic, wait_for, worker_settings

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

_TAKEN = re.compile(r"took the listing at (\S+)")


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_database("procmon_agent") as url:
        yield url


@pytest.fixture
def workers(
    broker_proxy: CuttableProxy, database: str, redis_prefix: str, tmp_path: Path
) -> Iterator[Workers]:
    """Workers of a topic of their own, reaching the broker through the proxy (cut with it)."""
    settings = worker_settings(
        f"127.0.0.1:{broker_proxy.port}",
        database,
        redis_prefix,
        db_retry_attempts=40,
        parking_dir=tmp_path / "parked",
        spool_dir=tmp_path / "spool",
        kafka_send_timeout=2.0,
    )
    asyncio.run(ensure_topics(settings))
    group = Workers(settings, tmp_path / "workers")
    group.log_dir.mkdir()
    group.start()
    yield group
    group.stop_all()


class Agent:
    """Runs of `procmon collect --interval 1` with the workers' settings and a HOME of its own
    (where a machine without /etc/machine-id keeps its id: the same across runs)."""

    def __init__(self, workers: Workers, tmp_path: Path) -> None:
        self.spool_dir = workers.settings.spool_dir
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
        self._env |= workers.settings.environment() | {"HOME": str(tmp_path / "home")}
        self._tmp_path = tmp_path
        self.runs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log_path = self._tmp_path / f"agent-{len(self.runs)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "procmon", "collect", "--interval", "1"],
                env=self._env,
                stderr=log,
                stdout=log,
            )
        self.runs.append((process, log_path))
        return process

    def messages(self, run: int = -1) -> list[str]:
        """What the agent's run logged (JSON lines), procmon's own lines."""
        text = self.runs[run][1].read_text(errors="replace")
        records = (json.loads(line) for line in text.splitlines() if line.startswith("{"))
        return [r["message"] for r in records if r["logger"].startswith("procmon")]

    def taken(self, run: int = -1) -> list[datetime]:
        """When each listing of the run was taken."""
        found = (_TAKEN.match(message) for message in self.messages(run))
        return [datetime.fromisoformat(match[1]) for match in found if match]

    def stop(self) -> int:
        """SIGTERM the running agent; its exit code."""
        process = self.runs[-1][0]
        process.send_signal(signal.SIGTERM)
        return process.wait(60)

    def kill(self) -> None:
        process = self.runs[-1][0]
        process.send_signal(signal.SIGKILL)
        process.wait()


@pytest.fixture
def agent(workers: Workers, tmp_path: Path) -> Iterator[Agent]:
    runs = Agent(workers, tmp_path)
    yield runs
    for process, _ in runs.runs:
        if process.poll() is None:
            process.kill()
            process.wait()


def _stored_timestamps(database: str) -> list[datetime]:
    with psycopg.connect(database) as conn:
        rows = conn.execute('SELECT "timestamp" FROM commands ORDER BY 1').fetchall()
    return [row[0] for row in rows]


def _spooled_timestamps(spool_dir: Path) -> list[datetime]:
    timestamps = []
    for path in sorted(spool_dir.glob("*.listing")):
        body = path.read_bytes()
        key_length = int.from_bytes(body[:4], "big")
        timestamps.append(decode_envelope(body[4 + key_length :]).timestamp)
    return timestamps


def _all_stored(database: str, expected: list[datetime]) -> None:
    """Wait until the listings taken at ``expected`` are stored, then check they alone are."""
    try:
        wait_for(lambda: stored_counts(database)[0] >= len(expected), "the listings stored")
    except AssertionError as exc:
        missing = sorted(set(expected) - set(_stored_timestamps(database)))
        raise AssertionError(f"{exc}; missing: {[t.isoformat() for t in missing]}") from exc
    time.sleep(1)  # anything stored twice, or unexpected, would show up by now
    assert _stored_timestamps(database) == sorted(expected)
    assert stored_counts(database)[2] == 0, "no dead letter"


def _reported(pattern: str, messages: list[str]) -> list[int]:
    return [int(match[1]) for match in map(re.compile(pattern).search, messages) if match]


def test_broker_away_for_20_s_loses_no_listing(
    broker_proxy: CuttableProxy, agent: Agent, workers: Workers, database: str
) -> None:
    process = agent.start()
    wait_for(lambda: stored_counts(database)[0] >= 3, "the first listings stored")
    broker_proxy.cut()
    time.sleep(20)
    assert process.poll() is None, "the agent runs on while the broker is away"
    assert len(Spool(agent.spool_dir, 1 << 30)) >= 15, "it kept taking listings meanwhile"
    broker_proxy.restore()
    wait_for(lambda: any("takes listings again" in m for m in agent.messages()), "the broker")
    assert agent.stop() == 0
    taken = agent.taken()
    _all_stored(database, taken)
    # They reached the topic in the order they were taken (a late acknowledgement may have
    # sent one twice, the first copy in order: the first records then hold one fewer).
    records = read_topic(workers.settings.kafka_bootstrap, workers.settings.topic, len(taken))
    published = list(dict.fromkeys(decode_envelope(record.value).timestamp for record in records))
    assert published == taken[: len(published)]
    messages = agent.messages()
    # Every tick between the first and the last was taken, or said skipped.
    skipped = sum(_reported(r"skipped (\d+) tick", messages))
    assert len(taken) + skipped == round((taken[-1] - taken[0]).total_seconds()) + 1
    # It says how many it spooled: those waiting when the broker first failed, then each one
    # taken while it was away, and in all once it answered.
    waiting_at_first = _reported(r"(\d+) listing\(s\) wait in the spool", messages)[0]
    spooled_since = sum("spooled a listing while the broker is away" in m for m in messages)
    (spooled_in_all,) = _reported(r"(\d+) were spooled while it was away", messages)
    assert spooled_in_all == waiting_at_first + spooled_since >= 15
    assert len(Spool(agent.spool_dir, 1 << 30)) == 0


def test_listings_spooled_before_a_kill_9_are_sent_by_the_next_run(
    broker_proxy: CuttableProxy, agent: Agent, database: str
) -> None:
    agent.start()
    wait_for(lambda: stored_counts(database)[0] >= 2, "the first listings stored")
    broker_proxy.cut()
    wait_for(lambda: len(Spool(agent.spool_dir, 1 << 30)) >= 5, "listings in the spool")
    agent.kill()
    spooled = _spooled_timestamps(agent.spool_dir)
    # What a kill in the middle of writing a listing leaves (whole files are renamed into place).
    (agent.spool_dir / "00000000000000000001.listing.tmp").write_bytes(b"\x00\x00")
    broker_proxy.restore()
    agent.start()
    wait_for(lambda: any("takes listings again" in m for m in agent.messages()), "the spool")
    assert agent.stop() == 0
    assert "removed 1 half-written file(s) a killed agent left in the spool" in agent.messages()
    assert not list(agent.spool_dir.glob("*.tmp"))
    # A listing is spooled before its tick is logged as taken: none is lost to the kill (the
    # spool may hold one the kill kept from being logged).
    expected = sorted(set(agent.taken(0) + agent.taken(1) + spooled))
    assert len(spooled) >= 5
    _all_stored(database, expected)


def test_sigterm_ends_the_agent_with_0_once_its_listings_are_sent(
    agent: Agent, database: str
) -> None:
    agent.start()
    wait_for(lambda: len(agent.taken()) >= 3, "three listings taken")
    assert agent.stop() == 0
    assert "stopped; 0 listing(s) left in the spool" in agent.messages()[-1]
    _all_stored(database, agent.taken())
