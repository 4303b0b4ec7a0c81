"""Creating the database and applying ``schema.sql`` (``procmon migrate``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from procmon.errors import StorageError

__all__ = ["create_database", "drop_database", "ensure_database", "migrate", "schema_sql"]

_MAINTENANCE_DB = "postgres"


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


def migrate(database_url: str) -> None:
    """Create the database if needed and apply ``schema.sql`` (idempotent)."""
    ensure_database(database_url)
    try:
        with psycopg.connect(database_url) as conn:
            # A lock so that several migrate runs (one per worker container) do not race.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('procmon.migrate'))")
            conn.execute(schema_sql().encode())
    except psycopg.Error as exc:
        raise StorageError(f"applying schema.sql failed: {exc}") from exc
