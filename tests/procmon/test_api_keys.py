"""API keys: `procmon apikey create|list|revoke` against a real database; only hashes kept."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from procmon.api_keys import hash_token


def _apikey(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    return subprocess.run(
        [sys.executable, "-m", "procmon", "apikey", *args],
        env=env | {"PROCMON_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_create_list_and_revoke(clean_database: str) -> None:
    created = _apikey(clean_database, "create", "--name", "alice", "--role", "admin")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("pmk_")
    assert len(token) == 4 + 43
    assert "only time it is shown" in created.stderr
    with psycopg.connect(clean_database) as conn:
        stored = conn.execute("SELECT name, role, key_hash, revoked_at FROM api_keys").fetchall()
        whole_table = str(conn.execute("SELECT * FROM api_keys").fetchall())
    assert stored == [("alice", "admin", hash_token(token), None)]
    assert token not in whole_table
    assert token[4:] not in whole_table

    listed = _apikey(clean_database, "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert header.split("\t") == ["id", "name", "role", "created_at", "revoked_at"]
    assert row.split("\t")[1:3] == ["alice", "admin"]
    assert row.endswith("\t-")
    assert token not in listed.stdout

    revoked = _apikey(clean_database, "revoke", "alice")
    assert revoked.returncode == 0, revoked.stderr
    assert not _apikey(clean_database, "list").stdout.strip().endswith("\t-")
    again = _apikey(clean_database, "revoke", "alice")
    assert again.returncode == 2
    assert "no active API key has the id or name 'alice'" in again.stderr


def test_a_bad_role_is_refused(clean_database: str) -> None:
    result = _apikey(clean_database, "create", "--name", "x", "--role", "root")
    assert result.returncode == 2
    assert "invalid choice: 'root'" in result.stderr


def test_a_numeric_name_is_refused(clean_database: str) -> None:
    # `revoke 1` means the key of id 1; a key named "1" would be revoked with it.
    result = _apikey(clean_database, "create", "--name", "1")
    assert result.returncode == 2
    assert "a key's name cannot be a number" in result.stderr
    with psycopg.connect(clean_database) as conn:
        assert conn.execute("SELECT count(*) FROM api_keys").fetchone() == (0,)
