"""The commands that get listings in: ``collect``, ``spool``, ``submit``, ``import`` and
``parse``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO

from procmon.cli_errors import read_text
from procmon.errors import ProcmonError

if TYPE_CHECKING:
    from parsers import ProcessRow
    from procmon.bulk_import import ImportDefaults
    from procmon.settings import Settings

__all__ = [
    "PARSE_FORMATS",
    "cmd_collect",
    "cmd_import",
    "cmd_parse",
    "cmd_spool_flush",
    "cmd_spool_status",
    "cmd_submit",
    "write_rows",
]


def cmd_collect(settings: Settings, args: argparse.Namespace) -> None:
    """Take this machine's listing and publish it, once or every ``--interval`` seconds."""
    from procmon.agent import collect
    from procmon.collector import local_identity
    from procmon.labels import labels_in_force

    identity = local_identity(labels=labels_in_force(settings.labels, args.label))
    collect(settings, identity, args.interval)


def cmd_spool_status(settings: Settings, args: argparse.Namespace) -> None:
    """Print what the collector's spool holds: files, bytes, oldest and newest, drops."""
    from procmon.spool import Spool

    status = Spool(settings.spool_dir, settings.spool_max_bytes).status()
    for name, value in (
        ("directory", status.directory),
        ("files", status.files),
        ("bytes", status.bytes),
        ("oldest", status.oldest.isoformat() if status.oldest else "-"),
        ("newest", status.newest.isoformat() if status.newest else "-"),
        ("dropped", status.dropped),
    ):
        print(f"{name:<10} {value}")


def cmd_spool_flush(settings: Settings, args: argparse.Namespace) -> None:
    """Send every spooled listing now, oldest first; CollectorError if the broker is away."""
    import asyncio
    import logging

    from procmon.delivery import flush_spool

    # The error says why the broker did not take a listing: aiokafka's own lines about each
    # connection it tried would only repeat it, where a person waits for one line.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    sent = asyncio.run(flush_spool(settings))
    print(f"sent {sent} spooled listing(s)", file=sys.stderr)


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
    import asyncio

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


def cmd_parse(args: argparse.Namespace) -> None:
    """Print a listing's normalized rows as ``args.format``: JSON lines, one JSON array or CSV.

    It needs no settings: ``main`` does not load them for it, which keeps the program's start
    to the parsers and this module.
    """
    if args.format not in _ROW_WRITERS:
        raise ProcmonError(f"unknown --format {args.format!r}: choose {', '.join(PARSE_FORMATS)}")
    from parsers.gc_pause import collection_paused

    raw = read_text(args.file)
    # Paused until the rows are written and gone, not only while they are made: a collection
    # in between would scan every row (a twentieth of the program's run on 200,000 rows), and
    # the rows hold no cycles for it to find.
    with collection_paused():
        _print_rows(raw, args)


def _print_rows(raw: str, args: argparse.Namespace) -> None:
    from parsers import ParseError, parse_listing

    observed_at = args.timestamp or datetime.now(UTC).astimezone()
    try:
        listing = parse_listing(raw, os_type=args.os, command=args.command, observed_at=observed_at)
    except ParseError as exc:
        where = "stdin" if args.file == "-" else args.file
        raise ProcmonError(f"{where}: {exc}") from exc
    write_rows(listing.rows, args.format, sys.stdout.buffer)


def write_rows(rows: list[ProcessRow], output_format: str, out: BinaryIO) -> None:
    """Write ``rows`` to ``out`` as ``output_format``, one of :data:`PARSE_FORMATS`.

    ``jsonl``: one object per line; ``json``: one array of those objects, on one line, as
    ``jc`` prints; ``csv``: a header of ProcessRow's fields, then one line per row. JSON
    objects are keyed by field name; times are ISO 8601 with their UTC offset, text is UTF-8.
    """
    _ROW_WRITERS[output_format](rows, out)


# Rows are encoded and written this many at a time: one large write per chunk, while the
# encoded text in memory stays small (a few hundred kilobytes).
_CHUNK_ROWS = 1000


def _chunks(rows: list[ProcessRow]) -> Iterator[list[ProcessRow]]:
    for start in range(0, len(rows), _CHUNK_ROWS):
        yield rows[start : start + _CHUNK_ROWS]


def _write_jsonl(rows: list[ProcessRow], out: BinaryIO) -> None:
    from procmon.row_json import json_lines

    for chunk in _chunks(rows):
        out.write(json_lines(chunk))


def _write_json(rows: list[ProcessRow], out: BinaryIO) -> None:
    from procmon.row_json import json_elements

    opening = b"["
    for chunk in _chunks(rows):
        out.write(opening)
        out.write(json_elements(chunk))
        opening = b","
    out.write(b"[]\n" if opening == b"[" else b"]\n")


def _write_csv(rows: list[ProcessRow], out: BinaryIO) -> None:
    # As the API's CSV export writes its columns (graphql_api.export_encoders.CsvEncoder):
    # lists (truncated_fields) joined by "|", times ISO 8601, a missing value empty.
    import csv
    import io

    from parsers import ProcessRow

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(ProcessRow._fields)
    for chunk in _chunks(rows):
        writer.writerows(map(_csv_cells, chunk))
        out.write(text.getvalue().encode())
        text.seek(0)
        text.truncate()
    out.write(text.getvalue().encode())


def _csv_cells(row: ProcessRow) -> list[object]:
    return [
        "|".join(value)
        if isinstance(value, tuple)
        else value.isoformat()
        if isinstance(value, datetime)
        else value
        for value in row
    ]


_ROW_WRITERS: dict[str, Callable[[list[ProcessRow], BinaryIO], None]] = {
    "jsonl": _write_jsonl,
    "json": _write_json,
    "csv": _write_csv,
}
PARSE_FORMATS: tuple[str, ...] = tuple(_ROW_WRITERS)
"""What ``procmon parse --format`` writes; the first is the default."""
