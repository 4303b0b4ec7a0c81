"""Applying migrations: in order, each in its own transaction with its row, one run at a time.

The record is the table ``schema_migrations``. Runs take turns on a session advisory lock,
taken before that table is created, so that several runs started at once on a new database
(one per container) end with one applied set and no error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from procmon.errors import StorageError
from procmon.migrations.files import Migration
from procmon.migrations.status import AppliedMigration, SchemaStatus, compare_migrations

__all__ = [
    "MIGRATIONS_TABLE",
    "MigrationRun",
    "apply_pending",
    "migration_lock",
    "read_status",
    "record_as_applied",
]

log = logging.getLogger(__name__)

MIGRATIONS_TABLE = "schema_migrations"

# The key procmon's migrate took before versioned migrations too (as a transaction lock): a
# run of an earlier version and one of this version take turns as well.
_LOCK = "SELECT pg_advisory_lock(hashtext('procmon.migrate'))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('procmon.migrate'))"
_CREATE_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    -- SHA-256 of the file as it was applied: a file changed since is reported.
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""
_TABLES = """SELECT to_regclass('schema_migrations') IS NOT NULL,
                    to_regclass('commands') IS NOT NULL"""
_APPLIED = "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
_RECORD = "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"


@dataclass(frozen=True, slots=True)
class MigrationRun:
    """What one migrate run did: the migrations it applied, and the version it left."""

    applied: tuple[Migration, ...]
    version: int


@contextmanager
def migration_lock(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Hold the migrations' session advisory lock on ``conn`` (autocommit) for the block."""
    conn.execute(_LOCK)
    try:
        yield
    finally:
        # Closing the connection would release it too; a broken one has released it already.
        if not conn.broken:
            conn.execute(_UNLOCK)


def read_status(conn: psycopg.Connection[Any], migrations: Sequence[Migration]) -> SchemaStatus:
    """Where the database of ``conn`` stands against ``migrations``; reads, never writes."""
    row = conn.execute(_TABLES).fetchone()
    assert row is not None, "a query of constants returns its row"
    has_migrations_table, has_commands = bool(row[0]), bool(row[1])
    applied = []
    if has_migrations_table:
        applied = [AppliedMigration(*fields) for fields in conn.execute(_APPLIED).fetchall()]
    return compare_migrations(
        migrations,
        applied,
        has_migrations_table=has_migrations_table,
        has_commands=has_commands,
    )


def apply_pending(conn: psycopg.Connection[Any], migrations: Sequence[Migration]) -> MigrationRun:
    """Apply the ``migrations`` the database lacks, in order, each in a transaction of its own
    with its row in the migrations table; the caller holds :func:`migration_lock`.

    A migration that fails raises :class:`StorageError` naming its file and PostgreSQL's
    message; the database stays as the migrations before it left it.
    """
    status = read_status(conn, migrations)
    if status.predates_migrations:
        log.info(
            "the database was created before versioned migrations (it has commands, but no"
            " %s table): bringing it forward from the first migration, which is idempotent",
            MIGRATIONS_TABLE,
        )
    conn.execute(_CREATE_TABLE)
    _warn_about_differences(status)
    pending = {state.version for state in status.pending}
    version = status.version
    applied = []
    for migration in migrations:
        if migration.version not in pending:
            continue
        try:
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute(_RECORD, (migration.version, migration.name, migration.checksum))
        except psycopg.Error as exc:
            raise StorageError(
                f"migration {migration.filename} failed, the database stays at version"
                f" {version}: {exc}"
            ) from exc
        log.info("applied migration %s", migration.filename)
        applied.append(migration)
        version = max(version, migration.version)
    return MigrationRun(applied=tuple(applied), version=version)


def record_as_applied(conn: psycopg.Connection[Any], migrations: Sequence[Migration]) -> None:
    """Record ``migrations`` as applied without running them, in one transaction.

    For a database whose schema was made another way on purpose (the ingest benchmark's
    walking-skeleton schema), so that the worker's start-up check accepts it.
    """
    with conn.transaction():
        conn.execute(_CREATE_TABLE)
        for migration in migrations:
            conn.execute(_RECORD, (migration.version, migration.name, migration.checksum))


def _warn_about_differences(status: SchemaStatus) -> None:
    """Log what an operator should know before more is applied: edited files, newer code."""
    for state in status.changed:
        log.warning(
            "migration %s was applied from a file that has changed since (sha256 %s then,"
            " %s now): the database holds what the earlier file made; put a change to the"
            " schema in a new migration",
            state.filename,
            state.applied_checksum,
            state.file_checksum,
        )
    if status.unknown:
        log.warning(
            "the database has migrations this code does not know (%s): a newer procmon migrated it",
            ", ".join(state.filename for state in status.unknown),
        )
