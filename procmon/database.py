"""Creating the database, migrating it, the API's read-only role, and the start-up check.

``procmon migrate`` runs as the owner of the schema (the user of ``PROCMON_DATABASE_URL``),
applies the numbered migrations of :mod:`procmon.migrations` and sets up the API's read-only
role (:mod:`procmon.migrations.api_role`). The worker and the API refuse a database older than
the code (:func:`require_current_schema`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import tuple_row

from procmon.errors import ConfigurationError, DatabaseUnreachableError, StorageError
from procmon.migrations import (
    Migration,
    MigrationRun,
    SchemaStatus,
    apply_pending,
    migration_lock,
    packaged_migrations,
    read_status,
)
from procmon.migrations.api_role import ensure_api_role, grant_reading
from procmon.partitions import ensure_ahead
from procmon.settings import Settings

__all__ = [
    "WriteAccessCheck",
    "api_database_url",
    "check_schema_at_start",
    "create_database",
    "drop_database",
    "ensure_database",
    "migrate",
    "migrate_for",
    "migration_status",
    "require_current_schema",
]

log = logging.getLogger(__name__)

_MAINTENANCE_DB = "postgres"
_DEFAULT_API_ROLE: str = Settings.model_fields["api_database_role"].default
_DEFAULT_PARTITION_DAYS: int = Settings.model_fields["partition_days"].default
_DEFAULT_AHEAD_DAYS: int = Settings.model_fields["partitions_ahead_days"].default
# Whether the schema has time partitions (a run of early migrations only has none).
_HAS_PARTITIONS = "SELECT to_regproc('procmon_ensure_partitions') IS NOT NULL"

_WRITE_ACCESS = """SELECT r.rolsuper, has_schema_privilege(current_schema(), 'CREATE'),
                       array(SELECT c.relname::text FROM pg_class c
                             WHERE c.relnamespace = current_schema()::regnamespace
                               AND c.relkind IN ('r', 'p')
                               AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                             ORDER BY c.relname)
                   FROM pg_roles r WHERE r.rolname = current_user"""


def _shown(database_url: str) -> str:
    """``database_url`` as a conninfo without its password, for messages."""
    params = conninfo_to_dict(database_url)
    params.pop("password", None)
    return make_conninfo("", **params)


def _unreachable(database_url: str, exc: psycopg.OperationalError) -> StorageError:
    """The error that says PostgreSQL did not answer at ``database_url``, or refused us."""
    message = f"cannot reach PostgreSQL at {_shown(database_url)!r}: {exc}"
    # libpq gives a failed connection no SQLSTATE; a server that answered and refused (no such
    # database, authentication) is told by its FATAL report, which libpq quotes.
    answered = "FATAL:" in str(exc)
    return StorageError(message) if answered else DatabaseUnreachableError(message)


def _split(database_url: str) -> tuple[str, str]:
    """Return the maintenance-database URL and the database name of ``database_url``."""
    params = conninfo_to_dict(database_url)
    name = params.get("dbname")
    if not name:
        raise StorageError(f"the database URL names no database: {_shown(database_url)!r}")
    return make_conninfo(database_url, dbname=_MAINTENANCE_DB), str(name)


def create_database(database_url: str) -> None:
    """Create the database ``database_url`` names; it must not exist yet."""
    maintenance_url, name = _split(database_url)
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        _create(conn, name)


def _create(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(database_url: str) -> None:
    """Drop the database ``database_url`` names, ending its open sessions."""
    maintenance_url, name = _split(database_url)
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def ensure_database(database_url: str) -> bool:
    """Create the database when it is missing; return whether it was created."""
    maintenance_url, name = _split(database_url)
    try:
        with psycopg.connect(maintenance_url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return False
            try:
                _create(conn, name)
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                # Created meanwhile by a migrate run started at the same time (the server
                # reports that race either way).
                return False
    except psycopg.OperationalError as exc:
        raise _unreachable(maintenance_url, exc) from exc
    except psycopg.Error as exc:
        raise StorageError(f"cannot create the database {name!r}: {exc}") from exc
    return True


def api_database_url(settings: Settings) -> str:
    """The URL the API connects with: the replica's (else the database's) as the API's role.

    The user and password of the URL are replaced by ``api_database_role`` and
    ``api_database_password``; an empty role keeps the URL as it is.
    """
    url = settings.api_read_database_url or settings.database_url
    if not settings.api_database_role:
        return url
    params = conninfo_to_dict(url)
    params.pop("password", None)
    params["user"] = settings.api_database_role
    if settings.api_database_password:
        params["password"] = settings.api_database_password
    return make_conninfo("", **params)


def migrate(
    database_url: str,
    *,
    api_role: str = _DEFAULT_API_ROLE,
    api_password: str | None = None,
    migrations: Sequence[Migration] | None = None,
    partition_days: int = _DEFAULT_PARTITION_DAYS,
    partitions_ahead_days: int = _DEFAULT_AHEAD_DAYS,
) -> MigrationRun:
    """Create the database if needed, apply the pending migrations (by default procmon's own),
    create the time partitions of today and ``partitions_ahead_days`` after it,
    ``partition_days`` wide, and set up the API's role; an empty ``api_role`` leaves roles
    alone.

    Safe to run any time and from several processes at once: they take turns.
    """
    chosen = packaged_migrations() if migrations is None else migrations
    ensure_database(database_url)
    if api_role:
        ensure_api_role(_split(database_url)[0], api_role, api_password)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn, migration_lock(conn):
            run = apply_pending(conn, chosen)
            if conn.execute(_HAS_PARTITIONS).fetchone() == (True,):
                ensure_ahead(
                    conn,
                    now=datetime.now(UTC),
                    width_days=partition_days,
                    ahead_days=partitions_ahead_days,
                )
            if api_role:
                # Under the lock as well: two runs granting on one table at once can fail.
                with conn.transaction():
                    grant_reading(conn, api_role)
    except psycopg.Error as exc:
        raise StorageError(f"migrating {_shown(database_url)!r} failed: {exc}") from exc
    return run


def migrate_for(settings: Settings) -> MigrationRun:
    """``procmon migrate``: :func:`migrate` the settings' database and the API's role."""
    return migrate(
        settings.database_url,
        api_role=settings.api_database_role,
        api_password=settings.api_database_password,
        partition_days=settings.partition_days,
        partitions_ahead_days=settings.partitions_ahead_days,
    )


def migration_status(
    database_url: str, *, migrations: Sequence[Migration] | None = None
) -> SchemaStatus:
    """Where the database stands against the migrations (by default procmon's own)."""
    chosen = packaged_migrations() if migrations is None else migrations
    try:
        with psycopg.connect(database_url) as conn:
            return read_status(conn, chosen)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ConfigurationError(
            f"cannot read the migrations of {_shown(database_url)!r} ({exc}): run"
            " `procmon migrate`, which lets the API's role read every table"
        ) from exc
    except psycopg.OperationalError as exc:
        raise _unreachable(database_url, exc) from exc
    except psycopg.Error as exc:
        raise StorageError(
            f"cannot read the migrations of {_shown(database_url)!r}: {exc}"
        ) from exc


def require_current_schema(
    database_url: str, *, migrations: Sequence[Migration] | None = None
) -> SchemaStatus:
    """Refuse, with a :class:`ConfigurationError` saying to run ``procmon migrate``, a database
    older than the code: one never migrated, or with migrations pending.

    A database newer than the code (migrations it does not know) is accepted with a warning:
    a rolling upgrade migrates first, while the earlier code still runs.
    """
    status = migration_status(database_url, migrations=migrations)
    shown = _shown(database_url)
    if status.predates_migrations:
        raise ConfigurationError(
            f"the database {shown!r} was created before versioned migrations:"
            " run `procmon migrate` to bring it forward"
        )
    if not status.has_migrations_table:
        raise ConfigurationError(
            f"the database {shown!r} has no procmon schema: run `procmon migrate`"
        )
    if status.pending:
        raise ConfigurationError(
            f"the database {shown!r} is at version {status.version}, older than this code"
            f" ({status.code_version}; pending: {', '.join(m.filename for m in status.pending)}):"
            " run `procmon migrate`"
        )
    if status.unknown:
        log.warning(
            "the database %r has migrations this code does not know (%s), from a newer"
            " procmon: starting all the same, as during a rolling upgrade",
            shown,
            ", ".join(m.filename for m in status.unknown),
        )
    return status


def check_schema_at_start(database_url: str) -> None:
    """:func:`require_current_schema` for a worker or an API starting: a server that does not
    answer yet is no reason to stay down (the worker retries and parks its writes, the API
    answers its health check), so it is logged and the start goes on unchecked."""
    try:
        require_current_schema(database_url)
    except DatabaseUnreachableError as exc:
        log.warning("%s: starting without checking the schema's version", exc)


class WriteAccessCheck:
    """Warns, once, when the role of the API's connections could write.

    The API sets ``default_transaction_read_only`` on its connections, but any role may turn
    that off again: only a role without write privileges keeps a faulty query from writing.
    """

    def __init__(self) -> None:
        self._checked = False

    async def __call__(self, conn: AsyncConnection[Any]) -> None:
        """Check the role of ``conn`` if no connection was checked yet."""
        if self._checked:
            return
        self._checked = True
        try:
            async with conn.cursor(row_factory=tuple_row) as cursor:
                await cursor.execute(_WRITE_ACCESS)
                row = await cursor.fetchone()
        except psycopg.Error as exc:
            log.warning("could not check whether the API's role can write: %s", exc)
            return
        if row is None:
            return
        superuser, can_create, writable = row
        reasons = ["it is a superuser"] if superuser else []
        if writable:
            reasons.append(f"it may write to {', '.join(writable)}")
        if can_create:
            reasons.append("it may create tables")
        if reasons:
            log.warning(
                "the API connects to PostgreSQL as %r, which can write (%s): set"
                " PROCMON_API_DATABASE_ROLE to a read-only role, such as the one"
                " `procmon migrate` creates",
                conn.info.user,
                "; ".join(reasons),
            )
