"""The commands that get listings in: ``collect``, ``submit``, ``import`` and ``parse``."""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import starmap
from typing import TYPE_CHECKING, BinaryIO, get_args, get_type_hints

from procmon.cli_errors import read_text
from procmon.errors import ProcmonError

if TYPE_CHECKING:
    from parsers import ProcessRow
    from procmon.bulk_import import ImportDefaults
    from procmon.settings import Settings

__all__ = ["PARSE_FORMATS", "cmd_collect", "cmd_import", "cmd_parse", "cmd_submit", "write_rows"]

log = logging.getLogger("procmon")


def cmd_collect(settings: Settings, args: argparse.Namespace) -> None:
    """Take this machine's listing and publish it, once or every ``--interval`` seconds."""
    import asyncio

    from procmon.collector import collect_listing, local_identity
    from procmon.kafka import publish
    from procmon.listing_commands import check_readable, listing_commands

    identity = local_identity()
    commands = listing_commands(settings, identity.os_type)
    first_round = True
    while True:
        for argv in commands:
            envelope = collect_listing(identity, datetime.now(UTC).astimezone(), argv=argv)
            if first_round:
                check_readable(envelope)
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
        first_round = False
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
    from parsers import ParseError, parse_listing

    raw = read_text(args.file)
    observed_at = args.timestamp or datetime.now(UTC).astimezone()
    try:
        listing = parse_listing(raw, os_type=args.os, command=args.command, observed_at=observed_at)
    except ParseError as exc:
        where = "stdin" if args.file == "-" else args.file
        raise ProcmonError(f"{where}: {exc}") from exc
    write_rows(listing.rows, args.format, sys.stdout.buffer)


def write_rows(rows: Sequence[ProcessRow], output_format: str, out: BinaryIO) -> None:
    """Write ``rows`` to ``out`` as ``output_format``, one of :data:`PARSE_FORMATS`.

    ``jsonl``: one object per line; ``json``: one array of those objects, on one line, as
    ``jc`` prints; ``csv``: a header of ProcessRow's fields, then one line per row. JSON
    objects are keyed by field name; times are ISO 8601 with their UTC offset, text is UTF-8.
    """
    _ROW_WRITERS[output_format](rows, out)


# Rows are encoded and written this many at a time: one large write per chunk, while the
# encoded text in memory stays small (a few hundred kilobytes).
_CHUNK_ROWS = 1000


def _chunks(rows: Sequence[ProcessRow]) -> Iterator[Sequence[ProcessRow]]:
    for start in range(0, len(rows), _CHUNK_ROWS):
        yield rows[start : start + _CHUNK_ROWS]


class _JsonObjects:
    """ProcessRows as JSON objects keyed by field name, written by msgspec.

    Each row becomes a msgspec Struct of ProcessRow's fields, made from the row's tuple in C
    (no dict per row: orjson needs one, and making it is two thirds of orjson's cost a row);
    msgspec then writes the Structs of a chunk in one call.
    """

    def __init__(self) -> None:
        import msgspec

        from parsers import ProcessRow

        fields = ProcessRow._fields
        # gc=False: a row holds numbers, strings and a tuple of strings, never a cycle.
        self._struct = msgspec.defstruct(
            "ProcessRowJson", [(name, object) for name in fields], gc=False
        )
        self._encoder = msgspec.json.Encoder()
        self._utc_spellings = list(_utc_spellings(fields, get_type_hints(ProcessRow)))

    def lines(self, rows: Sequence[ProcessRow]) -> bytes:
        """One object per line, each line ending in a newline."""
        return self._as_isoformat(self._encoder.encode_lines(list(starmap(self._struct, rows))))

    def elements(self, rows: Sequence[ProcessRow]) -> bytes:
        """The objects separated by commas: a JSON array's inside."""
        array = self._encoder.encode(list(starmap(self._struct, rows)))
        return self._as_isoformat(array[1:-1])

    def _as_isoformat(self, encoded: bytes) -> bytes:
        for msgspec_spelling, isoformat_spelling in self._utc_spellings:
            encoded = encoded.replace(msgspec_spelling, isoformat_spelling)
        return encoded


def _utc_spellings(
    fields: Sequence[str], types: Mapping[str, object]
) -> Iterator[tuple[bytes, bytes]]:
    """How msgspec ends a time at UTC offset 0 (``Z``) and how isoformat does (``+00:00``),
    for each time field, with the text that follows its value.

    That text opens with a quote that ends a string: inside a JSON string every quote is
    escaped, so the pair is found nowhere else (the next field's key, or the object's end).
    """
    for index, name in enumerate(fields):
        if datetime in get_args(types[name]):
            after = b'"}' if index == len(fields) - 1 else f'","{fields[index + 1]}":'.encode()
            yield b"Z" + after, b"+00:00" + after


def _write_jsonl(rows: Sequence[ProcessRow], out: BinaryIO) -> None:
    objects = _JsonObjects()
    for chunk in _chunks(rows):
        out.write(objects.lines(chunk))


def _write_json(rows: Sequence[ProcessRow], out: BinaryIO) -> None:
    objects = _JsonObjects()
    opening = b"["
    for chunk in _chunks(rows):
        out.write(opening + objects.elements(chunk))
        opening = b","
    out.write(b"[]\n" if opening == b"[" else b"]\n")


def _write_csv(rows: Sequence[ProcessRow], out: BinaryIO) -> None:
    # As the API's CSV export writes its columns (graphql_api.export_encoders.CsvEncoder):
    # lists (truncated_fields) joined by "|", times ISO 8601, a missing value empty.
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


_ROW_WRITERS: dict[str, Callable[[Sequence[ProcessRow], BinaryIO], None]] = {
    "jsonl": _write_jsonl,
    "json": _write_json,
    "csv": _write_csv,
}
PARSE_FORMATS: tuple[str, ...] = tuple(_ROW_WRITERS)
"""What ``procmon parse --format`` writes; the first is the default."""
