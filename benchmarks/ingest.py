"""End-to-end ingest rate of one worker beside the COPY floor, measured in the same run.

K snapshots of 150-process `ps aux` listings, made of real captured rows (benchmarks.corpus_ps),
go to the dev broker; one `procmon worker` process stores them. They are the listings of 200
machines a minute apart, each machine's showing the same processes with their CPU time
growing and now and then a pid reused (``ps_aux_history``), so that the worker links every
snapshot to the one before and measures interval CPU, as it does for a real fleet. Its rate
is every stored row over the time from the first batch's transaction start (the least
``received_at``) to the moment the last commit is seen (the count of snapshots is polled every
``_POLL_SECONDS``), so group joining is not counted and every batch is, whatever the batch size.
The floor is a plain ``COPY`` of the rows the worker stored (their history columns too), in
binary, into a fresh database with the same schema, run right after each of the worker's three
passes (each a consumer group of its own reading the whole topic into a fresh database); the
ratio is the median of the three pairs' ratios. One pass's rate varied by a third from run to
run on the 2-core benchmark machine, and its speed drifts over minutes: a floor timed minutes
after the worker's passes would have measured the drift with the pipeline.
The same worker then reads the same topic three times more into databases with the walking
skeleton's schema (``skeleton_schema.sql``), and its per-phase seconds
(``procmon_worker_phase_seconds``, summed over procmon's passes) say where the time went.
Every timed pass starts after a CHECKPOINT, so that none pays for the dirty pages another
left behind.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from psycopg import sql
from psycopg.conninfo import make_conninfo

from benchmarks.ingest_topic import PROCESSES_PER_SNAPSHOT, published_topics
from procmon.cache import GENERATION
from procmon.database import create_database, drop_database, migrate
from procmon.devstack import free_port
from procmon.kafka import ensure_topics
from procmon.migrations import packaged_migrations, record_as_applied
from procmon.partitions import ENSURE_PARTITIONS
from procmon.settings import Settings

__all__ = [
    "bench_ingest",
    "copy_processes",
    "dump",
    "ingest_pass",
    "worker_rate",
    "worker_settings",
]

_PHASE_LINE = re.compile(r'^procmon_worker_phase_seconds_total\{phase="(\w+)"\} (\S+)$', re.M)
SKELETON_SCHEMA = Path(__file__).with_name("skeleton_schema.sql")
_TIMEOUT_SECONDS = 1800
_WORKER_RUNS = 3
# Polled this often, a pass of a few seconds is timed to about 1%; each poll is one index-only
# count of a few thousand snapshots.
_POLL_SECONDS = 0.02
_DEAD_LETTER_CHECK_SECONDS = 1.0


def _run_worker(
    settings: Settings, snapshots: int, after_id: int
) -> tuple[dict[str, float], float]:
    """Run one worker until it stored ``snapshots`` (those of ids past ``after_id``); return
    its seconds per phase and the wall-clock time (``time.time()``) at which the last of them
    was first seen stored."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    env |= settings.environment()
    worker = subprocess.Popen(
        [sys.executable, "-m", "procmon", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + _TIMEOUT_SECONDS
        next_check = time.monotonic()
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM commands WHERE id > %s", (after_id,)
                ).fetchone()
                if row is not None and row[0] >= snapshots:
                    return _phase_seconds(settings), time.time()
                if time.monotonic() >= next_check:
                    # A pass that dead-letters its snapshots (a schema the worker no longer
                    # fits) would otherwise wait out the whole timeout.
                    refused = conn.execute("SELECT reason FROM ingest_errors LIMIT 1").fetchone()
                    if refused is not None:
                        raise RuntimeError(f"the worker dead-lettered a snapshot: {refused[0]}")
                    next_check = time.monotonic() + _DEAD_LETTER_CHECK_SECONDS
                time.sleep(_POLL_SECONDS)
        raise TimeoutError(f"the worker did not store {snapshots} snapshots in time")
    finally:
        worker.terminate()
        worker.wait(30)


def _phase_seconds(settings: Settings) -> dict[str, float]:
    """The worker's ``procmon_worker_phase_seconds`` counters, read off its /metrics."""
    url = f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"
    text = httpx.get(url, timeout=10).text
    return {match[1]: float(match[2]) for match in _PHASE_LINE.finditer(text)}


def worker_rate(database_url: str, stored_at: float, *, after_id: int = 0) -> float:
    """Rows stored per second from the first batch's transaction start to ``stored_at``: the
    rows of the snapshots of ids past ``after_id`` (those a pass stored)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT extract(epoch FROM min(received_at)),
                      (SELECT count(*) FROM processes WHERE command_id > %(after)s)
               FROM commands WHERE id > %(after)s""",
            {"after": after_id},
        ).fetchone()
    assert row is not None
    started, rows = float(row[0]), int(row[1])
    return rows / (stored_at - started)


