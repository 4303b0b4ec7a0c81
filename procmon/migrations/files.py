"""The migrations as files: ``NNNN_name.sql`` in a directory, in the order of their numbers."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import pairwise

from procmon.errors import ConfigurationError

__all__ = ["Migration", "load_migrations", "migration_filename", "packaged_migrations"]

_FILE_NAME = re.compile(r"(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered migration: its version and name, its SQL and the SHA-256 of its file."""

    version: int
    name: str
    sql: bytes
    checksum: str

    @property
    def filename(self) -> str:
        """The file's name, ``NNNN_name.sql``."""
        return migration_filename(self.version, self.name)


def migration_filename(version: int, name: str) -> str:
    """The file name of migration ``version`` called ``name``."""
    return f"{version:04d}_{name}.sql"


def load_migrations(directory: Traversable) -> tuple[Migration, ...]:
    """The migrations of ``directory`` by version; files other than ``.sql`` are not read.

    A ``.sql`` file not named ``NNNN_name.sql`` (lower case), or two files of one number, is a
    :class:`ConfigurationError`: either would otherwise be skipped or applied in a silent order.
    """
    migrations: list[Migration] = []
    for entry in directory.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            raise ConfigurationError(
                f"migration file {entry.name!r} is not named NNNN_name.sql"
                " (four digits, then lower-case letters, digits and underscores)"
            )
        text = entry.read_bytes()
        migrations.append(
            Migration(
                version=int(match["version"]),
                name=match["name"],
                sql=text,
                checksum=hashlib.sha256(text).hexdigest(),
            )
        )
    migrations.sort(key=lambda migration: migration.version)
    for before, after in pairwise(migrations):
        if before.version == after.version:
            raise ConfigurationError(
                f"two migrations have the number {before.version:04d}:"
                f" {before.filename} and {after.filename}"
            )
    return tuple(migrations)


def packaged_migrations() -> tuple[Migration, ...]:
    """The migrations shipped with procmon, in ``procmon/migrations/``."""
    return load_migrations(resources.files("procmon.migrations"))
