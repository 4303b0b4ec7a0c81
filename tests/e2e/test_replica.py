"""The API on a real streaming replica: it reads there, and answers while the primary is away.

The shared test server allows no replication connections, so this test makes a primary and
its replica of its own (initdb, then pg_basebackup), on free ports, in a temporary directory.
PostgreSQL refuses to run as root, so as root (CI, containers) they run as `postgres`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from graphql_api import create_app
from procmon.api_keys import create_api_key, revoke_api_key
from procmon.database import migrate
from procmon.devstack import free_port
from procmon.errors import StorageError
from procmon.settings import Settings
from streams.sql import SUMMARIZE_MACHINES
from tests.conftest import make_partitions

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "replica-test-password"
MACHINES_QUERY = "{ machines { machineId snapshotCount } }"
# Only the API's role needs a password: the test proves that migrate set the right one.
PG_HBA = """local all all trust
host replication postgres 127.0.0.1/32 trust
host all procmon_api 127.0.0.1/32 scram-sha-256
host all postgres 127.0.0.1/32 trust
"""

if not all((PG_BIN / name).is_file() for name in ("initdb", "pg_ctl", "pg_basebackup")):
    pytest.skip(f"PostgreSQL 15 server binaries are not in {PG_BIN}", allow_module_level=True)


@dataclass
class Cluster:
    """A PostgreSQL server of this test: its data directory, port and URL."""

    data: Path
    port: int
    socket_dir: Path

    def url(self, **params: str) -> str:
        """The URL of the ``procmon`` database on it, as ``postgres`` unless told."""
        base = f"postgresql://postgres@127.0.0.1:{self.port}/procmon"
        return make_conninfo(base, **params)

    def start(self) -> None:
        """Start it and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        _as_postgres(
            PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.data / "log",
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop it (``immediate``: as if the machine died)."""
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")


def _as_postgres(*argv: str | Path, check: bool = True) -> None:
    command = [str(arg) for arg in argv]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0 or not check, f"{command}:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    """A primary (wal_level=replica) and a streaming replica of it, both running."""
    root = Path(tempfile.mkdtemp(prefix="procmon-replica-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    primary = Cluster(root / "primary", free_port(), root)
    replica = Cluster(root / "replica", free_port(), root)
    started: list[Cluster] = []
    try:
        _as_postgres(PG_BIN / "initdb", "-D", primary.data, "-U", "postgres", "--auth=trust")
        (primary.data / "pg_hba.conf").write_text(PG_HBA)
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\n")
        primary.start()
        started.append(primary)
        _as_postgres(
            PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port),
            "-U", "postgres", "-D", replica.data, "-R", "-X", "stream", "--checkpoint=fast",
        )  # fmt: skip
        replica.start()
        started.append(replica)
        yield primary, replica
    finally:
        for cluster in started:
            # It may be stopped already, by the test or by its failure.
            _as_postgres(PG_BIN / "pg_ctl", "-D", cluster.data, "-m", "immediate", "stop",
                         check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _insert_fleet(url: str) -> None:
    """Two machines, three snapshots, one process row."""
    with psycopg.connect(url) as conn:
        make_partitions(conn, datetime(2026, 5, 1, tzinfo=UTC))
        for machine, minute in (("r-host-1", 0), ("r-host-1", 5), ("r-host-2", 0)):
            when = datetime(2026, 5, 1, 10, minute, tzinfo=UTC)
            key = f"{machine}@{when.isoformat()}"
            row = conn.execute(
                """INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                       command_type, "timestamp", content_hash, schema_version, format,
                       process_count)
                   VALUES (%s, %s, 'linux', '6.1', 'ps-axu', %s, %s, 1, 'ps aux', 1)
                   RETURNING id""",
                (machine, machine, when, hashlib.sha256(key.encode()).hexdigest()),
            ).fetchone()
            assert row is not None
            conn.execute(
                """INSERT INTO processes (command_id, machine_id, observed_at, line_number,
                       pid, process_name) VALUES (%s, %s, %s, 1, 1, 'init')""",
                (row[0], machine, when),
            )
        conn.execute(SUMMARIZE_MACHINES)


def _wait_for_replay(primary: Cluster, replica: Cluster) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with psycopg.connect(primary.url(dbname="postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    deadline = time.monotonic() + 60
    with psycopg.connect(replica.url(dbname="postgres"), autocommit=True) as conn:
        while time.monotonic() < deadline:
            caught_up = conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)
            ).fetchone()
            if caught_up == (True,):
                return
            time.sleep(0.1)
    raise AssertionError("the replica did not replay the primary's writes within 60 s")


def _api_sessions(cluster: Cluster) -> list[tuple[str, bool]]:
    """The API role's sessions on a server, each with whether the server is a standby."""
    with psycopg.connect(cluster.url(dbname="postgres")) as conn:
        rows = conn.execute(
            "SELECT usename::text, pg_is_in_recovery() FROM pg_stat_activity"
            " WHERE usename = 'procmon_api' AND datname = 'procmon'"
        ).fetchall()
    return [(str(user), bool(standby)) for user, standby in rows]