def dump(database_url: str, query: sql.Composable) -> bytes:
    """What ``query`` returns, as binary COPY data."""
    buffer = io.BytesIO()
    # COPY reads a partitioned table only through a query.
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(query)
    with psycopg.connect(database_url) as conn, conn.cursor().copy(statement) as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


def _checkpoint(server_url: str) -> None:
    """Flush what earlier passes left in shared buffers, so that no pass pays for another's."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            print("  (no CHECKPOINT privilege: passes may pay for each other's writes)")


def _days(database_url: str) -> list[datetime]:
    """The UTC days the snapshots of ``database_url`` are of, as their midnights."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT DISTINCT date_trunc('day', "timestamp", 'UTC') FROM commands"""
        ).fetchall()
    return [row[0] for row in rows]


def _copy_floor(
    server_url: str, commands: bytes, processes: bytes, rows: int, days: list[datetime]
) -> float:
    """The rate of a plain binary COPY of the rows into a fresh database with the partitions
    of the rows' ``days``."""
    url = make_conninfo(server_url, dbname=f"procmon_bench_floor_{uuid.uuid4().hex[:8]}")
    create_database(url)
    try:
        migrate(url)
        with psycopg.connect(url) as conn:
            with conn.cursor() as cur:
                cur.execute(ENSURE_PARTITIONS, (days, 1))
                with cur.copy("COPY commands FROM STDIN (FORMAT binary)") as copy:
                    copy.write(commands)
            conn.commit()
            return copy_processes(conn, processes, rows, server_url)
    finally:
        drop_database(url)


def copy_processes(
    conn: psycopg.Connection[Any], processes: bytes, rows: int, server_url: str
) -> float:
    """The rate of one plain binary COPY of ``processes`` (``rows`` process rows, as
    :func:`dump` gives them) into ``conn``'s database, committed, after a CHECKPOINT."""
    _checkpoint(server_url)
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy("COPY processes FROM STDIN (FORMAT binary)") as copy:
        for offset in range(0, len(processes), 1 << 20):
            copy.write(processes[offset : offset + (1 << 20)])
    conn.commit()
    return rows / (time.perf_counter() - started)


def worker_settings(database_url: str, bootstrap: str, topic: str) -> Settings:
    """A worker of a consumer group of its own, storing ``topic`` into ``database_url``."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    return Settings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        kafka_idempotence=False,
        topic=topic,
        dead_letter_topic=f"{topic}-dead",
        consumer_group=name,
        redis_prefix=name,
        metrics_port=free_port(),
        # The rollup is measured on its own (the API bench's fleet): a round landing inside
        # one pass and not another would make the passes differ by when the timer fired.
        rollup_interval=3600.0,
    )


def ingest_pass(
    settings: Settings, server_url: str, snapshots: int, *, after_id: int = 0
) -> tuple[dict[str, float], float]:
    """One worker of ``settings`` storing its topic's ``snapshots`` into its database, where
    the snapshots of ids up to ``after_id`` were before, after a CHECKPOINT; its seconds per
    phase and when its last commit was seen (see :func:`worker_rate`)."""
    try:
        asyncio.run(ensure_topics(settings))
        _checkpoint(server_url)
        return _run_worker(settings, snapshots, after_id)
    finally:
        redis.Redis.from_url(settings.redis_url).delete(f"{settings.redis_prefix}:{GENERATION}")


def _worker_pass(
    server_url: str, bootstrap: str, topic: str, snapshots: int, schema: Path | None
) -> tuple[str, dict[str, float], float]:
    """One worker (its own consumer group) storing the topic into a new database.

    The database has ``schema`` applied, or procmon's own when None. Returns its URL (the
    caller drops it), the worker's seconds per phase and when its last commit was seen.
    """
    database_url = make_conninfo(server_url, dbname=f"procmon_bench_{uuid.uuid4().hex[:8]}")
    settings = worker_settings(database_url, bootstrap, topic)
    create_database(database_url)
    try:
        if schema is None:
            migrate(database_url)
        else:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(schema.read_bytes())
                # Another schema on purpose: the worker refuses a database without the
                # record of procmon's migrations.
                record_as_applied(conn, packaged_migrations())
        phases, stored_at = ingest_pass(settings, server_url, snapshots)
    except BaseException:
        drop_database(database_url)
        raise
    return database_url, phases, stored_at


class _Rows:
    """The rows the first pass stored, as binary COPY data, for the floor's passes."""

    def __init__(self) -> None:
        self.count = 0
        self.commands = b""
        self.processes = b""
        self.days: list[datetime] = []

    def read(self, database_url: str) -> None:
        """Keep the rows of ``database_url``, unless rows were kept already."""
        if self.count:
            return
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT count(*) FROM processes").fetchone()
        self.count = int(row[0]) if row else 0
        self.commands = dump(database_url, sql.SQL("SELECT * FROM commands"))
        self.processes = dump(database_url, sql.SQL("SELECT * FROM processes"))
        self.days = _days(database_url)


