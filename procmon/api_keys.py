"""API keys: created, listed and revoked by ``procmon apikey``, checked by the API.

A key is ``pmk_`` and 43 URL-safe characters (32 random bytes). Only its SHA-256 is stored,
with a name and a role: ``reader`` or ``admin``. The plaintext is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import tuple_row

from procmon.errors import ApiKeyError

__all__ = [
    "ROLES",
    "ApiKey",
    "Role",
    "active_keys",
    "create_api_key",
    "hash_token",
    "list_api_keys",
    "revoke_api_key",
]

Role = Literal["reader", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_PREFIX = "pmk_"

_INSERT = "INSERT INTO api_keys (name, key_hash, role) VALUES (%s, %s, %s)"
_LIST = "SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY id"
_REVOKE = """UPDATE api_keys SET revoked_at = now()
             WHERE revoked_at IS NULL AND (name = %(key)s OR id::text = %(key)s)"""
_ACTIVE_KEYS = "SELECT key_hash, role FROM api_keys WHERE revoked_at IS NULL"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """What ``procmon apikey list`` shows of a key: never the key itself."""

    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


def hash_token(token: str) -> bytes:
    """The SHA-256 stored for ``token``."""
    return hashlib.sha256(token.encode()).digest()


def create_api_key(database_url: str, name: str, role: str = "reader") -> str:
    """Create a key; return its token, which is not kept anywhere else."""
    if role not in ROLES:
        raise ApiKeyError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not name.strip():
        raise ApiKeyError("a key needs a name, e.g. --name alice-notebook")
    if re.fullmatch("[0-9]+", name):
        # `revoke` takes an id or a name: a numeric name would revoke the key of that id too.
        raise ApiKeyError(f"a key's name cannot be a number (it reads as a key id): {name!r}")
    token = _PREFIX + secrets.token_urlsafe(32)
    with psycopg.connect(database_url) as conn:
        conn.execute(_INSERT, (name, hash_token(token), role))
    return token


def list_api_keys(database_url: str) -> list[ApiKey]:
    """Every key, revoked ones too, oldest first."""
    with psycopg.connect(database_url) as conn:
        return [ApiKey(*row) for row in conn.execute(_LIST).fetchall()]


def revoke_api_key(database_url: str, id_or_name: str) -> int:
    """Revoke the active keys with this id or name; return how many were revoked."""
    with psycopg.connect(database_url) as conn:
        revoked = conn.execute(_REVOKE, {"key": id_or_name}).rowcount
    if not revoked:
        raise ApiKeyError(f"no active API key has the id or name {id_or_name!r}")
    return revoked


async def active_keys(conn: AsyncConnection[Any]) -> dict[bytes, Role]:
    """The SHA-256 of every active key, with its role."""
    async with conn.cursor(row_factory=tuple_row) as cursor:
        await cursor.execute(_ACTIVE_KEYS)
        rows = await cursor.fetchall()
    return {bytes(digest): "admin" if role == "admin" else "reader" for digest, role in rows}
