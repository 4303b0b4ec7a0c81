"""Retention on a real database: whole partitions past each setting go, nothing else does; one
run at a time; a dry run removes nothing; the command line prints what went."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis

from graphql_api import sql as api_sql
from procmon.cache import GENERATION
from procmon.database import create_database, drop_database, migrate
from procmon.maintenance import maintain
from procmon.retention import (
    ROLLUP_TABLES,
    Expiry,
    RetentionRun,
    expiries,
    retain,
    run_retention,
)
from procmon.settings import Settings
from tests.conftest import at_once, fresh_database_url, make_partitions

TODAY = date(2024, 5, 20)
# Days before TODAY with a snapshot; the one 6 days back is not counted by the rollup yet.
AGES = (10, 6, 5, 1)
UNCOUNTED_AGE = 6
RULES = [
    Expiry("processes", 3, "PROCMON_RETENTION_DAYS"),
    Expiry("raw_outputs", 7, "PROCMON_RAW_OUTPUT_RETENTION_DAYS"),
    *(
        Expiry(table, 8, "PROCMON_ROLLUP_RETENTION_DAYS")
        for table in (
            "process_days",
            "stats_hours",
            "stats_days",
            "stats_machine_hours",
            "stats_machine_days",
        )
    ),
]


def _moment(age: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=age), datetime.min.time(), UTC) + timedelta(
        hours=12
    )


def _store(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        make_partitions(conn, *(_moment(age) for age in AGES))
        for age in AGES:
            at = _moment(age)
            counted = None if age == UNCOUNTED_AGE else at
            (command_id,) = conn.execute(
                """INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                       command_type, "timestamp", content_hash, schema_version, format,
                       process_count, rolled_up_at)
                   VALUES ('m', 'm', 'linux', '6.1', 'ps', %s, %s, 1, 'ps aux', 2, %s)
                   RETURNING id""",
                (at, f"{age:064x}", counted),
            ).fetchone()  # type: ignore[misc]
            conn.execute(
                "INSERT INTO raw_outputs VALUES (%s, %s, %s)", (command_id, at, f"listing {age}")
            )
            conn.execute(
                """INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                       process_name)
                   SELECT %s, n, 'm', %s, n, 'p' FROM generate_series(1, 2) AS n""",
                (command_id, at),
            )
            conn.execute(
                """INSERT INTO process_days (machine_id, day, process_key, pid, process_name,
                       first_seen, last_seen, snapshot_count, cpu_seconds, interval_seconds)
                   VALUES ('m', %s, 1, 1, 'p', %s, %s, 1, 0, 0)""",
                (at.date(), at, at),
            )
            conn.execute(
                """INSERT INTO stats_machine_hours (machine_id, bucket_start, os_type, labels,
                       process_count, snapshot_count, cpu_count, memory_count)
                   VALUES ('m', date_trunc('hour', %s::timestamptz), 'linux', '{}', 2, 1, 0, 0)""",
                (at,),
            )


def _days_stored(database_url: str) -> dict[str, list[int]]:
    """The ages, in days before TODAY, of the rows each table still has."""
    tables = {
        "commands": '"timestamp"',
        "raw_outputs": '"timestamp"',
        "processes": "observed_at",
        "process_days": "day",
        "stats_machine_hours": "bucket_start",
    }
    found = {}
    with psycopg.connect(database_url) as conn:
        for table, column in tables.items():
            rows = conn.execute(
                f"SELECT DISTINCT ({column} AT TIME ZONE 'UTC')::date FROM {table}"
                if column != "day"
                else f"SELECT DISTINCT day FROM {table}"
            ).fetchall()
            found[table] = sorted((TODAY - row[0]).days for row in rows)
    return found


@pytest.fixture
def database() -> Iterator[str]:
    url = fresh_database_url("procmon_retention")
    create_database(url)
    try:
        migrate(url, api_role="")
        _store(url)
        yield url
    finally:
        drop_database(url)


def _names(run: RetentionRun) -> list[str]:
    return [partition.name for partition in run.removed]


def _day(age: int) -> str:
    return f"{TODAY - timedelta(days=age):%Y%m%d}"


def test_a_dry_run_lists_what_a_run_removes_and_removes_nothing(database: str) -> None:
    before = _days_stored(database)
    dry = run_retention(database, RULES, today=TODAY, dry_run=True)
    assert _days_stored(database) == before
    run = run_retention(database, RULES, today=TODAY)
    assert (dry.ran, run.ran) == (True, True)
    assert _names(dry) == _names(run)
    assert _names(run) == [f"processes_{_day(10)}", f"processes_{_day(5)}",
                           f"raw_outputs_{_day(10)}", f"process_days_{_day(10)}",
                           f"stats_hours_{_day(10)}", f"stats_days_{_day(10)}",
                           f"stats_machine_hours_{_day(10)}",
                           f"stats_machine_days_{_day(10)}"]  # fmt: skip
    # The snapshot the rollup has not counted keeps its rows until it has.
    assert [(p.name, reason) for p, reason in run.kept] == [
        (f"processes_{_day(6)}", "1 of its days' snapshots are not counted by the rollup yet")
    ]


def test_a_rollup_partition_stays_while_its_days_snapshots_are_not_counted(
    database: str,
) -> None:
    rules = [Expiry(table, 3, "PROCMON_ROLLUP_RETENTION_DAYS") for table in ROLLUP_TABLES]
    run = run_retention(database, rules, today=TODAY)
    assert [(p.name, reason) for p, reason in run.kept] == [
        (f"{table}_{_day(6)}", "1 of its days' snapshots are not counted by the rollup yet")
        for table in ROLLUP_TABLES
    ]
    assert _days_stored(database)["process_days"] == [1, 6]
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE commands SET rolled_up_at = now()")
    again = run_retention(database, rules, today=TODAY)
    assert _names(again) == [f"{table}_{_day(6)}" for table in ROLLUP_TABLES]
    assert _days_stored(database)["process_days"] == [1]


def test_each_table_keeps_its_days_and_the_snapshots_stay(database: str) -> None:
    run_retention(database, RULES, today=TODAY)
    assert _days_stored(database) == {
        "commands": [1, 5, 6, 10],
        "raw_outputs": [1, 5, 6],
        "processes": [1, 6],
        "process_days": [1, 5, 6],
        "stats_machine_hours": [1, 5, 6],
    }
    # The text of a snapshot whose day went reads as null; the others as they were.
    with psycopg.connect(database) as conn:
        ids, times = zip(
            *conn.execute('SELECT id, "timestamp" FROM commands ORDER BY "timestamp"'), strict=True
        )
        texts = conn.execute(api_sql.RAW_OUTPUTS, {"ids": list(ids), "times": list(times)})
        assert [row[1] for row in texts] == [None, "listing 6", "listing 5", "listing 1"]


def test_a_second_run_finds_nothing_more(database: str) -> None:
    first = run_retention(database, RULES, today=TODAY)
    again = run_retention(database, RULES, today=TODAY)
    assert len(first.removed) == 8
    assert (again.ran, again.removed) == (True, ())
    assert len(again.kept) == 1


def test_a_run_while_another_holds_the_lock_does_nothing(database: str) -> None:
    with psycopg.connect(database) as holder:
        holder.execute("SELECT pg_advisory_lock(1751, hashtext('procmon.retention'))")
        run = run_retention(database, RULES, today=TODAY)
    assert (run.ran, run.removed) == (False, ())
    assert _days_stored(database)["processes"] == [1, 5, 6, 10]


def test_runs_at_once_remove_each_partition_once(database: str) -> None:
    runs = at_once(lambda: run_retention(database, RULES, today=TODAY), 4)
    removed = sorted(name for result in runs for name in _names(result))
    assert len(removed) == 8
    assert len(set(removed)) == 8


def test_a_partition_a_stopped_run_left_detached_is_dropped(database: str) -> None:
    with psycopg.connect(database) as conn:
        conn.execute(f"ALTER TABLE processes DETACH PARTITION processes_{_day(10)}")
    run = run_retention(database, RULES, today=TODAY)
    assert run.left_detached == (f"processes_{_day(10)}",)
    with psycopg.connect(database) as conn:
        left = conn.execute("SELECT to_regclass(%s)", (f"processes_{_day(10)}",)).fetchone()
    assert left == (None,)


def test_the_settings_give_each_table_its_days() -> None:
    settings = Settings(retention_days=3, raw_output_retention_days=7, rollup_retention_days=8)
    assert expiries(settings) == RULES
    assert ROLLUP_TABLES == (
        "process_days",
        "stats_hours",
        "stats_days",
        "stats_machine_hours",
        "stats_machine_days",
    )
    assert expiries(Settings(retention_days=3)) == RULES[:1]
    assert expiries(Settings()) == []


def test_the_worker_round_makes_partitions_ahead_and_applies_retention(database: str) -> None:
    settings = Settings(
        database_url=database, retention_days=3, partitions_ahead_days=2, partition_days=1
    )
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    maintain(settings, now=now)
    assert _days_stored(database)["processes"] == [1, 6]
    with psycopg.connect(database) as conn:
        names = {row[0] for row in conn.execute("SELECT partition_name FROM procmon_partitions")}
    ahead = {f"processes_{TODAY + timedelta(days=n):%Y%m%d}" for n in range(3)}
    assert ahead <= names


def test_a_run_that_removed_something_retires_the_cached_answers(
    database: str, redis_prefix: str
) -> None:
    settings = Settings(database_url=database, retention_days=3, redis_prefix=redis_prefix)
    generation = f"{redis_prefix}:{GENERATION}"
    client = redis.Redis.from_url(settings.redis_url)
    try:
        assert retain(settings, today=TODAY, dry_run=True) is not None
        assert client.get(generation) is None
        run = retain(settings, today=TODAY)
        assert run is not None
        assert run.removed
        assert client.get(generation) == b"1"
        # Nothing more to remove: the cached answers still hold.
        again = retain(settings, today=TODAY)
        assert again is not None
        assert not again.removed
        assert client.get(generation) == b"1"
    finally:
        client.close()
    assert retain(Settings(database_url=database, redis_prefix=redis_prefix), today=TODAY) is None


def test_retention_runs_when_redis_is_away(database: str) -> None:
    away = Settings(
        database_url=database, raw_output_retention_days=3, redis_url="redis://127.0.0.1:1"
    )
    run = retain(away, today=TODAY)
    assert run is not None
    assert run.removed
    assert _days_stored(database)["raw_outputs"] == [1]


def _procmon(database_url: str, *args: str, **settings: Any) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PROCMON_DATABASE_URL": database_url}
    env |= {f"PROCMON_{name.upper()}": str(value) for name, value in settings.items()}
    return subprocess.run(
        [sys.executable, "-m", "procmon", "retention", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_line_prints_what_it_removed(database: str) -> None:
    # Every stored day is years before today: all of it is past 30 days.
    dry = _procmon(database, "--dry-run", raw_output_retention_days=30)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        f"would remove raw_outputs_{_day(age)} (raw_outputs, {TODAY - timedelta(days=age)})"
        for age in sorted(AGES, reverse=True)
    ]
    done = _procmon(database, raw_output_retention_days=30)
    assert done.stdout == dry.stdout.replace("would remove", "removed")
    assert _procmon(database, raw_output_retention_days=30).stdout == "nothing to remove\n"
    unset = _procmon(database)
    assert unset.returncode == 0
    assert "no retention is set" in unset.stdout
