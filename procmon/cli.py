"""The ``procmon`` command: thin entry points over importable code."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from procmon.envelope import OS_TYPES
from procmon.errors import ProcmonError
from procmon.logs import configure_logging
from procmon.settings import ENV_PREFIX, Settings, load_settings

if TYPE_CHECKING:
    from procmon.bulk_import import ImportDefaults

__all__ = ["main"]

log = logging.getLogger("procmon")


def _timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries its UTC offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from exc
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"timestamp {text!r} has no UTC offset; add one, e.g. {text}+00:00"
        )
    return value


def _positive(text: str) -> int:
    """Parse a whole number above zero."""
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"not a whole number above 0: {text!r}")
    return int(text)


def _cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.database import migrate_for

    migrate_for(settings)
    print("schema applied", file=sys.stderr)


def _cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    from streams.app import run_worker

    run_worker(settings)


def _cmd_api(settings: Settings, args: argparse.Namespace) -> None:
    from graphql_api import run_api

    run_api(settings, workers=args.workers or settings.api_workers)


def _cmd_collect(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.collector import collect_listing, local_identity
    from procmon.kafka import publish

    identity = local_identity()
    while True:
        envelope = collect_listing(identity, datetime.now(UTC).astimezone())
        asyncio.run(publish(settings, [envelope]))
        log.info(
            "published %r of %s (%s) at %s",
            envelope.command_type,
            identity.machine_name,
            identity.machine_id,
            envelope.timestamp.isoformat(),
        )
        if args.interval is None:
            return
        time.sleep(args.interval)


def _defaults(args: argparse.Namespace) -> ImportDefaults:
    """What the flags of `submit` and `import` say about a saved listing."""
    from procmon.bulk_import import ImportDefaults

    return ImportDefaults(
        machine_id=args.machine_id,
        machine_name=args.machine_name,
        os_type=args.os,
        os_version=args.os_version,
        command_type=args.command,
        timestamp=args.timestamp,
    )


def _cmd_submit(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.bulk_import import envelope_for_file
    from procmon.kafka import publish

    envelope = envelope_for_file(args.file, _defaults(args), settings)
    asyncio.run(publish(settings, [envelope]))
    print(f"published {args.file} as {envelope.content_hash}", file=sys.stderr)


def _cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.bulk_import import import_paths

    summary = import_paths(settings, args.paths, _defaults(args))
    print(
        f"sent {summary.sent}, skipped {summary.skipped} (duplicates), "
        f"rejected {len(summary.rejected)}",
        file=sys.stderr,
    )
    for path, reason in summary.rejected:
        print(f"  rejected {path}: {reason}", file=sys.stderr)
    if summary.rejected:
        raise ProcmonError(f"{len(summary.rejected)} files were rejected")


def _cmd_parse(settings: Settings, args: argparse.Namespace) -> None:
    from parsers import ParseError, parse_listing

    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    observed_at = args.timestamp or datetime.now(UTC).astimezone()
    try:
        listing = parse_listing(raw, os_type=args.os, command=args.command, observed_at=observed_at)
    except ParseError as exc:
        raise ProcmonError(f"{args.file}: {exc}") from exc
    for row in listing.rows:
        print(json.dumps(row._asdict(), default=_json_default, ensure_ascii=False))


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def _cmd_up(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.devstack import run_dev_stack

    run_dev_stack(settings, collect=not args.no_collect)


def _cmd_dead_letters_list(settings: Settings, args: argparse.Namespace) -> None:
    from streams.dead_letter_admin import list_dead_letters, list_parked

    records = list_dead_letters(settings, since=args.since, limit=args.limit)
    print("id\treceived_at\tsource\tmachine\terror\treplayed\treason")
    for r in records:
        source = f"{r.topic}/{r.partition}@{r.offset}"
        replayed = r.replayed_at.isoformat() if r.replayed_at else "-"
        print(
            f"{r.id}\t{r.received_at.isoformat()}\t{source}\t{r.machine_id or '-'}\t"
            f"{r.error_class}\t{replayed}\t{r.reason}"
        )
    # Rows PostgreSQL would not take: marked PARKED in place of an id, with both reasons.
    parked, unreadable = list_parked(settings, since=args.since)
    for p in parked:
        source = f"{p.topic}/{p.partition}@{p.offset}"
        replayed = p.replayed_at.isoformat() if p.replayed_at else "-"
        print(
            f"PARKED\t{p.parked_at.isoformat()}\t{source}\t-\t{p.error_class}\t{replayed}\t"
            f"{p.reason}; not in ingest_errors: {p.storage_error}; file {p.path}"
        )
    for path, why in unreadable:
        print(f"PARKED\t-\t-\t-\t-\t-\tunreadable file {path}: {why}")


def _cmd_dead_letters_replay(settings: Settings, args: argparse.Namespace) -> None:
    from streams.dead_letter_admin import replay_dead_letters

    outcome = asyncio.run(replay_dead_letters(settings, ids=args.id, since=args.since))
    print(
        f"replayed {outcome.replayed} dead letters and {outcome.parked_replayed} parked "
        f"messages to {settings.topic}",
        file=sys.stderr,
    )
    for path, why in outcome.not_replayed:
        print(f"  parked file {path}: {why}", file=sys.stderr)


def _cmd_replay(settings: Settings, args: argparse.Namespace) -> None:
    from streams.replay import replay_topic

    result = asyncio.run(replay_topic(settings, since=args.since))
    print(
        f"read {result.messages} messages: {result.snapshots_stored} snapshots stored, "
        f"{result.snapshots_already_stored} already stored, {result.dead_letters} dead letters",
        file=sys.stderr,
    )


def _cmd_apikey_create(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.api_keys import create_api_key

    token = create_api_key(settings.database_url, args.name, args.role)
    print(token)
    print(
        f"created {args.role} key {args.name!r}; this is the only time it is shown",
        file=sys.stderr,
    )


def _cmd_apikey_list(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.api_keys import list_api_keys

    print("id\tname\trole\tcreated_at\trevoked_at")
    for key in list_api_keys(settings.database_url):
        revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
        print(f"{key.id}\t{key.name}\t{key.role}\t{key.created_at.isoformat()}\t{revoked}")


def _cmd_apikey_revoke(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.api_keys import revoke_api_key

    count = revoke_api_key(settings.database_url, args.key)
    print(f"revoked {count} key(s) named or numbered {args.key!r}", file=sys.stderr)


def _cmd_settings(settings: Settings, args: argparse.Namespace) -> None:
    # Lines a shell or an env file reads back as they are; an unset one is a comment, since
    # any value, even an empty one, would set it.
    given = settings.environment()
    for name in Settings.model_fields:
        variable = f"{ENV_PREFIX}{name.upper()}"
        print(f"{variable}={given[variable]}" if variable in given else f"# {variable} is unset")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="procmon",
        description="Study processes across a fleet. Settings come from PROCMON_* variables.",
    )
    commands = parser.add_subparsers(dest="command_name", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[..., None], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("migrate", _cmd_migrate, "create the database if needed and apply schema.sql")
    add("worker", _cmd_worker, "run a Faust worker that stores listings from the topic")
    api = add("api", _cmd_api, "serve the GraphQL API (GraphiQL at /graphql)")
    api.add_argument("--workers", type=_positive, help="API processes (PROCMON_API_WORKERS)")
    collect = add("collect", _cmd_collect, "take this machine's process listing and publish it")
    collect.add_argument("--interval", type=float, help="repeat every INTERVAL seconds")
    submit = add("submit", _cmd_submit, "publish a saved listing")
    submit.add_argument("file", type=Path, help="the saved output, UTF-8 text")
    submit.add_argument("--machine-id", required=True)
    submit.add_argument("--machine-name", help="default: the machine id")
    submit.add_argument("--os", required=True, choices=OS_TYPES)
    submit.add_argument("--os-version", default="", help="default: empty")
    submit.add_argument("--command", required=True, help="the command that was run, e.g. 'ps aux'")
    submit.add_argument(
        "--timestamp", type=_timestamp, help="when it was taken (default: file mtime)"
    )
    bulk = add("import", _cmd_import, "publish a tree of saved listings (see the README)")
    bulk.add_argument("paths", nargs="+", type=Path, help="files or directories")
    bulk.add_argument("--machine-id", help="for files no manifest lists")
    bulk.add_argument("--machine-name")
    bulk.add_argument("--os", choices=OS_TYPES)
    bulk.add_argument("--os-version", default="")
    bulk.add_argument("--command")
    bulk.add_argument("--timestamp", type=_timestamp, help="default: each file's mtime")
    parse = add("parse", _cmd_parse, "print a listing's normalized rows as JSON lines")
    parse.add_argument("file", nargs="?", default="-", help="the listing, or - for stdin")
    parse.add_argument("--os", default="linux", choices=OS_TYPES)
    parse.add_argument("--command", default="ps aux")
    parse.add_argument("--timestamp", type=_timestamp, help="when it was taken (default: now)")
    up = add("up", _cmd_up, "run the whole stack locally (broker, worker, API) until Ctrl-C")
    up.add_argument("--no-collect", action="store_true", help="do not collect this machine")
    replay_history = add(
        "replay", _cmd_replay, "reprocess the topic's history into the database (idempotent)"
    )
    replay_history.add_argument(
        "--since", type=_timestamp, help="only messages published at or after this time"
    )
    dead = commands.add_parser("dead-letters", help="look at and replay messages that failed")
    dead_commands = dead.add_subparsers(dest="dead_letters_command", required=True)
    listing = dead_commands.add_parser("list", help="the newest recorded dead letters")
    listing.set_defaults(handler=_cmd_dead_letters_list)
    listing.add_argument("--since", type=_timestamp, help="received at or after this time")
    listing.add_argument("--limit", type=int, default=50)
    replay = dead_commands.add_parser(
        "replay", help="send dead letters not yet replayed back to the topic (after a fix)"
    )
    replay.set_defaults(handler=_cmd_dead_letters_replay)
    replay.add_argument("--id", type=int, action="append", help="only this id (repeatable)")
    replay.add_argument("--since", type=_timestamp, help="received at or after this time")
    keys = commands.add_parser("apikey", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="apikey_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it (once)")
    create.set_defaults(handler=_cmd_apikey_create)
    create.add_argument("--name", required=True, help="who or what uses it, e.g. alice-laptop")
    create.add_argument("--role", default="reader", choices=("reader", "admin"))
    key_commands.add_parser("list", help="every key, without the keys").set_defaults(
        handler=_cmd_apikey_list
    )
    revoke = key_commands.add_parser("revoke", help="revoke the active keys of an id or name")
    revoke.set_defaults(handler=_cmd_apikey_revoke)
    revoke.add_argument("key", help="the key's id or name (as `apikey list` shows)")
    add("settings", _cmd_settings, "print the settings in force")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``procmon`` command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        args.handler(settings, args)
    except ProcmonError as exc:
        print(f"procmon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
