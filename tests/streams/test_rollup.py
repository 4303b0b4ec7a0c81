"""The daily rollup against real PostgreSQL: what it adds up, in any number of steps, after
forgetting days, and with two rollups at once."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis

from procmon.cache import GENERATION
from procmon.partitions import ENSURE_PARTITIONS
from streams.rollup import count_all, count_pending, forget_days
from tests.conftest import REDIS_URL

T0 = datetime(2026, 11, 27, 23, 40, tzinfo=UTC)  # 20 minutes before a UTC midnight
EVERY = timedelta(minutes=20)
NOV27, NOV28 = date(2026, 11, 27), date(2026, 11, 28)


@dataclass(frozen=True)
class Row:
    """A process row as the worker stores it, history included."""

    pid: int
    key: int | None
    name: str = "worker"
    seconds: float | None = None
    cpu_percent: float | None = None
    rss: int | None = None
    user: str = "alice"
    command_line: str = "worker --old"


async def store(conn: psycopg.AsyncConnection[Any], machine: str, at: datetime, *rows: Row) -> int:
    """Store a snapshot of ``rows`` (line numbers in order) and return its id."""
    digest = hashlib.sha256(f"{machine}{at}".encode()).hexdigest()
    await conn.execute(ENSURE_PARTITIONS, ([at], 1))
    cur = await conn.execute(
        """INSERT INTO commands (machine_id, machine_name, os_type, os_version, command_type,
                                 "timestamp", content_hash, schema_version, format,
                                 process_count)
           VALUES (%s, %s, 'linux', '6.1', 'ps aux', %s, %s, 1, 'ps aux', %s)
           RETURNING id""",
        (machine, machine, at, digest, len(rows)),
    )
    found = await cur.fetchone()
    assert found is not None
    for line, row in enumerate(rows, start=1):
        await conn.execute(
            """INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                                      process_name, "user", command_line, start_time,
                                      rss_bytes, process_key, interval_seconds,
                                      interval_cpu_percent)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (found[0], line, machine, at, row.pid, row.name, row.user, row.command_line,
             T0 - timedelta(days=1), row.rss, row.key, row.seconds, row.cpu_percent),
        )  # fmt: skip
    return int(found[0])


