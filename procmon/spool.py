"""The collector's on-disk spool: listings the broker has not acknowledged yet, oldest first.

Each listing is one file holding its Kafka key and value, written to a temporary name, synced
and renamed into place: a file under its final name is always whole, and a temporary one left
by an agent killed mid-write is removed when the next agent starts (not by `procmon spool
status` or `flush` beside a running agent: the file could be that agent's, being written).
Files are named by a sequence number (the time in nanoseconds, or one past the newest file), so
their names sort oldest first. The spool is bounded in bytes: past the bound the oldest files
are dropped, and the drops counted in a file of the spool's own.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from procmon.atomic import write_atomically
from procmon.errors import CollectorError

__all__ = ["Spool", "SpoolStatus", "SpooledMessage"]

log = logging.getLogger("procmon.spool")

_SUFFIX = ".listing"
_TEMPORARY_SUFFIX = ".tmp"
_DROPPED_FILE = "dropped"
# A file: the key's length (4 bytes, big-endian), the key, then the value to its end.
_KEY_LENGTH = struct.Struct(">I")
_NAME_DIGITS = 20


@dataclass(frozen=True, slots=True)
class SpooledMessage:
    """One spooled listing: the file that holds it, and its Kafka key and value."""

    path: Path
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class SpoolStatus:
    """What the spool holds: files, bytes, when the oldest and newest were spooled, drops."""

    directory: Path
    files: int
    bytes: int
    oldest: datetime | None
    newest: datetime | None
    dropped: int


class Spool:
    """A directory of spooled listings, bounded to ``max_bytes``."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        """Open (creating it if needed) the spool in ``directory``."""
        self.directory = directory
        self.max_bytes = max_bytes
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CollectorError(f"cannot use the spool directory {directory}: {exc}") from exc

    def remove_half_written(self) -> int:
        """Remove the temporary files a killed writer left; how many. Only the spool's one
        writer (the agent, as it starts) may call this: another process's file in progress
        looks the same."""
        try:
            leftovers = list(self.directory.glob(f"*{_TEMPORARY_SUFFIX}"))
            for leftover in leftovers:
                leftover.unlink(missing_ok=True)
        except OSError as exc:
            raise CollectorError(f"cannot clean the spool {self.directory}: {exc}") from exc
        return len(leftovers)

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob(f"*{_SUFFIX}"))

    def __len__(self) -> int:
        """How many listings are spooled."""
        return len(self._files())

    def put(self, key: bytes, value: bytes) -> None:
        """Spool one message after every one spooled before it, then keep to the bound."""
        files = self._files()
        # After the newest file, and never a name used before once the spool empties: a
        # `procmon spool flush` beside the agent deletes by name what it sent.
        sequence = max(int(files[-1].stem) + 1 if files else 0, time.time_ns())
        path = self.directory / f"{sequence:0{_NAME_DIGITS}d}{_SUFFIX}"
        self._write_atomically(path, _KEY_LENGTH.pack(len(key)) + key + value)
        self._keep_to_bound([*files, path])

    def oldest(self) -> SpooledMessage | None:
        """The oldest spooled message, or None when the spool is empty."""
        return next(self.oldest_first(), None)

    def oldest_first(self) -> Iterator[SpooledMessage]:
        """The spooled messages, oldest first, read from one listing of the directory: a
        spool of thousands is sent without listing it again for each message. Messages
        spooled meanwhile are newer than every one listed, and wait for the next call."""
        for path in self._files():
            try:
                body = path.read_bytes()
            except FileNotFoundError:
                # Sent and removed meanwhile by another process (`procmon spool flush`).
                continue
            (length,) = _KEY_LENGTH.unpack_from(body)
            start = _KEY_LENGTH.size
            yield SpooledMessage(path, body[start : start + length], body[start + length :])

    def remove(self, message: SpooledMessage) -> None:
        """Delete a message the broker acknowledged."""
        message.path.unlink(missing_ok=True)

    def status(self) -> SpoolStatus:
        """Count what the spool holds."""
        stats = []
        for path in self._files():
            with contextlib.suppress(FileNotFoundError):
                stats.append(path.stat())
        times = [datetime.fromtimestamp(stat.st_mtime, UTC) for stat in stats]
        return SpoolStatus(
            directory=self.directory,
            files=len(stats),
            bytes=sum(stat.st_size for stat in stats),
            oldest=min(times, default=None),
            newest=max(times, default=None),
            dropped=self._dropped(),
        )

    def _keep_to_bound(self, files: list[Path]) -> None:
        sizes = []
        for path in files:
            try:
                sizes.append((path, path.stat().st_size))
            except FileNotFoundError:
                continue
        total = sum(size for _, size in sizes)
        dropped = 0
        for path, size in sizes:
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            dropped += 1
        if dropped:
            count = self._dropped() + dropped
            self._write_atomically(self.directory / _DROPPED_FILE, f"{count}\n".encode())
            log.warning(
                "spool over PROCMON_SPOOL_MAX_BYTES (%d): dropped the %d oldest listing(s), "
                "%d dropped in all",
                self.max_bytes,
                dropped,
                count,
            )

    def _dropped(self) -> int:
        try:
            return int((self.directory / _DROPPED_FILE).read_text(encoding="ascii"))
        except FileNotFoundError:
            return 0

    def _write_atomically(self, path: Path, body: bytes) -> None:
        try:
            write_atomically(path, body, path.with_name(path.name + _TEMPORARY_SUFFIX))
        except OSError as exc:
            raise CollectorError(f"cannot write to the spool {self.directory}: {exc}") from exc
