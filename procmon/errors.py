"""The exceptions procmon raises, in one tree.

::

    ProcmonError
    ├── ConfigurationError      a PROCMON_* setting is missing or invalid
    │   └── KafkaAuthenticationError   the broker refused the SASL user name or password
    ├── CollectorError          a listing command could not be run, or a file read
    ├── EnvelopeError           a message is not a valid envelope (JSON, fields, hash)
    ├── SnapshotParseError      a valid envelope whose raw output does not parse
    ├── StorageError            PostgreSQL refused or could not be reached
    │   └── DatabaseUnreachableError   no server answered at all
    ├── ObjectStoreError        an object (a large raw output) cannot be stored or read
    ├── DevStackError           `procmon up` could not start a component
    ├── ApiKeyError             an API key cannot be created or revoked as asked
    └── ApiError                the research API refused a client's request (procmon.client)

The parsers raise their own :class:`parsers.ParseError` (the parsers package stands alone);
the worker wraps it in :class:`SnapshotParseError` with the message's context. Errors about a
message carry its Kafka coordinates and identity, so a log line or a dead letter says which
message of which machine failed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ApiError",
    "ApiKeyError",
    "CollectorError",
    "ConfigurationError",
    "DatabaseUnreachableError",
    "DevStackError",
    "EnvelopeError",
    "KafkaAuthenticationError",
    "MessageContext",
    "ObjectStoreError",
    "ProcmonError",
    "SnapshotParseError",
    "StorageError",
]


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Where a message came from and whose it is, as far as is known."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    machine_id: str | None = None
    content_hash: str | None = None

    def describe(self) -> str:
        """Render the known parts as ``key=value`` pairs for messages and logs."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("machine", self.machine_id),
                ("topic", self.topic),
                ("partition", self.partition),
                ("offset", self.offset),
                ("content_hash", self.content_hash),
            )
            if value is not None
        ]
        return " ".join(parts)


class ProcmonError(Exception):
    """Base of every error procmon raises on purpose."""


class ConfigurationError(ProcmonError):
    """A setting is missing or has a value procmon cannot use."""


class KafkaAuthenticationError(ConfigurationError):
    """The Kafka broker refused the SASL user name or password of the settings."""


class CollectorError(ProcmonError):
    """The collector could not run a listing command or read a saved output."""


class _MessageError(ProcmonError):
    """An error about one message, carrying its context."""

    def __init__(
        self,
        reason: str,
        context: MessageContext | None = None,
        line_number: int | None = None,
    ) -> None:
        self.reason = reason
        self.context = context or MessageContext()
        self.line_number = line_number
        where = self.context.describe()
        super().__init__(f"{reason} ({where})" if where else reason)


class EnvelopeError(_MessageError):
    """The message is not a valid envelope: bad JSON, a missing field, or a wrong hash."""


class SnapshotParseError(_MessageError):
    """The envelope is valid but its raw output could not be parsed."""


class StorageError(ProcmonError):
    """PostgreSQL refused a write or stayed unreachable after the retries."""


class DatabaseUnreachableError(StorageError):
    """No PostgreSQL server answered (refused, timed out, no such host): it may yet come up."""


class ObjectStoreError(ProcmonError):
    """An object of the object store cannot be stored or read (missing, unreadable, bad ref)."""


class DevStackError(ProcmonError):
    """The dev stack could not start or reach one of its components."""


class ApiKeyError(ProcmonError):
    """An API key cannot be created or revoked as asked (bad role, unknown key)."""


class ApiError(ProcmonError):
    """The research API answered a client's request with errors; the message is the API's."""
