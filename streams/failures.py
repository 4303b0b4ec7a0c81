"""What the worker records of a message it cannot store, whatever the cause, in one shape.

A message fails when its envelope is invalid or its listing does not parse (a
:class:`~streams.batch.DeadLetter`), and also when PostgreSQL refuses to store its snapshot.
The dead-letter topic, ``ingest_errors`` and the parking directory all take a :class:`Failure`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import psycopg

from procmon.errors import MessageContext
from streams.batch import DeadLetter, RawMessage, Snapshot

__all__ = ["Failure", "describe_refusal", "escape_unstorable", "failures_of"]

# What a PostgreSQL text value cannot hold: NUL, and lone surrogates (which JSON's \ud800
# escapes produce and which have no UTF-8 encoding).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def describe_refusal(exc: Exception) -> str:
    """Why PostgreSQL (or psycopg) refused a write, in a line.

    Only the server's primary message: its detail may quote the failing row, a whole listing.
    """
    diagnostic = exc.diag.message_primary if isinstance(exc, psycopg.Error) else None
    return f"{type(exc).__name__}: {diagnostic or exc}"


def escape_unstorable(text: str) -> str:
    """``text`` with each character PostgreSQL text cannot hold written as ``\\uNNNN``."""
    return _UNSTORABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


@dataclass(frozen=True, slots=True)
class Failure:
    """A message that cannot be stored, why, and whose it is as far as is known."""

    message: RawMessage
    error_class: str
    reason: str
    line_number: int | None = None
    machine_id: str | None = None
    content_hash: str | None = None

    @classmethod
    def of_letter(cls, letter: DeadLetter) -> Failure:
        """The failure a dead letter of the batch stands for."""
        error = letter.error
        return cls(
            message=letter.message,
            error_class=type(error).__name__,
            reason=error.reason,
            line_number=error.line_number,
            machine_id=error.context.machine_id,
            content_hash=error.context.content_hash,
        )

    @classmethod
    def refused(cls, snapshot: Snapshot, cause: Exception) -> Failure:
        """A valid, parsed snapshot that PostgreSQL refused to store, with the database's reason."""
        envelope = snapshot.envelope
        return cls(
            message=snapshot.message,
            error_class="StorageError",
            reason=f"PostgreSQL refused the snapshot: {describe_refusal(cause)}",
            machine_id=envelope.machine_id,
            content_hash=envelope.content_hash,
        )

    @property
    def context(self) -> MessageContext:
        """Where the message came from and whose it is, for logs."""
        return self.message.context_of(self.machine_id, self.content_hash)

    def storable(self) -> Failure:
        """This failure with its text fields escaped where PostgreSQL cannot hold them.

        The reason then says which fields were escaped; the message's bytes are never changed.
        """
        texts = {
            "error_class": self.error_class,
            "reason": self.reason,
            "machine_id": self.machine_id,
            "content_hash": self.content_hash,
        }
        escaped = [name for name, text in texts.items() if text and _UNSTORABLE.search(text)]
        if not escaped:
            return self
        note = (
            f" ({', '.join(escaped)} held NUL characters or lone surrogates, stored escaped"
            " as \\uNNNN; raw_message has the exact bytes)"
        )
        return replace(
            self,
            error_class=escape_unstorable(self.error_class),
            reason=escape_unstorable(self.reason) + note,
            machine_id=None if self.machine_id is None else escape_unstorable(self.machine_id),
            content_hash=None
            if self.content_hash is None
            else escape_unstorable(self.content_hash),
        )


def failures_of(letters: Sequence[DeadLetter]) -> list[Failure]:
    """The failures a batch's dead letters stand for."""
    return [Failure.of_letter(letter) for letter in letters]
