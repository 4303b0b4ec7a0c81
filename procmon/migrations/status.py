"""Where a database stands against the code's migrations: applied, pending, changed, unknown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from procmon.migrations.files import Migration, migration_filename

__all__ = ["AppliedMigration", "MigrationState", "SchemaStatus", "compare_migrations"]


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """A row of the migrations table: a migration the database has."""

    version: int
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class MigrationState:
    """One migration, from the code's files, the database's table or both."""

    version: int
    name: str
    # When it was applied; None while it is pending.
    applied_at: datetime | None
    applied_checksum: str | None
    # The checksum of the code's file; None when the code has no such migration.
    file_checksum: str | None

    @property
    def filename(self) -> str:
        """The migration's file name, ``NNNN_name.sql``."""
        return migration_filename(self.version, self.name)

    @property
    def pending(self) -> bool:
        """The code has it and the database does not."""
        return self.applied_at is None

    @property
    def known(self) -> bool:
        """The code has its file (a database migrated by a newer procmon has others)."""
        return self.file_checksum is not None

    @property
    def file_changed(self) -> bool:
        """It was applied from a file whose bytes are not those of the code's file now."""
        return self.known and not self.pending and self.applied_checksum != self.file_checksum


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """A database's migrations beside the code's, in the order of their versions."""

    has_migrations_table: bool
    has_commands: bool
    migrations: tuple[MigrationState, ...]

    @property
    def predates_migrations(self) -> bool:
        """Created by a procmon from before versioned migrations: tables but no record."""
        return self.has_commands and not self.has_migrations_table

    @property
    def version(self) -> int:
        """The highest version applied, 0 when none is."""
        return max((m.version for m in self.migrations if not m.pending), default=0)

    @property
    def code_version(self) -> int:
        """The highest version the code has, 0 when it has none."""
        return max((m.version for m in self.migrations if m.known), default=0)

    @property
    def pending(self) -> tuple[MigrationState, ...]:
        """The code's migrations the database lacks."""
        return tuple(m for m in self.migrations if m.pending)

    @property
    def unknown(self) -> tuple[MigrationState, ...]:
        """Migrations the database has and the code does not: it is newer than the code."""
        return tuple(m for m in self.migrations if not m.known)

    @property
    def changed(self) -> tuple[MigrationState, ...]:
        """Applied migrations whose file has changed since."""
        return tuple(m for m in self.migrations if m.file_changed)


def compare_migrations(
    migrations: Sequence[Migration],
    applied: Sequence[AppliedMigration],
    *,
    has_migrations_table: bool,
    has_commands: bool,
) -> SchemaStatus:
    """The status of a database that has ``applied``, against the code's ``migrations``."""
    files = {migration.version: migration for migration in migrations}
    rows = {row.version: row for row in applied}
    states = [
        MigrationState(
            version=version,
            name=files[version].name if version in files else rows[version].name,
            applied_at=rows[version].applied_at if version in rows else None,
            applied_checksum=rows[version].checksum if version in rows else None,
            file_checksum=files[version].checksum if version in files else None,
        )
        for version in sorted(files.keys() | rows.keys())
    ]
    return SchemaStatus(
        has_migrations_table=has_migrations_table,
        has_commands=has_commands,
        migrations=tuple(states),
    )
