"""Time partitions: the upgrade of a database with data into them, their creation by
``procmon_ensure_partitions`` (widths, neighbours, creators at once) and by ``migrate``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg.types.json import Jsonb

from procmon.database import create_database, drop_database, migrate
from procmon.migrations import packaged_migrations
from procmon.partitions import ENSURE_PARTITIONS, days_ahead
from tests.conftest import PROCESS_ROWS, at_once, fresh_database_url, make_partitions

# Every column of each table, so that the comparison misses none; a listing's text is in
# raw_outputs after the upgrade.
_COMMANDS = """SELECT id, machine_id, machine_name, os_type, os_version, command_type,
                      commands."timestamp", content_hash, schema_version, format, process_count,
                      metadata, {raw_output}, received_at, history_revision, rolled_up_at,
                      labels, cpu_count
               FROM commands {join} ORDER BY id"""
_BEFORE = _COMMANDS.format(raw_output="raw_output", join="")
_AFTER = _COMMANDS.format(
    raw_output="r.raw_output",
    join='JOIN raw_outputs AS r ON r.command_id = id AND r."timestamp" = commands."timestamp"',
)
_PARTITIONED = (
    "commands",
    "process_days",
    "processes",
    "raw_outputs",
    "stats_days",
    "stats_hours",
    "stats_machine_days",
    "stats_machine_hours",
)
_OTHERS = ("process_keys", "process_days", "ingest_errors", "api_keys")
_PLACES = """SELECT tableoid::regclass::text, ("timestamp" AT TIME ZONE 'UTC')::date
             FROM commands
             UNION ALL
             SELECT tableoid::regclass::text, ("timestamp" AT TIME ZONE 'UTC')::date
             FROM raw_outputs
             UNION ALL
             SELECT tableoid::regclass::text, (observed_at AT TIME ZONE 'UTC')::date
             FROM processes
             UNION ALL
             SELECT tableoid::regclass::text, day FROM process_days"""
_SNAPSHOT = """INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                   command_type, "timestamp", content_hash, schema_version, format,
                   process_count, metadata, raw_output, history_revision, rolled_up_at,
                   labels, cpu_count)
               VALUES (%s, %s, 'linux', '6.1', 'ps aux', %s, %s, 1, 'ps aux', 2, %s, %s, 1,
                       %s, %s, 8)
               RETURNING id"""
_ROWS = """INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid, ppid,
               "user", process_name, command_line, cpu_percent, rss_bytes, start_time,
               cpu_time_seconds, truncated_fields, start_time_precision, process_key,
               interval_seconds, interval_cpu_percent)
           SELECT %s, n, %s, %s, 100 + n, 1, 'alice', 'p' || n, 'p --n ' || n, n * 1.5,
                  n * 4096, %s, n * 2.0, CASE WHEN n = 1 THEN ARRAY['user'] ELSE '{}' END,
                  1, 1000 + n, 300, n * 0.5
           FROM generate_series(1, 2) AS n"""


@pytest.fixture
def database_at_0003() -> Iterator[str]:
    """A database taken through migrations 0001-0003 only, as procmon left it before 0006."""
    url = fresh_database_url("procmon_at_0003")
    create_database(url)
    try:
        migrate(url, api_role="", migrations=packaged_migrations()[:3])
        yield url
    finally:
        drop_database(url)


def _fill(database_url: str) -> None:
    """Snapshots of three days years apart, a second machine, and the tables beside them."""
    moments = [
        datetime(2019, 3, 1, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
        datetime(2024, 5, 1, 12, 30, 15, 250_000, tzinfo=UTC),
        datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
    ]
    with psycopg.connect(database_url) as conn:
        for n, moment in enumerate(moments):
            machine = f"host-{n % 2}"
            found = conn.execute(
                _SNAPSHOT,
                (machine, f"{machine}.lab", moment, f"{n:064x}", Jsonb({"load": [n]}),
                 f"USER PID\nalice {n}\n", moment + timedelta(minutes=1),
                 Jsonb({"role": "db"}) if n else Jsonb({})),
            ).fetchone()  # fmt: skip
            assert found is not None
            conn.execute(_ROWS, (found[0], machine, moment, moment - timedelta(days=1)))
        conn.execute(
            """INSERT INTO process_keys VALUES (1001, 'host-0', '2019-03-01T23:59:59Z');
               INSERT INTO process_days (machine_id, day, process_key, pid, process_name,
                   first_seen, last_seen, snapshot_count, cpu_seconds, interval_seconds)
               VALUES ('host-0', '2019-03-01', 1001, 101, 'p1', '2019-03-01T23:59:59Z',
                       '2019-03-01T23:59:59Z', 1, 0.5, 300);
               INSERT INTO ingest_errors (topic, "partition", "offset", raw_message,
                   error_class, reason)
               VALUES ('t', 0, 7, 'x', 'EnvelopeError', 'not JSON')"""
        )


def _everything(database_url: str, commands: LiteralString) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(database_url) as conn:
        found = {
            "commands": conn.execute(commands).fetchall(),
            "processes": conn.execute(PROCESS_ROWS).fetchall(),
        }
        for table in _OTHERS:
            found[table] = conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        return found


def test_the_upgrade_keeps_every_row_in_the_partition_of_its_day(database_at_0003: str) -> None:
    _fill(database_at_0003)
    before = _everything(database_at_0003, _BEFORE)
    migrate(database_at_0003, api_role="")
    after = _everything(database_at_0003, _AFTER)
    assert after == before
    assert (len(after["commands"]), len(after["processes"])) == (4, 8)
    with psycopg.connect(database_at_0003) as conn:
        places = conn.execute(_PLACES).fetchall()
        texts = conn.execute("SELECT count(*) FROM raw_outputs").fetchone()
        # The identity goes on from where it was: the next snapshot takes the next id.
        next_id = conn.execute(
            """INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                   command_type, "timestamp", content_hash, schema_version, format,
                   process_count)
               VALUES ('host-9', 'h', 'linux', '6.1', 'ps', '2024-05-01T01:00Z', %s, 1, 'ps', 0)
               RETURNING id""",
            ("f" * 64,),
        ).fetchone()
    assert texts == (4,)
    assert len(places) == 4 + 4 + 8 + 1
    assert {table.rsplit("_", 1)[1] for table, _ in places} == {
        "20190301",
        "20240501",
        "20261130",
    }
    for table, day in places:
        assert table.rsplit("_", 1)[1] == f"{day:%Y%m%d}", (table, day)
    assert next_id == (max(row[0] for row in before["commands"]) + 1,)


def _partitions(database_url: str) -> list[tuple[str, str, date, date]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT * FROM procmon_partitions ORDER BY 1, 3").fetchall()
    return [(str(row[0]), str(row[1]), row[2], row[3]) for row in rows]


def _ensure(database_url: str, moments: list[datetime], width: int) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [str(row[0]) for row in conn.execute(ENSURE_PARTITIONS, (moments, width))]


def test_a_partition_spans_its_width_cut_short_by_those_made_before(
    migrated_url: str,
) -> None:
    with psycopg.connect(migrated_url) as conn:
        make_partitions(conn, datetime(2019, 3, 6, 12, tzinfo=UTC))
    # 2019-03-04 is in the week of days 17959-17965 since 1970 (2019-02-28 to 2019-03-06),
    # which the day made before cuts short; 2019-03-20 has its whole week.
    created = _ensure(
        migrated_url,
        [datetime(2019, 3, 4, 1, tzinfo=UTC), datetime(2019, 3, 20, 23, 59, tzinfo=UTC)],
        7,
    )
    assert created == [
        f"{table}_{day}" for table in _PARTITIONED for day in ("20190228", "20190314")
    ]
    commands = [row[1:] for row in _partitions(migrated_url) if row[0] == "commands"]
    assert commands[:3] == [
        ("commands_20190228", date(2019, 2, 28), date(2019, 3, 6)),
        ("commands_20190306", date(2019, 3, 6), date(2019, 3, 7)),
        ("commands_20190314", date(2019, 3, 14), date(2019, 3, 21)),
    ]
    # Asked again, for any moment of those days: nothing more to make.
    assert _ensure(migrated_url, [datetime(2019, 3, 1, tzinfo=UTC)], 1) == []


def test_creators_at_once_make_each_partition_once(migrated_url: str) -> None:
    moments = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=n) for n in range(10)]
    results = at_once(lambda: _ensure(migrated_url, moments, 1), 4)
    made = sorted(name for result in results for name in result)
    tables = _PARTITIONED
    assert made == sorted(f"{t}_{m:%Y%m%d}" for t in tables for m in moments)


def test_migrate_makes_today_and_the_days_ahead(migrated_url: str) -> None:
    today = datetime.now(UTC).date()
    names = {row[1] for row in _partitions(migrated_url)}
    for moment in days_ahead(datetime.now(UTC), 7):
        assert f"commands_{moment:%Y%m%d}" in names
        assert f"processes_{moment:%Y%m%d}" in names
    assert f"commands_{today:%Y%m%d}" in names


@pytest.fixture
def migrated_url() -> Iterator[str]:
    url = fresh_database_url("procmon_partitions")
    create_database(url)
    try:
        migrate(url, api_role="")
        yield url
    finally:
        drop_database(url)