def _passes(
    server_url: str,
    bootstrap: str,
    topic: str,
    snapshots: int,
    schema: Path | None,
    *,
    keep: Callable[[str], None] = lambda _: None,
    after_each: Callable[[], None] = lambda: None,
) -> tuple[list[float], dict[str, float]]:
    """The rates of three passes and their seconds per phase summed. ``keep`` reads each
    pass's database before it is dropped; ``after_each`` runs once it is, so that nothing of
    it (autovacuum reading its new rows) runs beside what it times."""
    rates: list[float] = []
    phases: dict[str, float] = {}
    for _ in range(_WORKER_RUNS):
        database_url, pass_phases, stored_at = _worker_pass(
            server_url, bootstrap, topic, snapshots, schema
        )
        try:
            rates.append(worker_rate(database_url, stored_at))
            keep(database_url)
        finally:
            drop_database(database_url)
        after_each()
        for phase, seconds in pass_phases.items():
            phases[phase] = phases.get(phase, 0.0) + seconds
    return rates, phases


def bench_ingest(server_url: str, target_rows: int) -> dict[str, float]:
    """Process rows per second: one worker end to end, the plain COPY floor, and the same
    worker on the walking skeleton's schema; and the worker's seconds per phase.

    Each of the worker's passes is followed by a floor's, and the ratio is the median of the
    three pairs': the speed of the benchmark machine drifts over minutes, and a ratio of
    passes minutes apart measures the drift too."""
    snapshots = -(-target_rows // PROCESSES_PER_SNAPSHOT)
    stored = _Rows()
    floors: list[float] = []

    def floor_after() -> None:
        floors.append(
            _copy_floor(server_url, stored.commands, stored.processes, stored.count, stored.days)
        )

    with published_topics(snapshots) as (bootstrap, [topic]):
        rates, phases = _passes(
            server_url, bootstrap, topic, snapshots, None, keep=stored.read, after_each=floor_after
        )
        skeleton_rates, _ = _passes(server_url, bootstrap, topic, snapshots, SKELETON_SCHEMA)
    ratios = [rate / floor for rate, floor in zip(rates, floors, strict=True)]
    rate, skeleton_rate = statistics.median(rates), statistics.median(skeleton_rates)
    total = sum(phases.values()) or 1.0
    return {
        "ingest_process_rows": stored.count,
        "ingest_snapshots": snapshots,
        "ingest_rows_per_s": rate,
        "copy_floor_rows_per_s": statistics.median(floors),
        "ingest_vs_floor": statistics.median(ratios),
        "ingest_vs_floor_lowest": min(ratios),
        "ingest_vs_floor_highest": max(ratios),
        "ingest_skeleton_schema_rows_per_s": skeleton_rate,
        "ingest_vs_skeleton_schema": rate / skeleton_rate,
        **{f"ingest_phase_{phase}_share": seconds / total for phase, seconds in phases.items()},
    }
