"""``procmon import``: publish a directory tree of saved listings, with progress and a summary.

Each file's machine, OS, command and time come from a ``procmon-manifest.csv`` in its
directory when it is listed there (columns ``file, machine_id, machine_name, os, os_version,
command, timestamp``), else from the command's flags, with the file's modification time as
the timestamp unless one is given.

Nothing the workers could only dead-letter is sent: each file is parsed here first, and one
that does not parse is rejected with the parser's reason, as are an empty file, a time the
workers refuse, a manifest without the columns it needs (each file of its directory) and a
manifest row naming a file that is not there. ``skipped`` counts listings the database
already holds (an earlier import's, when the database can be asked: :mod:`procmon.stored_keys`)
and listings twice in one import (same machine, time and content).
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from procmon.collector import envelope_from_file
from procmon.envelope import Envelope
from procmon.errors import CollectorError, EnvelopeError, ProcmonError
from procmon.kafka import message_for, publish_raw
from procmon.object_store import open_store
from procmon.readable import parse_problem
from procmon.settings import Settings
from procmon.stored_keys import SnapshotKey, StoredKeys
from procmon.timestamp_limits import TimestampLimits, timestamp_problem

__all__ = [
    "MANIFEST_COLUMNS",
    "MANIFEST_NAME",
    "ImportDefaults",
    "ImportSummary",
    "envelope_for_file",
    "import_paths",
    "read_manifest",
]

MANIFEST_NAME = "procmon-manifest.csv"
_CHUNK = 500
MANIFEST_COLUMNS = (
    "file",
    "machine_id",
    "machine_name",
    "os",
    "os_version",
    "command",
    "timestamp",
)
# Without these a row cannot describe its file; machine_name and os_version have defaults.
_DESCRIBING = ("machine_id", "os", "command", "timestamp")
_REQUIRED_COLUMNS = ("file", *_DESCRIBING)
# A manifest's rows by file name.
Manifest = dict[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class ImportDefaults:
    """What the flags say about files that no manifest describes."""

    machine_id: str | None = None
    machine_name: str | None = None
    os_type: str | None = None
    os_version: str = ""
    command_type: str | None = None
    timestamp: datetime | None = None


@dataclass(slots=True)
class ImportSummary:
    """What an import did with each file."""

    sent: int = 0
    skipped: int = 0
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    # Whether ``skipped`` includes what earlier imports stored (the database could be asked).
    checked_database: bool = True


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from (
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith(".")
            )
        else:
            yield path


def _manifest_dirs(paths: Iterable[Path]) -> Iterator[Path]:
    """The directories under ``paths`` that hold a manifest."""
    for path in paths:
        if path.is_dir():
            yield from (m.parent for m in sorted(path.rglob(MANIFEST_NAME)) if m.is_file())


def read_manifest(directory: Path) -> Manifest:
    """The rows of ``directory``'s manifest by file name (none without one); else an error.

    A manifest that is not UTF-8 CSV with the columns a row needs is a CollectorError, so
    that its files are rejected with why rather than sent as whatever the flags say.
    """
    manifest = directory / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        with manifest.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise CollectorError(
                    f"{manifest} lacks the column(s) {', '.join(missing)}; its header must be "
                    f"{','.join(MANIFEST_COLUMNS)}"
                )
            return {row["file"]: row for row in reader}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CollectorError(f"cannot read {manifest}: {exc}") from exc


def _manifests(paths: list[Path], files: list[Path]) -> dict[Path, Manifest | CollectorError]:
    """Each manifest of the import by its directory, or the reason it cannot be used."""
    found: dict[Path, Manifest | CollectorError] = {}
    for directory in [*_manifest_dirs(paths), *(f.parent for f in files)]:
        if directory not in found:
            try:
                found[directory] = read_manifest(directory)
            except CollectorError as exc:
                found[directory] = exc
    return found


def envelope_for_file(
    path: Path,
    defaults: ImportDefaults,
    limits: TimestampLimits,
    entry: dict[str, str] | None = None,
) -> Envelope:
    """The envelope of a saved listing, described by its manifest ``entry`` or the defaults.

    What the workers could only dead-letter is refused here, as this file's error: an empty
    file, and a time outside ``limits`` (a modification time of 1970, say).
    """
    envelope = _described_envelope(path, defaults, entry)
    if not envelope.raw_output.strip():
        raise CollectorError(f"{path} is empty: there is no listing in it to send")
    problem = timestamp_problem(envelope.timestamp, limits, datetime.now(UTC))
    if problem is not None:
        raise EnvelopeError(problem)
    return envelope


def _described_envelope(
    path: Path, defaults: ImportDefaults, entry: dict[str, str] | None
) -> Envelope:
    if entry is not None:
        if not all(entry.get(column) for column in _DESCRIBING):
            raise CollectorError(
                f"its manifest row leaves one of {', '.join(_DESCRIBING)} empty: {entry}"
            )
        return envelope_from_file(
            path,
            machine_id=entry["machine_id"],
            machine_name=entry.get("machine_name") or entry["machine_id"],
            os_type=entry["os"],
            os_version=entry.get("os_version") or "",
            command_type=entry["command"],
            timestamp=datetime.fromisoformat(entry["timestamp"]),
        )
    if defaults.machine_id is None or defaults.os_type is None or defaults.command_type is None:
        raise ProcmonError("not in a manifest, and --machine-id, --os and --command not given")
    try:
        timestamp = defaults.timestamp or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        raise CollectorError(f"cannot read {path}: {exc.strerror}") from exc
    return envelope_from_file(
        path,
        machine_id=defaults.machine_id,
        machine_name=defaults.machine_name or defaults.machine_id,
        os_type=defaults.os_type,
        os_version=defaults.os_version,
        command_type=defaults.command_type,
        timestamp=timestamp,
    )


def import_paths(
    settings: Settings,
    paths: Iterable[Path],
    defaults: ImportDefaults,
    progress: TextIO | None = None,
) -> ImportSummary:
    """Publish every file under ``paths``; a file that cannot be sent is rejected with why."""
    roots = list(paths)
    files = list(_files(roots))
    progress = progress or sys.stderr
    summary = ImportSummary()
    manifests = _manifests(roots, files)
    for directory, manifest in manifests.items():
        if isinstance(manifest, dict):
            summary.rejected.extend(
                (directory / name, f"listed in {MANIFEST_NAME}, but there is no such file")
                for name in manifest
                if not (directory / name).is_file()
            )
    seen: set[SnapshotKey] = set()
    store = open_store(settings.object_store_url)
    stored = StoredKeys(settings.database_url)
    pending: list[tuple[SnapshotKey, tuple[bytes | None, bytes]]] = []

    def send() -> None:
        already = stored.among([key for key, _ in pending])
        summary.skipped += len(already)
        fresh = [message for key, message in pending if key not in already]
        summary.sent += asyncio.run(publish_raw(settings, fresh)) if fresh else 0
        pending.clear()

    for number, path in enumerate(files, start=1):
        try:
            manifest = manifests[path.parent]
            if isinstance(manifest, CollectorError):
                raise manifest
            envelope = envelope_for_file(path, defaults, settings, manifest.get(path.name))
            key = (envelope.machine_id, envelope.timestamp, envelope.content_hash)
            if key in seen:
                summary.skipped += 1
                continue
            problem = parse_problem(envelope)
            if problem is not None:
                raise problem
            # Made here, file by file, so that a listing too large to send is this file's
            # rejection rather than the end of the import.
            message = message_for(settings, envelope, store)
        except (ProcmonError, OSError, ValueError) as exc:
            summary.rejected.append((path, f"{type(exc).__name__}: {exc}"))
            continue
        seen.add(key)
        pending.append((key, message))
        if len(pending) >= _CHUNK:
            send()
        if progress.isatty():
            print(f"\r{number}/{len(files)} files, {summary.sent} sent", end="", file=progress)
    if pending:
        send()
    if progress.isatty():
        print(file=progress)
    summary.checked_database = stored.available
    return summary
