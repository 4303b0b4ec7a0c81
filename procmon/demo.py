"""What ``procmon up`` adds for a newcomer once its services run: the demo's own data and key.

Its own database, the sample machines published once per database, this machine's listings
while it runs, a reader key kept and reused, the ``demo.env`` a second terminal sources, and the
banner saying where everything is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from procmon.api_keys import active_keys, create_api_key, hash_token
from procmon.envelope import Envelope
from procmon.errors import ProcmonError
from procmon.kafka import publish
from procmon.settings import ENV_PREFIX, Settings

__all__ = [
    "DEMO_DATABASE",
    "banner",
    "demo_key",
    "publish_demo_fleet",
    "publish_this_machine",
    "write_env_file",
]

log = logging.getLogger(__name__)

DEMO_DATABASE = "procmon_demo"
"""The demo's own database, so that it neither shows nor adds to the default ``procmon`` one."""
# What a second terminal needs to reach this stack's services (`procmon submit`, `apikey`...).
_SHARED_FIELDS = (
    "database_url",
    "redis_url",
    "redis_prefix",
    "kafka_bootstrap",
    "kafka_idempotence",
    "topic",
)
_HOLDS_ANY_MACHINE = "SELECT EXISTS (SELECT FROM commands WHERE machine_id = ANY(%s))"
_EXAMPLE_QUERY = "{ machines { machineId machineName osType labels lastSeen snapshotCount } }"


def banner(settings: Settings, *, base: str, key: str, env_file: Path) -> str:
    """What ``procmon up`` prints once it is up: each service's address, the key, an example."""
    return (
        f"\nprocmon is up.\n  broker:   {settings.kafka_bootstrap}\n"
        f"  metrics:  http://{settings.metrics_host}:{settings.metrics_port}/metrics\n"
        f"  GraphiQL: {base}/graphql\n"
        f"  API key:  {key}\n"
        f"  browser:  {base}/graphql#key={key}  (GraphiQL, the key in its Headers tab)\n"
        f"  example:  curl -s {base}/graphql -H 'Authorization: Bearer {key}' "
        f"-H 'content-type: application/json' -d '{{\"query\": \"{_EXAMPLE_QUERY}\"}}'\n"
        f"  settings: {env_file} (in another terminal: . {env_file})\n"
        f"{env_file.read_text()}"
        "Press Ctrl-C to stop.\n"
    )


def demo_key(database_url: str, path: Path) -> str:
    """The demo's reader key, kept in PATH (owner-only) and reused while the database accepts it.

    A reader key, not an admin one: the demo shows the API as it runs in production.
    """
    with contextlib.suppress(FileNotFoundError):
        token = path.read_text(encoding="utf-8").strip()
        if hash_token(token) in asyncio.run(_active_key_hashes(database_url)):
            return token
    token = create_api_key(database_url, name="demo", role="reader")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(token)
    return token


async def _active_key_hashes(database_url: str) -> set[bytes]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        return set(await active_keys(conn))


def write_env_file(settings: Settings, path: Path) -> Path:
    """Write the ``export PROCMON_...`` lines of the stack's services to PATH; return it."""
    values = settings.model_dump(mode="json", include=set(_SHARED_FIELDS))
    lines = []
    for field in _SHARED_FIELDS:
        value = values[field]
        text = str(value).lower() if isinstance(value, bool) else str(value)
        lines.append(f"export {ENV_PREFIX}{field.upper()}={shlex.quote(text)}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def publish_demo_fleet(settings: Settings, *, collect_this_machine: bool) -> None:
    """Publish the bundled samples of other systems, once per database (each machine's
    listings a minute apart, the last now), and, if asked, this machine's listing."""
    from procmon.samples import sample_envelopes

    now = datetime.now(UTC).astimezone()
    envelopes = sample_envelopes(now)
    if _holds_any_machine(settings.database_url, [e.machine_id for e in envelopes]):
        envelopes = []
    if collect_this_machine:
        envelopes += _this_machine(settings, now)
    asyncio.run(publish(settings, envelopes))


def publish_this_machine(settings: Settings) -> None:
    """Publish a listing of this machine taken now: what ``procmon up`` repeats while it runs,
    every ``PROCMON_DEMO_COLLECT_INTERVAL`` seconds, so that its own machine gains history."""
    envelopes = _this_machine(settings, datetime.now(UTC).astimezone())
    # A listing lost to a broker hiccup is only a gap in the demo's history, not its end.
    try:
        asyncio.run(publish(settings, envelopes))
    except ProcmonError as exc:
        log.warning("could not publish this machine's listing: %s", exc)


def _this_machine(settings: Settings, now: datetime) -> list[Envelope]:
    """This machine's listing as ``procmon collect`` takes it (with the labels of
    ``PROCMON_LABELS``), or none (with a warning)."""
    from procmon.collector import collect_listing, local_identity

    try:
        return [collect_listing(local_identity(labels=settings.labels), now)]
    except ProcmonError as exc:
        log.warning("could not collect this machine's listing: %s", exc)
        return []


def _holds_any_machine(database_url: str, machine_ids: list[str]) -> bool:
    """Whether the database has a snapshot of any of these machines (an earlier run's samples)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(_HOLDS_ANY_MACHINE, (machine_ids,)).fetchone()
    return bool(row and row[0])
