"""The commands that get listings in: ``collect``, ``submit``, ``import`` and ``parse``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from procmon.cli_errors import read_text
from procmon.errors import ProcmonError
from procmon.settings import Settings

if TYPE_CHECKING:
    from procmon.bulk_import import ImportDefaults

__all__ = ["cmd_collect", "cmd_import", "cmd_parse", "cmd_submit"]

log = logging.getLogger("procmon")


def cmd_collect(settings: Settings, args: argparse.Namespace) -> None:
    """Take this machine's listing and publish it, once or every ``--interval`` seconds."""
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


def cmd_submit(settings: Settings, args: argparse.Namespace) -> None:
    """Publish one saved listing, refused here when the workers could only dead-letter it."""
    from procmon.bulk_import import envelope_for_file
    from procmon.kafka import publish

    envelope = envelope_for_file(args.file, _defaults(args), settings)
    asyncio.run(publish(settings, [envelope]))
    print(f"published {args.file} as {envelope.content_hash}", file=sys.stderr)


def cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    """Publish a tree of saved listings; say what was sent, skipped and rejected, and why."""
    from procmon.bulk_import import import_paths

    summary = import_paths(settings, args.paths, _defaults(args))
    stored = "already stored or" if summary.checked_database else "database not asked;"
    print(
        f"sent {summary.sent}, skipped {summary.skipped} ({stored} repeated in this import), "
        f"rejected {len(summary.rejected)}",
        file=sys.stderr,
    )
    for path, reason in summary.rejected:
        print(f"  rejected {path}: {reason}", file=sys.stderr)
    if summary.rejected:
        raise ProcmonError(f"{len(summary.rejected)} files were rejected")


def cmd_parse(settings: Settings, args: argparse.Namespace) -> None:
    """Print a listing's normalized rows as JSON lines."""
    from parsers import ParseError, parse_listing

    raw = read_text(args.file)
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
