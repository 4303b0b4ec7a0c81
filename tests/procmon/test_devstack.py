"""The dev stack's choice of services: given, local default, or embedded stand-in."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import redis

from procmon.database import api_database_url, migrate, migrate_for
from procmon.devstack import DevStack
from procmon.settings import Settings
from tests.conftest import migrated_database

UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:1/procmon"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def _defaults(**values: str) -> Settings:
    """Settings as if these values were the defaults, i.e. not set by the user."""
    return Settings.model_construct(_fields_set=set(), **(Settings().model_dump() | values))


def test_a_given_url_is_used_even_when_it_does_not_answer() -> None:
    stack = DevStack(Settings(database_url=UNREACHABLE_POSTGRES, redis_url=UNREACHABLE_REDIS))
    stack.resolve_postgres()
    stack.resolve_redis()
    assert stack.effective().database_url == UNREACHABLE_POSTGRES
    assert stack.effective().redis_url == UNREACHABLE_REDIS


def test_local_defaults_are_used_when_they_answer(tmp_path: Path) -> None:
    stack = DevStack(_defaults(), data_dir=tmp_path)
    stack.resolve_postgres()
    stack.resolve_redis()
    # The local server, but the demo's own database on it.
    assert stack.overrides == {"database_url": "postgresql://postgres@127.0.0.1:5432/procmon_demo"}
    assert not (tmp_path / "pgdata").exists()


@pytest.mark.timeout(120)
def test_embedded_stand_ins_start_when_nothing_answers(tmp_path: Path) -> None:
    stack = DevStack(
        _defaults(database_url=UNREACHABLE_POSTGRES, redis_url=UNREACHABLE_REDIS),
        data_dir=tmp_path / "data",
    )
    try:
        stack.resolve_postgres()
        stack.resolve_redis()
        effective = stack.effective()
        with psycopg.connect(effective.database_url, dbname="postgres") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert effective.redis_url.startswith("unix://")
        assert redis.Redis.from_url(effective.redis_url).ping()
    finally:
        stack.stop()


@pytest.mark.timeout(120)
def test_on_the_embedded_server_the_api_reads_as_its_own_role(tmp_path: Path) -> None:
    stack = DevStack(_defaults(database_url=UNREACHABLE_POSTGRES), data_dir=tmp_path / "data")
    try:
        stack.resolve_postgres()
        effective = stack.effective()
        # What `procmon up` does next: migrate, then serve the API as the role.
        migrate_for(effective)
        with psycopg.connect(api_database_url(effective), autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("procmon_api",)
            conn.execute("SET default_transaction_read_only = off")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM api_keys")
    finally:
        stack.stop()


# The method of raw_outputs.raw_output and of the column in each of its partitions.
_RAW_OUTPUT_COMPRESSION = (
    "SELECT array_agg(DISTINCT attcompression::text) FROM pg_attribute"
    " WHERE attname = 'raw_output' AND attrelid IN (SELECT 'raw_outputs'::regclass"
    " UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = 'raw_outputs'::regclass)"
)


def test_a_server_with_lz4_compresses_raw_output_with_it() -> None:
    with migrated_database("devstack_lz4") as url:
        migrate(url)  # a second migration leaves the column as the first set it
        with psycopg.connect(url) as conn:
            assert conn.execute(_RAW_OUTPUT_COMPRESSION).fetchone() == (["l"],)


@pytest.mark.timeout(120)
def test_the_embedded_server_without_lz4_takes_the_schema_and_stores_a_listing(
    tmp_path: Path,
) -> None:
    stack = DevStack(_defaults(database_url=UNREACHABLE_POSTGRES), data_dir=tmp_path / "data")
    try:
        stack.resolve_postgres()
        url = stack.effective().database_url
        migrate(url)
        migrate(url)
        with psycopg.connect(url) as conn:
            supported = conn.execute(
                "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"
            ).fetchone()
            assert supported == (["pglz"],)
            # Default compression (an empty attcompression): the server's own choice, pglz.
            assert conn.execute(_RAW_OUTPUT_COMPRESSION).fetchone() == ([""],)
            conn.execute(
                "INSERT INTO raw_outputs (command_id, timestamp, raw_output)"
                " VALUES (1, now(), repeat('x', 100000))"
            )
            assert conn.execute("SELECT length(raw_output) FROM raw_outputs").fetchone() == (
                100000,
            )
    finally:
        stack.stop()