@pytest.fixture
async def conn(clean_database: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """An autocommit connection to the emptied session database, process_days emptied too."""
    async with await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as c:
        await c.execute("TRUNCATE process_days")
        yield c


async def store_example(conn: psycopg.AsyncConnection[Any]) -> None:
    """m1: three snapshots 20 minutes apart across midnight; m2: one. Worked out below."""
    await store(conn, "m1", T0, Row(10, 1, rss=1000), Row(20, 2, rss=500))
    await store(
        conn, "m1", T0 + EVERY,
        Row(10, 1, seconds=1200, cpu_percent=10.0, rss=3000),
        Row(20, 3, name="other", rss=400),  # pid 20 reused by a new process
        Row(30, None, name="unlinked"),  # no key yet: not counted
        Row(40, 4, name="no-cpu-time"),
    )  # fmt: skip
    await store(
        conn, "m1", T0 + 2 * EVERY,
        Row(10, 1, seconds=1200, cpu_percent=5.0, rss=2000, user="bob",
            command_line="worker --new"),
        Row(20, 3, name="other", seconds=1200, cpu_percent=50.0, rss=700),
        Row(20, 3, name="other-thread", seconds=1200, cpu_percent=25.0, rss=700),
        Row(40, 4, name="no-cpu-time", seconds=1200),  # continuing, but no CPU time printed
    )  # fmt: skip
    await store(conn, "m2", T0 + EVERY, Row(10, 1, seconds=600, cpu_percent=1.0, rss=10))


# (machine, day, key): pid, name, user, command line, first and last seen (minutes after T0),
# snapshots, CPU seconds, interval seconds, max interval CPU %, max RSS.
EXPECTED = {
    ("m1", NOV27, 1): (10, "worker", "alice", "worker --old", 0, 0, 1, 0.0, 0.0, None, 1000),
    ("m1", NOV27, 2): (20, "worker", "alice", "worker --old", 0, 0, 1, 0.0, 0.0, None, 500),
    # 10% and 5% of 1200 s: 120 + 60; the later sighting's user and command line.
    ("m1", NOV28, 1): (10, "worker", "bob", "worker --new", 20, 40, 2, 180.0, 2400.0, 10.0, 3000),
    # Two rows of one snapshot under one key: 600 + 300 CPU seconds, one snapshot each time.
    ("m1", NOV28, 3): (20, "other", "alice", "worker --old", 20, 40, 2, 900.0, 2400.0, 50.0, 700),
    # An interval without a CPU percent covers no CPU seconds, so its wall time is not summed.
    ("m1", NOV28, 4): (40, "no-cpu-time", "alice", "worker --old", 20, 40, 2, 0.0, 0.0, None, None),
    ("m2", NOV28, 1): (10, "worker", "alice", "worker --old", 20, 20, 1, 6.0, 600.0, 1.0, 10),
}  # fmt: skip


async def process_days(
    conn: psycopg.AsyncConnection[Any],
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The whole table, keyed, with times as minutes after T0."""
    cur = await conn.execute(
        """SELECT machine_id, day, process_key, pid, process_name, "user", command_line,
                  first_seen, last_seen, snapshot_count, cpu_seconds, interval_seconds,
                  max_interval_cpu_percent, max_rss_bytes
           FROM process_days"""
    )
    table = {}
    for row in await cur.fetchall():
        first, last = ((t - T0) / timedelta(minutes=1) for t in row[7:9])
        table[tuple(row[:3])] = (*row[3:7], first, last, *row[9:])
    return table


async def rolled_up(conn: psycopg.AsyncConnection[Any]) -> dict[tuple[str, datetime], bool]:
    """Whether each snapshot is marked counted."""
    cur = await conn.execute(
        'SELECT machine_id, "timestamp", rolled_up_at IS NOT NULL FROM commands'
    )
    return {(m, at): counted for m, at, counted in await cur.fetchall()}


async def test_the_rollup_adds_up_a_hand_worked_example(conn: psycopg.AsyncConnection[Any]) -> None:
    await store_example(conn)

    assert await count_pending(conn, limit=100) == 4

    assert await process_days(conn) == EXPECTED
    assert all((await rolled_up(conn)).values())
    assert await count_pending(conn, limit=100) == 0


async def test_counting_one_snapshot_at_a_time_gives_the_same_table(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    await store_example(conn)

    steps = [await count_pending(conn, limit=1) for _ in range(5)]

    assert steps == [1, 1, 1, 1, 0]
    assert await process_days(conn) == EXPECTED


async def test_the_oldest_snapshots_are_counted_first(conn: psycopg.AsyncConnection[Any]) -> None:
    await store_example(conn)

    assert await count_pending(conn, limit=1) == 1

    assert set(await process_days(conn)) == {("m1", NOV27, 1), ("m1", NOV27, 2)}
    assert [at for (_, at), counted in (await rolled_up(conn)).items() if counted] == [T0]


async def test_forgotten_days_are_counted_again_to_the_same_rows(
    conn: psycopg.AsyncConnection[Any],
) -> None:
    await store_example(conn)
    await count_all(conn)

    async with conn.transaction(), conn.cursor() as cur:
        await forget_days(cur, "m1", {NOV28})

    assert await process_days(conn) == {k: v for k, v in EXPECTED.items() if k[:2] != ("m1", NOV28)}
    assert await rolled_up(conn) == {
        ("m1", T0): True,
        ("m1", T0 + EVERY): False,
        ("m1", T0 + 2 * EVERY): False,
        ("m2", T0 + EVERY): True,  # another machine's snapshot of the same day
    }
    assert await count_all(conn) == 2
    assert await process_days(conn) == EXPECTED


async def test_a_rollup_waits_for_nothing_a_relink_holds_and_counts_nothing_twice(
    conn: psycopg.AsyncConnection[Any], clean_database: str
) -> None:
    await store_example(conn)
    async with (
        await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as first,
        await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as second,
    ):
        # The first rollup has counted the two oldest snapshots and not yet committed.
        async with first.transaction():
            assert await count_pending(first, limit=2) == 2
            # The second skips the locked ones: it counts the other two, and its additions to
            # the days the first added to wait for the first's commit.
            other = asyncio.create_task(count_all(second, limit=1))
            await until_waiting_or_done(conn, second, other)
        assert await other == 2

    assert await process_days(conn) == EXPECTED


async def test_two_rollups_at_once_share_the_snapshots(
    conn: psycopg.AsyncConnection[Any], clean_database: str
) -> None:
    machines, snapshots = 4, 30
    for s in range(snapshots):
        for m in range(machines):
            await store(
                conn, f"m{m}", T0 + s * EVERY,
                *(Row(pid, pid * 10 + m, seconds=1200, cpu_percent=1.0 * pid, rss=s)
                  for pid in range(1, 6)),
            )  # fmt: skip
    async with (
        await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as first,
        await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as second,
    ):
        counted = await asyncio.gather(count_all(first, limit=3), count_all(second, limit=3))

    assert sum(counted) == machines * snapshots
    cur = await conn.execute(
        "SELECT sum(snapshot_count), sum(cpu_seconds), count(*) FROM process_days"
    )
    # Each snapshot's five rows once: 12 + 24 + ... + 60 CPU seconds a snapshot.
    assert await cur.fetchone() == (5 * machines * snapshots, 180.0 * machines * snapshots, 40)


async def until_waiting_or_done(
    conn: psycopg.AsyncConnection[Any],
    waiter: psycopg.AsyncConnection[Any],
    task: asyncio.Task[Any],
) -> None:
    """Return once ``waiter``'s backend waits for a lock, or ``task`` has ended."""
    for _ in range(200):
        cur = await conn.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
            (waiter.info.backend_pid,),
        )
        found = await cur.fetchone()
        if task.done() or (found is not None and found[0] == "Lock"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the second rollup neither waited nor ended")


async def test_procmon_rollup_counts_what_is_pending_and_retires_cached_answers(
    conn: psycopg.AsyncConnection[Any], clean_database: str, redis_prefix: str
) -> None:
    await store_example(conn)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    env |= {
        "PROCMON_DATABASE_URL": clean_database,
        "PROCMON_REDIS_URL": REDIS_URL,
        "PROCMON_REDIS_PREFIX": redis_prefix,
    }

    def rollup() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "procmon", "rollup"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    assert rollup() == "counted 4 snapshots into the rollups\n"
    assert await process_days(conn) == EXPECTED
    generation = redis.Redis.from_url(REDIS_URL)
    assert generation.get(f"{redis_prefix}:{GENERATION}") == b"1"
    # Nothing left to count: the cached answers stay.
    assert rollup() == "counted 0 snapshots into the rollups\n"
    assert generation.get(f"{redis_prefix}:{GENERATION}") == b"1"
    generation.close()


async def test_a_rollup_skips_a_machine_whose_days_are_being_forgotten(
    conn: psycopg.AsyncConnection[Any], clean_database: str
) -> None:
    await store_example(conn)
    await count_all(conn)
    # Pending, and not among the snapshots the relink below marks: only the lock keeps a
    # rollup from adding it to process_days while the machine's days are being forgotten.
    await store(conn, "m1", T0 + 3 * EVERY, Row(10, 1, seconds=1200, cpu_percent=20.0))
    async with await psycopg.AsyncConnection.connect(clean_database) as relink:
        async with relink.transaction(), relink.cursor() as cur:
            await forget_days(cur, "m1", {NOV28})
            assert await asyncio.wait_for(count_pending(conn, limit=100), timeout=10) == 0
        assert await count_all(conn) == 3

    # Key 1's day gains the new sighting: 20% of 1200 s more, seen last at minute 60.
    expected = dict(EXPECTED)
    expected["m1", NOV28, 1] = (
        10, "worker", "alice", "worker --old", 20, 60, 3, 420.0, 3600.0, 20.0, 3000
    )  # fmt: skip
    assert await process_days(conn) == expected


async def test_forgetting_waits_for_a_rollup_counting_the_machine(
    conn: psycopg.AsyncConnection[Any], clean_database: str
) -> None:
    await store_example(conn)
    async with (
        await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as rollup,
        await psycopg.AsyncConnection.connect(clean_database) as relink,
    ):
        async with rollup.transaction():
            assert await count_pending(rollup, limit=100) == 4

            async def forget() -> None:
                async with relink.transaction(), relink.cursor() as cur:
                    await forget_days(cur, "m1", {NOV28})

            forgetting = asyncio.create_task(forget())
            await until_waiting_or_done(conn, relink, forgetting)
            assert not forgetting.done()
        await forgetting

    # The relink saw the rollup's rows and marks: both undone, the day is counted again.
    assert set(await process_days(conn)) == {k for k in EXPECTED if k[:2] != ("m1", NOV28)}
    assert await count_all(conn) == 2
    assert await process_days(conn) == EXPECTED
