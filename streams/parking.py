"""The parking directory: dead letters that PostgreSQL refused to store, kept as files.

The worker's last line of defence: a message the database will not take even in
``ingest_errors`` is written here, whole, so that its batch can be acknowledged and the
partition keeps moving. One JSON file per message, named by its Kafka coordinates (a
redelivered one replaces its own file with the same content), holding the exact bytes and key
(base64), the coordinates and both reasons. A file is written to a temporary name, flushed to
disk and renamed into place: a reader sees all of it or nothing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.failures import Failure

__all__ = ["ParkedMessage", "mark_replayed", "park", "parked_messages"]

_SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    """One parked file, read back."""

    path: Path
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    error_class: str
    reason: str
    storage_error: str
    parked_at: datetime
    replayed_at: datetime | None


def park(directory: Path, failure: Failure, storage_error: str) -> Path:
    """Write the failed message to ``directory`` (made if missing); return the file's path.

    ``storage_error`` is why PostgreSQL refused it. Raises ``OSError`` when the directory
    cannot be written: the message then has nowhere safe to go, and the caller must not
    acknowledge it.
    """
    message = failure.message
    record: dict[str, Any] = {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "key": None if message.key is None else base64.b64encode(message.key).decode("ascii"),
        "value": base64.b64encode(message.value).decode("ascii"),
        "error_class": failure.error_class,
        "reason": failure.reason,
        "line_number": failure.line_number,
        "machine_id": failure.machine_id,
        "content_hash": failure.content_hash,
        "storage_error": storage_error,
        "parked_at": datetime.now(UTC).isoformat(),
        "replayed_at": None,
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{message.topic}-{message.partition}-{message.offset}{_SUFFIX}"
    _write_atomically(path, record)
    return path


def parked_messages(directory: Path) -> tuple[list[ParkedMessage], list[tuple[Path, str]]]:
    """The parked messages, oldest first, and the files that could not be read, with why."""
    if not directory.is_dir():
        return [], []
    found: list[ParkedMessage] = []
    unreadable: list[tuple[Path, str]] = []
    for path in sorted(directory.glob(f"*{_SUFFIX}")):
        try:
            found.append(_read(path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            unreadable.append((path, f"{type(exc).__name__}: {exc}"))
    found.sort(key=lambda parked: parked.parked_at)
    return found, unreadable


def mark_replayed(parked: ParkedMessage) -> None:
    """Record in its file that the message was sent back to the topic, now."""
    record = json.loads(parked.path.read_text(encoding="utf-8"))
    record["replayed_at"] = datetime.now(UTC).isoformat()
    _write_atomically(parked.path, record)


def _read(path: Path) -> ParkedMessage:
    record = json.loads(path.read_text(encoding="utf-8"))
    key = record["key"]
    replayed_at = record["replayed_at"]
    return ParkedMessage(
        path=path,
        topic=str(record["topic"]),
        partition=int(record["partition"]),
        offset=int(record["offset"]),
        key=None if key is None else base64.b64decode(key, validate=True),
        value=base64.b64decode(record["value"], validate=True),
        error_class=str(record["error_class"]),
        reason=str(record["reason"]),
        storage_error=str(record["storage_error"]),
        parked_at=datetime.fromisoformat(record["parked_at"]),
        replayed_at=None if replayed_at is None else datetime.fromisoformat(replayed_at),
    )


def _write_atomically(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` as ``path``: a temporary file in the same directory, fsynced, renamed."""
    # ensure_ascii: the reasons may hold lone surrogates, which have no UTF-8 form.
    data = json.dumps(record, indent=1).encode("ascii")
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    # The rename itself is durable once the directory is.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
