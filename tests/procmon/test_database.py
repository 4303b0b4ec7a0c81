"""Schema and migration on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from procmon.database import drop_database, ensure_database, migrate
from tests.conftest import fresh_database_url


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
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
    assert tables == {"commands", "processes", "ingest_errors", "api_keys"}


def test_the_indexes_the_queries_need_exist(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ).fetchall()
    definitions = {name: definition for name, definition in rows}
    expected_columns = {
        "commands_snapshot_key": '(machine_id, "timestamp", content_hash)',
        "commands_timestamp_idx": '("timestamp")',
        "processes_pkey": "(command_id, line_number)",
        "processes_name_observed_idx": "(process_name, observed_at)",
        "processes_machine_observed_idx": "(machine_id, observed_at)",
        "ingest_errors_message_key": '(topic, partition, "offset")',
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
