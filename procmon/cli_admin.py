"""The commands that run and look after the system: services, replays, keys, settings."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from procmon.settings import ENV_PREFIX, Settings

if TYPE_CHECKING:
    from procmon.migrations import SchemaStatus

__all__ = [
    "cmd_api",
    "cmd_apikey_create",
    "cmd_apikey_list",
    "cmd_apikey_revoke",
    "cmd_dead_letters_list",
    "cmd_dead_letters_replay",
    "cmd_migrate",
    "cmd_relink",
    "cmd_replay",
    "cmd_retention_run",
    "cmd_rollup",
    "cmd_settings",
    "cmd_worker",
]


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    """Create the database if needed and apply the pending migrations; or, with ``--status``,
    list every migration, applied or pending."""
    from procmon.database import migrate_for, migration_status

    if args.status:
        _print_status(migration_status(settings.database_url))
        return
    run = migrate_for(settings)
    for migration in run.applied:
        print(f"applied {migration.filename}", file=sys.stderr)
    if not run.applied:
        print(f"the database is up to date (version {run.version})", file=sys.stderr)


def _print_status(status: SchemaStatus) -> None:
    """The lines of ``migrate --status``: a row a migration, then where the database stands."""
    print("version\tfile\tapplied_at\tstate")
    for m in status.migrations:
        state = "pending" if m.pending else "applied"
        if not m.known:
            state += ", unknown to this code (a newer procmon applied it)"
        if m.file_changed:
            state += (
                f", file CHANGED since (sha256 {m.applied_checksum} applied, {m.file_checksum} now)"
            )
        applied_at = m.applied_at.isoformat() if m.applied_at else "-"
        print(f"{m.version:04d}\t{m.filename}\t{applied_at}\t{state}")
    if status.predates_migrations:
        summary = "created before versioned migrations: `procmon migrate` brings it forward"
    elif status.pending:
        summary = (
            f"at version {status.version}, {len(status.pending)} pending: run `procmon migrate`"
        )
    else:
        summary = f"up to date (version {status.version})"
    print(f"the database is {summary}", file=sys.stderr)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    """Run a Faust worker, once the database has every migration of the code."""
    # Imported before the check: a client's install is told what to install, not about the schema.
    from procmon.database import check_schema_at_start
    from streams.app import run_worker

    check_schema_at_start(settings.database_url)
    run_worker(settings)


def cmd_api(settings: Settings, args: argparse.Namespace) -> None:
    """Serve the GraphQL API, once the database it reads has every migration of the code."""
    # Imported before the check: a client's install is told what to install, not about the schema.
    from graphql_api import run_api
    from procmon.database import api_database_url, check_schema_at_start

    check_schema_at_start(api_database_url(settings))
    run_api(settings, workers=args.workers or settings.api_workers)


def cmd_dead_letters_list(settings: Settings, args: argparse.Namespace) -> None:
    """Print the newest dead letters, then the parked messages."""
    from streams.dead_letter_admin import list_dead_letters, list_parked

    records = list_dead_letters(settings, since=args.since, limit=args.limit)
    print("id\treceived_at\tsource\tmachine\terror\treplayed\treason")
    for r in records:
        _print_row(
            str(r.id), r.received_at, (r.topic, r.partition, r.offset), r.machine_id,
            r.error_class, r.replayed_at, r.reason,
        )  # fmt: skip
    # Rows PostgreSQL would not take: marked PARKED in place of an id, with both reasons.
    parked, unreadable = list_parked(settings, since=args.since)
    for p in parked:
        reason = f"{p.reason}; not in ingest_errors: {p.storage_error}; file {p.path}"
        _print_row(
            "PARKED", p.parked_at, (p.topic, p.partition, p.offset), None,
            p.error_class, p.replayed_at, reason,
        )  # fmt: skip
    for path, why in unreadable:
        print(f"PARKED\t-\t-\t-\t-\t-\tunreadable file {path}: {why}")


def _print_row(
    first: str,
    when: datetime,
    source: tuple[str, int, int],
    machine_id: str | None,
    error_class: str,
    replayed_at: datetime | None,
    reason: str,
) -> None:
    """One tab-separated line of `dead-letters list`: a recorded or a parked message."""
    topic, partition, offset = source
    replayed = replayed_at.isoformat() if replayed_at else "-"
    print(
        f"{first}\t{when.isoformat()}\t{topic}/{partition}@{offset}\t{machine_id or '-'}\t"
        f"{error_class}\t{replayed}\t{reason}"
    )


def cmd_dead_letters_replay(settings: Settings, args: argparse.Namespace) -> None:
    """Send dead letters and parked messages not yet replayed back to the topic."""
    from streams.dead_letter_admin import replay_dead_letters

    outcome = asyncio.run(replay_dead_letters(settings, ids=args.id, since=args.since))
    print(
        f"replayed {outcome.replayed} dead letters and {outcome.parked_replayed} parked "
        f"messages to {settings.topic}",
        file=sys.stderr,
    )
    for path, why in outcome.not_replayed:
        print(f"  parked file {path}: {why}", file=sys.stderr)


def cmd_replay(settings: Settings, args: argparse.Namespace) -> None:
    """Reprocess the topic's history into the database."""
    from streams.replay import replay_topic

    result = asyncio.run(replay_topic(settings, since=args.since))
    print(
        f"read {result.messages} messages: {result.snapshots_stored} snapshots stored, "
        f"{result.snapshots_already_stored} already stored, {result.dead_letters} dead letters",
        file=sys.stderr,
    )


