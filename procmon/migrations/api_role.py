"""The API's read-only role, which ``procmon migrate`` creates or repairs, then lets read.

The API connects as a role of its own (``PROCMON_API_DATABASE_ROLE``) that may log in and read,
nothing else: a bug in one of its query paths can then write nothing.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from procmon.errors import ConfigurationError, StorageError

__all__ = ["ensure_api_role", "grant_reading"]

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


def ensure_api_role(maintenance_url: str, role: str, password: str | None) -> None:
    """Create the API's role, or bring it back to read-only; set its password if given.

    ``maintenance_url`` is a database of the server other than the migrated one, since a role
    belongs to the whole server.
    """
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


def grant_reading(conn: psycopg.Connection[Any], role: str) -> None:
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
