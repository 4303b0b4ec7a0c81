"""Versioned migrations on the real PostgreSQL: applying, failing, racing, status and the
start-up check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from procmon.database import (
    check_schema_at_start,
    create_database,
    drop_database,
    migrate,
    require_current_schema,
)
from procmon.devstack import free_port
from procmon.errors import ConfigurationError, DatabaseUnreachableError, StorageError
from procmon.migrations import load_migrations, packaged_migrations, record_as_applied
from procmon.migrations.files import migration_filename
from tests.conftest import fresh_database_url, migrated_database

PROCMON = Path(sys.executable).with_name("procmon")
INITIAL = packaged_migrations()[0]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@contextmanager
def database_made_with(schema: Path, prefix: str) -> Iterator[str]:
    """A new database with the SQL file ``schema`` run as it is (not migrated); dropped after."""
    url = fresh_database_url(prefix)
    create_database(url)
    try:
        with psycopg.connect(url) as conn:
            conn.execute(schema.read_bytes())
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A database that exists and holds nothing."""
    url = fresh_database_url("procmon_unmigrated")
    create_database(url)
    yield url
    drop_database(url)


@pytest.fixture
def missing_database() -> Iterator[str]:
    """The URL of a database that does not exist yet; dropped after the test."""
    url = fresh_database_url("procmon_migrations")
    yield url
    drop_database(url)


