"""Versioned migrations: numbered plain-SQL files (``NNNN_name.sql``, in this package) and the
small runner that applies them, recording each in ``schema_migrations``.

No migration library: yoyo and alembic bring lock and log tables of their own (alembic also
SQLAlchemy), and what procmon needs (an advisory lock, one transaction per file, a checksum)
is a hundred lines over psycopg.
"""

from __future__ import annotations

from procmon.migrations.files import Migration, load_migrations, packaged_migrations
from procmon.migrations.runner import (
    MIGRATIONS_TABLE,
    MigrationRun,
    apply_pending,
    migration_lock,
    read_status,
    record_as_applied,
)
from procmon.migrations.status import MigrationState, SchemaStatus

__all__ = [
    "MIGRATIONS_TABLE",
    "Migration",
    "MigrationRun",
    "MigrationState",
    "SchemaStatus",
    "apply_pending",
    "load_migrations",
    "migration_lock",
    "packaged_migrations",
    "read_status",
    "record_as_applied",
]
