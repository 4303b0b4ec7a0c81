"""The migrations build the schema ``schema.sql`` describes: the catalog compared, not text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import pytest

from tests.conftest import migrated_database
from tests.procmon.test_migrations import database_made_with

SCHEMA_SQL = Path(__file__).resolve().parents[2] / "schema.sql"

# What makes two schemas the same, table by table, in the public schema; the migrations'
# own table is the runner's, not the schema's. Column positions are left out: a column a
# migration adds comes last, where schema.sql may keep it beside its kin. Partitions are left
# out too: which exist depends on the days of the rows and on when `procmon migrate` ran, and
# each is made by procmon_ensure_partitions from its parent, which is compared.
_CATALOG: dict[str, LiteralString] = {
    "tables": """SELECT c.relname, c.relkind::text, c.relpersistence::text FROM pg_class c
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v')
                   AND c.relname <> 'schema_migrations' AND NOT c.relispartition""",
    "columns": """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                         a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                         a.attcompression::text, a.attidentity::text, a.attgenerated::text
                  FROM pg_attribute a
                  JOIN pg_class c ON c.oid = a.attrelid
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                    AND c.relname <> 'schema_migrations' AND a.attnum > 0
                    AND NOT a.attisdropped AND NOT c.relispartition""",
    "constraints": """SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
                      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                      WHERE c.relnamespace = 'public'::regnamespace
                        AND c.relname <> 'schema_migrations' AND NOT c.relispartition""",
    "indexes": """SELECT i.indexname, i.indexdef FROM pg_indexes i
                  JOIN pg_class c ON c.relname = i.tablename
                   AND c.relnamespace = 'public'::regnamespace
                  WHERE i.schemaname = 'public' AND i.tablename <> 'schema_migrations'
                    AND NOT c.relispartition""",
    "partitioning": """SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_class c
                       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'p'""",
    "views": """SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'""",
    "functions": """SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
                    WHERE p.pronamespace = 'public'::regnamespace""",
    "sequences": """SELECT relname FROM pg_class
                    WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'""",
}

Catalog = dict[str, frozenset[tuple[Any, ...]]]


def schema_catalog(database_url: str) -> Catalog:
    """The tables, columns, constraints, indexes and sequences of the public schema."""
    with psycopg.connect(database_url) as conn:
        return {
            kind: frozenset(tuple(row) for row in conn.execute(query).fetchall())
            for kind, query in _CATALOG.items()
        }


def catalog_differences(migrated: Catalog, described: Catalog) -> list[str]:
    """One readable line per entry only one side has; empty when the schemas agree."""
    lines = []
    for kind in _CATALOG:
        for entry in sorted(migrated[kind] - described[kind], key=repr):
            lines.append(f"{kind}: only from the migrations: {entry}")
        for entry in sorted(described[kind] - migrated[kind], key=repr):
            lines.append(f"{kind}: only in schema.sql: {entry}")
    return lines


@pytest.fixture
def described_database() -> Iterator[str]:
    """An empty database with ``schema.sql`` applied as it stands."""
    with database_made_with(SCHEMA_SQL, "procmon_schema_sql") as url:
        yield url


@pytest.fixture(scope="module")
def migrated_catalog() -> Iterator[Catalog]:
    """The catalog of an empty database taken through every migration."""
    with migrated_database("procmon_catalog") as url:
        yield schema_catalog(url)


def test_the_migrations_build_the_schema_that_schema_sql_describes(
    migrated_catalog: Catalog, described_database: str
) -> None:
    differences = catalog_differences(migrated_catalog, schema_catalog(described_database))
    assert differences == [], "\n".join(
        ["the migrations and schema.sql give different schemas:", *differences]
    )
    # Not two empty catalogs agreeing: the comparison sees the tables and their columns.
    assert {row[0] for row in migrated_catalog["tables"]} == {
        "commands",
        "processes",
        "ingest_errors",
        "api_keys",
        "process_days",
        "process_keys",
        "procmon_partitions",
        "raw_outputs",
        "machines",
        "stats_hours",
        "stats_days",
        "stats_machine_hours",
        "stats_machine_days",
    }
    assert {row[0] for row in migrated_catalog["partitioning"]} == {
        "commands",
        "processes",
        "process_days",
        "raw_outputs",
        "stats_hours",
        "stats_days",
        "stats_machine_hours",
        "stats_machine_days",
    }
    assert {row[0] for row in migrated_catalog["functions"]} == {"procmon_ensure_partitions"}
    assert ("processes", "memory_usage_bytes") in {row[:2] for row in migrated_catalog["columns"]}


def test_the_comparison_sees_one_column_of_difference(
    migrated_catalog: Catalog, described_database: str
) -> None:
    with psycopg.connect(described_database) as conn:
        conn.execute("ALTER TABLE processes ADD COLUMN cpu_between_snapshots real")
        conn.execute("ALTER TABLE api_keys ALTER COLUMN name DROP NOT NULL")
    differences = catalog_differences(migrated_catalog, schema_catalog(described_database))
    assert len(differences) == 3, differences
    assert any(
        "only in schema.sql" in line and "'cpu_between_snapshots', 'real'" in line
        for line in differences
    )
    assert any(
        "only from the migrations" in line and "'api_keys', 'name', 'text', True" in line
        for line in differences
    )
