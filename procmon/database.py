"""Creating the database, applying ``schema.sql`` and the API's read-only role.

``procmon migrate`` runs as the owner of the schema (the user of ``PROCMON_DATABASE_URL``). The
API connects as a role of its own (``PROCMON_API_DATABASE_ROLE``) that may log in and read,
nothing else: a bug in one of its query paths can then write nothing.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import tuple_row

from procmon.errors import ConfigurationError, StorageError
from procmon.settings import Settings

__all__ = [
    "WriteAccessCheck",
    "api_database_url",
    "create_database",
    "drop_database",
    "ensure_database",
    "migrate",
    "migrate_for",
    "schema_sql",
]

log = logging.getLogger(__name__)

_MAINTENANCE_DB = "postgres"
_DEFAULT_API_ROLE: str = Settings.model_fields["api_database_role"].default

# Roles belong to the whole server, and advisory locks to one database: migrations of
# different databases take this lock in the maintenance database before touching the role.
_ROLE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('procmon.api-role'))"
_ROLE_STATE = """SELECT rolsuper, rolcanlogin AND NOT (rolcreatedb OR rolcreaterole
                     OR rolreplication OR rolbypassrls)
                     AND 'default_transaction_read_only=on' = ANY (coalesce(rolconfig, '{}'))
                 FROM pg_roles WHERE rolname = %s"""
_ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
_CREATE_ROLE = sql.SQL("CREATE ROLE {role} " + _ROLE_ATTRIBUTES)
_ALTER_ROLE = sql.SQL("ALTER ROLE {role} " + _ROLE_ATTRIBUTES)
_READ_ONLY_ROLE = sql.SQL("ALTER ROLE {role} SET default_transaction_read_only = on")
_ROLE_PASSWORD = sql.SQL("ALTER ROLE {role} PASSWORD {verifier}")
# Run in the migrated database: reading is all the API's role may do there, now and on the
# tables later migrations add.
_GRANT_READING = [
    sql.SQL("GRANT CONNECT ON DATABASE {database} TO {role}"),
    sql.SQL("GRANT USAGE ON SCHEMA {schema} TO {role}"),
    sql.SQL(
        "REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
        " ON ALL TABLES IN SCHEMA {schema} FROM {role}"
    ),
    sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}"),
    sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role}"),
]
_WRITE_ACCESS = """SELECT r.rolsuper, has_schema_privilege(current_schema(), 'CREATE'),
                       array(SELECT c.relname::text FROM pg_class c
                             WHERE c.relnamespace = current_schema()::regnamespace
                               AND c.relkind IN ('r', 'p')
                               AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                             ORDER BY c.relname)
                   FROM pg_roles r WHERE r.rolname = current_user"""


def schema_sql() -> str:
    """Return the text of ``schema.sql``, from the installed package or the source tree."""
    packaged = resources.files("procmon").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "schema.sql").read_text(encoding="utf-8")


def _split(database_url: str) -> tuple[str, str]:
    """Return the maintenance-database URL and the database name of ``database_url``."""
    params = conninfo_to_dict(database_url)
    name = params.get("dbname")
    if not name:
        raise StorageError(f"the database URL names no database: {database_url!r}")
    return make_conninfo(database_url, dbname=_MAINTENANCE_DB), str(name)


def create_database(database_url: str) -> None:
    """Create the database ``database_url`` names; it must not exist yet."""
    maintenance_url, name = _split(database_url)
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
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
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
    except psycopg.OperationalError as exc:
        raise StorageError(f"cannot reach PostgreSQL at {maintenance_url!r}: {exc}") from exc
    if exists:
        return False
    create_database(database_url)
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


def _ensure_role(database_url: str, role: str, password: str | None) -> None:
    """Create the API's role, or bring it back to read-only; set its password if given."""
    maintenance_url, _ = _split(database_url)
    names = {"role": sql.Identifier(role)}
    try:
        with psycopg.connect(maintenance_url) as conn:
            conn.execute(_ROLE_LOCK)
            owner = conn.execute("SELECT current_user").fetchone()
            if owner is not None and owner[0] == role:
                raise ConfigurationError(
                    f"the API's role {role!r} is the user that migrates: give the API a role"
                    " of its own (PROCMON_API_DATABASE_ROLE), or leave it empty for the API to"
                    " connect as that user"
                )
            state = conn.execute(_ROLE_STATE, (role,)).fetchone()
            if state is not None and state[0]:
                raise ConfigurationError(
                    f"the API's role {role!r} is a superuser; procmon will not demote it:"
                    " choose another PROCMON_API_DATABASE_ROLE"
                )
            if state is None:
                try:
                    with conn.transaction():
                        conn.execute(_CREATE_ROLE.format(**names))
                except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                    # Made meanwhile by something that does not take our lock (the server
                    # reports that race either way).
                    pass
            if state is None or not state[1]:
                conn.execute(_ALTER_ROLE.format(**names))
                conn.execute(_READ_ONLY_ROLE.format(**names))
            if password:
                # A SCRAM verifier rather than the password: it never reaches the server's logs.
                verifier = conn.pgconn.encrypt_password(password.encode(), role.encode())
                conn.execute(
                    _ROLE_PASSWORD.format(verifier=sql.Literal(verifier.decode()), **names)
                )
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StorageError(
            f"the user that migrates may not create or change the API's role {role!r} ({exc});"
            " give it CREATEROLE, or create the role as README.md shows, or leave"
            " PROCMON_API_DATABASE_ROLE empty for the API to connect as that user"
        ) from exc
    except psycopg.Error as exc:
        raise StorageError(f"setting up the API's role {role!r} failed: {exc}") from exc


def _grant_reading(conn: psycopg.Connection[Any], role: str) -> None:
    """Let ``role`` read every table of the migrated schema, and do nothing else there."""
    row = conn.execute("SELECT current_database(), current_schema()").fetchone()
    assert row is not None, "a query of constants returns its row"
    names = {
        "database": sql.Identifier(row[0]),
        "schema": sql.Identifier(row[1]),
        "role": sql.Identifier(role),
    }
    for statement in _GRANT_READING:
        conn.execute(statement.format(**names))


def migrate(
    database_url: str, *, api_role: str = _DEFAULT_API_ROLE, api_password: str | None = None
) -> None:
    """Create the database if needed, apply ``schema.sql`` and set up the API's role
    (idempotent); an empty ``api_role`` leaves roles alone."""
    ensure_database(database_url)
    if api_role:
        _ensure_role(database_url, api_role, api_password)
    try:
        with psycopg.connect(database_url) as conn:
            # A lock so that several migrate runs (one per worker container) do not race.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('procmon.migrate'))")
            conn.execute(schema_sql().encode())
            if api_role:
                _grant_reading(conn, api_role)
    except psycopg.Error as exc:
        raise StorageError(f"applying schema.sql failed: {exc}") from exc


def migrate_for(settings: Settings) -> None:
    """``procmon migrate``: :func:`migrate` the settings' database and the API's role."""
    migrate(
        settings.database_url,
        api_role=settings.api_database_role,
        api_password=settings.api_database_password,
    )


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
