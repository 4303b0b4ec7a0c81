"""The database, its indexes and the API's role on the real PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from procmon.database import drop_database, ensure_database, migrate
from procmon.errors import ConfigurationError, StorageError
from tests.conftest import SERVER_URL, fresh_database_url

# Every table migrate creates.
TABLES = (
    "commands",
    "processes",
    "ingest_errors",
    "api_keys",
    "schema_migrations",
    "process_days",
    "process_keys",
    "raw_outputs",
    "machines",
    "stats_hours",
    "stats_days",
    "stats_machine_hours",
    "stats_machine_days",
)


@pytest.fixture
def missing_database_url() -> Iterator[str]:
    url = fresh_database_url("procmon_migrate")
    yield url
    drop_database(url)


def test_migrate_creates_the_database_and_is_idempotent(missing_database_url: str) -> None:
    migrate(missing_database_url)
    migrate(missing_database_url)
    assert ensure_database(missing_database_url) is False
    with psycopg.connect(missing_database_url) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                " AND relkind IN ('r', 'p') AND NOT relispartition"
            ).fetchall()
        }
    assert tables == set(TABLES)


def test_the_indexes_the_queries_need_exist(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        # A partition's indexes are its parent's, made for it: the parents' are asked about.
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes i JOIN pg_class c"
            " ON c.relname = i.tablename AND c.relnamespace = 'public'::regnamespace"
            " WHERE schemaname = 'public' AND NOT c.relispartition"
        ).fetchall()
    definitions = {name: definition for name, definition in rows}
    expected_columns = {
        "commands_snapshot_key": '(machine_id, "timestamp", content_hash)',
        "commands_timestamp_idx": '("timestamp")',
        "processes_pkey": "(command_id, line_number, observed_at)",
        "processes_name_observed_idx": "(process_name, observed_at)",
        "processes_machine_observed_idx": "(machine_id, observed_at)",
        "ingest_errors_message_key": '(topic, partition, "offset")',
        "commands_unrolled_idx": '("timestamp") WHERE (rolled_up_at IS NULL)',
        "process_days_pkey": "(machine_id, day, process_key)",
        "process_days_day_cpu_idx": "(day, cpu_seconds DESC)",
        "process_keys_pkey": "(process_key)",
    }
    for name, columns in expected_columns.items():
        assert definitions[name].endswith(columns), definitions[name]
    assert "UNIQUE" in definitions["commands_snapshot_key"]
    # Replaced by processes_name_observed_idx, or left without a query: dropped.
    assert "processes_pid_name_idx" not in definitions
    assert "processes_user_idx" not in definitions
    assert {name for name in definitions if name.startswith("processes_")} == {
        "processes_pkey",
        "processes_name_observed_idx",
        "processes_machine_observed_idx",
    }
    with psycopg.connect(database_url) as conn:
        foreign_keys = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'processes'::regclass"
            " AND contype = 'f'"
        ).fetchall()
    # The writer keeps processes with their snapshot; a row-by-row key check halved the COPY.
    assert foreign_keys == []


def _drop_role(role: str) -> None:
    with psycopg.connect(SERVER_URL, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def api_role() -> Iterator[str]:
    """A role name of this test alone, dropped after the test's databases."""
    role = f"procmon_api_{uuid.uuid4().hex[:8]}"
    yield role
    _drop_role(role)


@pytest.fixture
def role_database(api_role: str) -> Iterator[str]:
    """A database URL (not yet created) whose teardown comes before the role's."""
    url = fresh_database_url("procmon_role")
    yield url
    drop_database(url)


def _role_state(conn: psycopg.Connection[Any], role: str) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication,"
        " rolbypassrls, rolconfig FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()
    assert row is not None, f"no role {role}"
    return tuple(row)


def _table_privileges(conn: psycopg.Connection[Any], role: str) -> dict[str, set[str]]:
    rows = conn.execute(
        # Partitions are left out: the API reads them through their parents.
        "SELECT g.table_name, g.privilege_type FROM information_schema.role_table_grants g"
        " JOIN pg_class c ON c.relname = g.table_name"
        " AND c.relnamespace = g.table_schema::regnamespace"
        " WHERE g.grantee = %s AND NOT c.relispartition",
        (role,),
    ).fetchall()
    privileges: dict[str, set[str]] = {}
    for table, privilege in rows:
        privileges.setdefault(table, set()).add(privilege)
    return privileges