@asynccontextmanager
async def _serving(settings: Settings, token: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    # ASGITransport does not run the lifespan, and the lifespan is what opens the pool.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://procmon.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as client,
    ):
        yield client


async def _machines(client: httpx.AsyncClient) -> dict[str, int]:
    response = await client.post("/graphql", json={"query": MACHINES_QUERY})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return {m["machineId"]: m["snapshotCount"] for m in body["data"]["machines"]}


async def test_the_api_reads_from_the_replica_and_outlives_the_primary(
    clusters: tuple[Cluster, Cluster], redis_prefix: str
) -> None:
    primary, replica = clusters
    migrate(primary.url(), api_password=PASSWORD)
    _insert_fleet(primary.url())
    reader = create_api_key(primary.url(), name="replica-reader")
    _wait_for_replay(primary, replica)
    settings = Settings(
        database_url=primary.url(),
        # The replica's URL names the owner; the API swaps in its role and password.
        api_read_database_url=replica.url(),
        api_database_password=PASSWORD,
        redis_prefix=redis_prefix,
        # Every request's key is checked in the database, so the checks' source shows.
        api_key_cache_seconds=0,
        # No cached answer can stand in for the database while the primary is away.
        redis_url="redis://127.0.0.1:1/0",
    )
    async with _serving(settings, reader) as client:
        assert await _machines(client) == {"r-host-1": 2, "r-host-2": 1}
        # Its sessions are on the standby, none on the primary: the answers came from there.
        sessions = _api_sessions(replica)
        assert sessions
        assert set(sessions) == {("procmon_api", True)}
        assert _api_sessions(primary) == []

        primary.stop("immediate")
        try:
            assert await _machines(client) == {"r-host-1": 2, "r-host-2": 1}
            assert (await client.get("/healthz")).status_code == 200
            # Key checks read the replica too: a good key still works, a wrong one is refused.
            wrong = await client.post(
                "/graphql",
                json={"query": MACHINES_QUERY},
                headers={"Authorization": "Bearer pmk_not-a-key"},
            )
            assert wrong.status_code == 401
            # Keys are created and revoked on the primary: not while it is away.
            with pytest.raises((psycopg.OperationalError, StorageError)):
                revoke_api_key(primary.url(), "replica-reader")
        finally:
            primary.start()

        # Once the primary is back, a revocation reaches the API through the replica.
        revoke_api_key(primary.url(), "replica-reader")
        _wait_for_replay(primary, replica)
        deadline = time.monotonic() + 15
        refused = await client.post("/graphql", json={"query": MACHINES_QUERY})
        while refused.status_code == 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            refused = await client.post("/graphql", json={"query": MACHINES_QUERY})
        assert refused.status_code == 401
        assert refused.json() == {"errors": [{"message": "invalid or revoked API key"}]}