def applied_versions(database_url: str) -> list[int]:
    """The versions of the migrations table, in order."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [row[0] for row in rows]


def _table_exists(database_url: str, table: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    assert row is not None
    return bool(row[0])


def _procmon(*args: str, database_url: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run the installed ``procmon`` command with only the settings given here."""
    env = {"PATH": os.environ["PATH"], "PROCMON_DATABASE_URL": database_url, **variables}
    return subprocess.run(
        [str(PROCMON), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_packaged_migrations_are_numbered_files_of_the_package() -> None:
    migrations = packaged_migrations()
    assert [m.filename for m in migrations][:1] == ["0001_initial.sql"]
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert b"CREATE TABLE IF NOT EXISTS commands" in INITIAL.sql


def test_a_badly_named_or_doubly_numbered_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_initial.sql").write_text("SELECT 1;")
    with pytest.raises(
        ConfigurationError, match=re.escape("'1_initial.sql' is not named NNNN_name.sql")
    ):
        load_migrations(tmp_path)
    (tmp_path / "1_initial.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    with pytest.raises(ConfigurationError, match="two migrations have the number 0001"):
        load_migrations(tmp_path)


def test_migrate_applies_each_migration_once(missing_database: str) -> None:
    first = migrate(missing_database)
    assert [m.filename for m in first.applied] == [m.filename for m in packaged_migrations()]
    again = migrate(missing_database)
    assert again.applied == ()
    assert again.version == first.version == packaged_migrations()[-1].version
    assert applied_versions(missing_database) == [m.version for m in packaged_migrations()]
    require_current_schema(missing_database)


def test_a_failing_migration_leaves_the_version_before_it(
    missing_database: str, tmp_path: Path
) -> None:
    (tmp_path / INITIAL.filename).write_bytes(INITIAL.sql)
    (tmp_path / "0002_second_table.sql").write_text("CREATE TABLE second_table (id integer);")
    third = tmp_path / "0003_third_table.sql"
    third.write_text("CREATE TABLE third_table (id integer);\nSELECT 1/0;\n")
    with pytest.raises(StorageError) as failure:
        migrate(missing_database, api_role="", migrations=load_migrations(tmp_path))
    assert "0003_third_table.sql" in str(failure.value)
    assert "stays at version 2" in str(failure.value)
    assert "division by zero" in str(failure.value)
    assert applied_versions(missing_database) == [1, 2]
    assert _table_exists(missing_database, "second_table")
    assert not _table_exists(missing_database, "third_table")

    third.write_text("CREATE TABLE third_table (id integer);\n")
    run = migrate(missing_database, api_role="", migrations=load_migrations(tmp_path))
    assert [m.filename for m in run.applied] == ["0003_third_table.sql"]
    assert applied_versions(missing_database) == [1, 2, 3]
    assert _table_exists(missing_database, "third_table")


def test_three_migrate_processes_at_once_apply_one_set(missing_database: str) -> None:
    env = {"PATH": os.environ["PATH"], "PROCMON_DATABASE_URL": missing_database}
    runs = [
        subprocess.Popen([str(PROCMON), "migrate"], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert applied_versions(missing_database) == [m.version for m in packaged_migrations()]
    # One of them applied the migrations; the others found them applied.
    applying = [out for out in outputs if "applied 0001_initial.sql" in out]
    assert len(applying) == 1, outputs
    assert sum("the database is up to date" in out for out in outputs) == 2, outputs


def test_status_lists_pending_then_applied_migrations(empty_database: str) -> None:
    pending = _procmon("migrate", "--status", database_url=empty_database)
    assert pending.returncode == 0, pending.stderr
    header, *rows = pending.stdout.splitlines()
    assert header == "version\tfile\tapplied_at\tstate"
    assert rows == [f"{m.version:04d}\t{m.filename}\t-\tpending" for m in packaged_migrations()]
    assert "run `procmon migrate`" in pending.stderr
    assert not _table_exists(empty_database, "schema_migrations"), "--status changes nothing"

    migrate(empty_database)
    applied = _procmon("migrate", "--status", database_url=empty_database)
    assert applied.returncode == 0, applied.stderr
    _, *rows = applied.stdout.splitlines()
    assert [row.split("\t")[1] for row in rows] == [m.filename for m in packaged_migrations()]
    assert all(row.split("\t")[3] == "applied" and row.split("\t")[2] != "-" for row in rows)
    assert "up to date" in applied.stderr


def test_a_migration_whose_file_changed_since_is_flagged(empty_database: str) -> None:
    migrate(empty_database)
    # What an edited file looks like from the database: another checksum than the file's.
    with psycopg.connect(empty_database) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1")
    status = _procmon("migrate", "--status", database_url=empty_database)
    assert status.returncode == 0, status.stderr
    first = status.stdout.splitlines()[1]
    assert "file CHANGED since" in first
    assert f"{'0' * 64} applied, {INITIAL.checksum} now" in first
    migrated = _procmon("migrate", database_url=empty_database)
    assert migrated.returncode == 0, migrated.stderr
    assert "0001_initial.sql was applied from a file that has changed since" in migrated.stderr


def test_the_start_up_check_refuses_an_older_database(empty_database: str) -> None:
    with pytest.raises(ConfigurationError, match="has no procmon schema: run `procmon migrate`"):
        require_current_schema(empty_database)
    with psycopg.connect(empty_database) as conn:
        conn.execute((FIXTURES / "schema_before_migrations.sql").read_bytes())
    with pytest.raises(
        ConfigurationError, match="created before versioned migrations: run `procmon migrate`"
    ):
        require_current_schema(empty_database)
    migrate(empty_database)
    assert require_current_schema(empty_database).pending == ()


def test_the_start_up_check_names_pending_migrations_and_accepts_newer_databases(
    tmp_path: Path,
) -> None:
    known = packaged_migrations()
    for migration in known:
        (tmp_path / migration.filename).write_bytes(migration.sql)
    latest = known[-1].version
    later = migration_filename(latest + 1, "next")
    with migrated_database("procmon_versions") as url:
        (tmp_path / later).write_text("SELECT 1;")
        with pytest.raises(
            ConfigurationError, match=rf"at version {latest}, .*{later}.*procmon migrate"
        ):
            require_current_schema(url, migrations=load_migrations(tmp_path))
        migrate(url, migrations=load_migrations(tmp_path))
        # Code that knows only the packaged ones starts on a database a newer procmon took on.
        (tmp_path / later).unlink()
        status = require_current_schema(url, migrations=load_migrations(tmp_path))
        assert [m.filename for m in status.unknown] == [later]


def test_a_schema_made_another_way_can_be_recorded_as_current(empty_database: str) -> None:
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE commands (id bigint)")
        record_as_applied(conn, packaged_migrations())
    assert require_current_schema(empty_database).pending == ()
    assert applied_versions(empty_database) == [m.version for m in packaged_migrations()]


@pytest.mark.parametrize("command", ["worker", "api"])
def test_the_worker_and_the_api_refuse_an_unmigrated_database(
    command: str, empty_database: str
) -> None:
    result = _procmon(
        command,
        database_url=empty_database,
        # Nothing answers there: a service that got as far as Kafka would say so instead.
        PROCMON_KAFKA_BOOTSTRAP=f"127.0.0.1:{free_port()}",
        PROCMON_API_DATABASE_ROLE="",
        PROCMON_METRICS_PORT="0",
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("procmon: error: the database ")
    assert "run `procmon migrate`" in lines[0]


def test_a_start_goes_on_unchecked_only_while_no_server_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # As before there were migrations: a worker or API started before PostgreSQL waits for it
    # in its own way (retries, parking, the health check) rather than exiting.
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/procmon"
    with pytest.raises(DatabaseUnreachableError):
        require_current_schema(unreachable)
    check_schema_at_start(unreachable)
    assert "starting without checking the schema's version" in caplog.text
    # A server that answers "no such database" is not unreachable: that start is refused.
    missing = fresh_database_url("procmon_missing")
    with pytest.raises(StorageError) as refused:
        check_schema_at_start(missing)
    assert not isinstance(refused.value, DatabaseUnreachableError)


def test_an_unreachable_server_is_named_without_the_password() -> None:
    url = f"postgresql://owner:s3cret@127.0.0.1:{free_port()}/procmon"
    with pytest.raises(StorageError, match="cannot reach PostgreSQL at") as failure:
        migrate(url)
    assert "s3cret" not in str(failure.value)
    assert "user=owner" in str(failure.value)