READ_ONLY_ROLE = (True, False, False, False, False, False, ["default_transaction_read_only=on"])
# The migrations table too: the API's start-up check reads it.
EVERY_TABLE_READABLE = {table: {"SELECT"} for table in (*TABLES, "procmon_partitions")}


def test_migrate_makes_the_api_a_role_that_can_only_read(api_role: str, role_database: str) -> None:
    migrate(role_database, api_role=api_role)
    with psycopg.connect(role_database) as conn:
        assert _role_state(conn, api_role) == READ_ONLY_ROLE
        assert _table_privileges(conn, api_role) == EVERY_TABLE_READABLE
        may = conn.execute(
            "SELECT has_database_privilege(%(r)s, current_database(), 'CONNECT'),"
            " has_schema_privilege(%(r)s, 'public', 'USAGE'),"
            " has_schema_privilege(%(r)s, 'public', 'CREATE')",
            {"r": api_role},
        ).fetchone()
        assert may == (True, True, False)
        # A table a later schema adds is readable too, and only readable.
        conn.execute("CREATE TABLE added_later (x int)")
        assert _table_privileges(conn, api_role)["added_later"] == {"SELECT"}


def test_migrate_takes_back_what_was_granted_to_the_role_since(
    api_role: str, role_database: str
) -> None:
    migrate(role_database, api_role=api_role)
    with psycopg.connect(role_database, autocommit=True) as conn:
        role = sql.Identifier(api_role)
        conn.execute(sql.SQL("GRANT INSERT, DELETE ON commands TO {}").format(role))
        conn.execute(sql.SQL("ALTER ROLE {} CREATEDB NOLOGIN").format(role))
        conn.execute(sql.SQL("ALTER ROLE {} RESET default_transaction_read_only").format(role))
    migrate(role_database, api_role=api_role)
    with psycopg.connect(role_database) as conn:
        assert _role_state(conn, api_role) == READ_ONLY_ROLE
        assert _table_privileges(conn, api_role) == EVERY_TABLE_READABLE


def test_the_password_is_stored_as_a_scram_verifier(api_role: str, role_database: str) -> None:
    migrate(role_database, api_role=api_role, api_password="s3cret pass'word")
    with psycopg.connect(role_database) as conn:
        row = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (api_role,)
        ).fetchone()
    assert row is not None
    assert row[0].startswith("SCRAM-SHA-256$")
    assert "s3cret" not in row[0]


def test_concurrent_migrations_of_several_databases_share_one_new_role(api_role: str) -> None:
    urls = [fresh_database_url("procmon_role") for _ in range(4)]
    barrier = threading.Barrier(len(urls))

    def run(url: str) -> None:
        barrier.wait()
        migrate(url, api_role=api_role)

    try:
        with ThreadPoolExecutor(len(urls)) as pool:
            for done in [pool.submit(run, url) for url in urls]:
                done.result(timeout=60)
        for url in urls:
            with psycopg.connect(url) as conn:
                assert _table_privileges(conn, api_role) == EVERY_TABLE_READABLE
    finally:
        for url in urls:
            drop_database(url)


def test_the_migrating_user_is_never_made_the_api_role(role_database: str) -> None:
    with pytest.raises(ConfigurationError, match="is the user that migrates"):
        migrate(role_database, api_role="postgres")
    with psycopg.connect(role_database) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'").fetchone()
        assert conn.execute("SELECT to_regclass('commands')").fetchone() == (None,)


def test_an_existing_superuser_role_is_refused_not_demoted(
    api_role: str, role_database: str
) -> None:
    with psycopg.connect(SERVER_URL, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} SUPERUSER NOLOGIN").format(sql.Identifier(api_role)))
    with pytest.raises(ConfigurationError, match="is a superuser; procmon will not demote it"):
        migrate(role_database, api_role=api_role)
    with psycopg.connect(role_database) as conn:
        assert _role_state(conn, api_role)[1] is True


def test_a_migrating_user_without_createrole_gets_a_clear_error(
    api_role: str, role_database: str
) -> None:
    owner = f"{api_role}_owner"
    with psycopg.connect(SERVER_URL, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(owner)))
    try:
        with pytest.raises(StorageError, match="give it CREATEROLE"):
            migrate(make_conninfo(role_database, user=owner), api_role=api_role)
    finally:
        drop_database(role_database)
        _drop_role(owner)