def cmd_rollup(settings: Settings, args: argparse.Namespace) -> None:
    """Count every pending snapshot into the rollups, as a worker's round does."""
    from procmon.cache import FailOpenRedis
    from streams.rollup import RollupWorker

    async def one_round() -> int:
        cache = FailOpenRedis(settings.redis_url, settings.redis_prefix)
        rollup = RollupWorker(settings.database_url, cache)
        try:
            return await rollup.round(raise_errors=True)
        finally:
            await rollup.close()
            await cache.close()

    print(f"counted {asyncio.run(one_round())} snapshots into the rollups")


def cmd_retention_run(settings: Settings, args: argparse.Namespace) -> None:
    """Remove (or list, with ``--dry-run``) what the retention settings no longer keep."""
    from procmon.retention import describe_run, retain

    run = retain(settings, today=datetime.now(UTC).date(), dry_run=args.dry_run)
    if run is None:
        print(
            "no retention is set (PROCMON_RETENTION_DAYS, PROCMON_RAW_OUTPUT_RETENTION_DAYS,"
            " PROCMON_ROLLUP_RETENTION_DAYS): everything is kept"
        )
        return
    print("\n".join(describe_run(run)))


def cmd_relink(settings: Settings, args: argparse.Namespace) -> None:
    """Link every stored snapshot of the machines again, oldest first (see streams.relink)."""
    from streams.relink import relink_machines

    machines, rows = asyncio.run(
        relink_machines(
            settings.database_url,
            max_gap_seconds=settings.history_max_gap,
            machines=args.machine or (),
        )
    )
    print(f"linked {machines} machines again: {rows} rows changed", file=sys.stderr)


def cmd_apikey_create(settings: Settings, args: argparse.Namespace) -> None:
    """Create an API key and print it, the only time it is shown."""
    from procmon.api_keys import create_api_key

    token = create_api_key(settings.database_url, args.name, args.role)
    print(token)
    print(
        f"created {args.role} key {args.name!r}; this is the only time it is shown",
        file=sys.stderr,
    )


def cmd_apikey_list(settings: Settings, args: argparse.Namespace) -> None:
    """Print every API key, without the keys."""
    from procmon.api_keys import list_api_keys

    keys = list_api_keys(settings.database_url)
    print("id\tname\trole\tcreated_at\trevoked_at")
    for key in keys:
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        print(f"{key.id}\t{key.name}\t{key.role}\t{key.created_at.isoformat()}\t{revoked}")


def cmd_apikey_revoke(settings: Settings, args: argparse.Namespace) -> None:
    """Revoke the active keys of an id or a name."""
    from procmon.api_keys import revoke_api_key

    count = revoke_api_key(settings.database_url, args.key)
    print(f"revoked {count} key(s) named or numbered {args.key!r}", file=sys.stderr)


def cmd_settings(settings: Settings, args: argparse.Namespace) -> None:
    """Print the settings in force, passwords masked unless ``--show-secrets``."""
    # Lines a shell or an env file reads back as they are; an unset one is a comment, since
    # any value, even an empty one, would set it.
    given = settings.environment() if args.show_secrets else settings.masked_environment()
    for name in Settings.model_fields:
        variable = f"{ENV_PREFIX}{name.upper()}"
        print(f"{variable}={given[variable]}" if variable in given else f"# {variable} is unset")
