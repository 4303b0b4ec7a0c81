"""Turning a batch of raw Kafka messages into snapshots to store and dead letters to record.

No broker, no database (only the object store, for the rare listing sent by reference).
Every message of a batch ends up in exactly one of four
places: a :class:`Snapshot` to store, a :class:`DeadLetter`, the count of duplicates within
the batch (the same machine, time and content hash seen earlier in it), or the count of
snapshots this worker stored recently.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime

from parsers import Listing, ParseError, ProcessRow, parse_listing
from procmon.columns import COLUMNS_BY_NAME, SqlType
from procmon.envelope import Envelope, decode_envelope
from procmon.errors import EnvelopeError, MessageContext, ObjectStoreError, SnapshotParseError
from procmon.object_store import ObjectStore
from procmon.settings import Settings
from procmon.timestamp_limits import TimestampLimits, timestamp_problem
from streams.copy_rows import first_out_of_range
from streams.phases import PhaseTimes

__all__ = [
    "DEFAULT_LIMITS",
    "DeadLetter",
    "PreparedBatch",
    "RawMessage",
    "Snapshot",
    "SnapshotKey",
    "prepare_batch",
    "snapshot_key",
]

SnapshotKey = tuple[str, object, str]

# The limits of the settings' defaults, for callers that pass none; never the environment's.
DEFAULT_LIMITS: TimestampLimits = Settings.model_construct()
# A Kafka key shown in an error is cut to this many bytes.
_SHOWN_KEY_BYTES = 80

# The integer columns of `processes`, by their index in a ProcessRow, with their type.
_INTEGER_COLUMNS = tuple(
    (index, str(column.sql_type))
    for index, column in enumerate(COLUMNS_BY_NAME[name] for name in ProcessRow._fields)
    if column.sql_type in (SqlType.INT4, SqlType.INT8)
)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as the broker delivered it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes

    @property
    def context(self) -> MessageContext:
        """The message's Kafka coordinates, for errors and logs."""
        return self.context_of(None, None)

    def context_of(self, machine_id: str | None, content_hash: str | None) -> MessageContext:
        """The message's Kafka coordinates with the machine and content hash it carries."""
        return MessageContext(
            topic=self.topic,
            partition=self.partition,
            offset=self.offset,
            machine_id=machine_id,
            content_hash=content_hash,
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A valid envelope and its parsed rows."""

    envelope: Envelope
    listing: Listing
    message: RawMessage

    @property
    def rows(self) -> list[ProcessRow]:
        """The parsed process rows."""
        return self.listing.rows

    @property
    def key(self) -> SnapshotKey:
        """The dedupe key of this snapshot."""
        return snapshot_key(self.envelope)

    @property
    def order(self) -> tuple[datetime, str]:
        """Where it stands among its machine's snapshots: by time, then content hash."""
        return (self.envelope.timestamp, self.envelope.content_hash)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that cannot be stored, with the error that says why."""

    message: RawMessage
    error: EnvelopeError | SnapshotParseError


@dataclass(slots=True)
class PreparedBatch:
    """What one batch of messages comes to.

    ``now`` is the worker's clock as the batch began: listings dated too far past it are
    dead letters (PROCMON_MAX_CLOCK_AHEAD_SECONDS).
    """

    snapshots: list[Snapshot] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    duplicates_in_batch: int = 0
    recently_stored: int = 0
    phases: PhaseTimes = field(default_factory=PhaseTimes, repr=False, compare=False)
    now: datetime = field(default_factory=lambda: datetime.now(UTC), repr=False, compare=False)
    _seen: set[SnapshotKey] = field(default_factory=set, repr=False, compare=False)

    def add(
        self,
        message: RawMessage,
        recently_stored: Container[SnapshotKey] = (),
        store: ObjectStore | None = None,
        limits: TimestampLimits = DEFAULT_LIMITS,
    ) -> None:
        """Decode, validate, dedupe and parse one more message into the batch.

        A message is refused whose timestamp is outside ``limits`` or whose Kafka key is not
        its machine id. One whose snapshot key is in ``recently_stored`` is counted and skipped
        before parsing. An envelope carrying a reference has its raw output read from
        ``store`` once it is known not to be a duplicate (the key is in the envelope itself).
        """
        try:
            with self.phases.timing("decode"):
                envelope = decode_envelope(message.value, message.context)
                problem = timestamp_problem(envelope.timestamp, limits, self.now)
                if problem is not None:
                    raise EnvelopeError(problem, _context(envelope, message))
                _check_key(envelope, message)
            with self.phases.timing("dedupe"):
                key = snapshot_key(envelope)
                if key in recently_stored:
                    self.recently_stored += 1
                    return
                if key in self._seen:
                    self.duplicates_in_batch += 1
                    return
            if envelope.raw_output_ref is not None:
                with self.phases.timing("decode"):
                    envelope = _read_raw_output(envelope, store, message)
            # Only now: a copy of the snapshot later in the batch stands in for one whose
            # object could not be read.
            self._seen.add(key)
            with self.phases.timing("parse"):
                self.snapshots.append(_parse(envelope, message))
        except (EnvelopeError, SnapshotParseError) as exc:
            self.dead_letters.append(DeadLetter(message=message, error=exc))


def _context(envelope: Envelope, message: RawMessage) -> MessageContext:
    """Where a message came from, and whose listing it holds."""
    return message.context_of(envelope.machine_id, envelope.content_hash)


def _read_raw_output(
    envelope: Envelope, store: ObjectStore | None, message: RawMessage
) -> Envelope:
    """The envelope with the raw output its reference names; EnvelopeError if unreadable."""
    context = _context(envelope, message)
    reference = envelope.raw_output_ref or ""
    if store is None:
        raise EnvelopeError(
            f"raw output {reference} is in an object store, and this worker has none"
            " (PROCMON_OBJECT_STORE_URL)",
            context,
        )
    try:
        data = store.get(reference)
        text = data.decode("utf-8")
    except ObjectStoreError as exc:
        raise EnvelopeError(f"raw output unavailable: {exc}", context) from exc
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"raw output {reference} is not UTF-8: {exc}", context) from exc
    return envelope.with_raw_output(text, context)


def _check_key(envelope: Envelope, message: RawMessage) -> None:
    """Refuse a message whose Kafka key is not its machine id: it went to the wrong partition."""
    if message.key == envelope.key:
        return
    expected = f"the machine_id {envelope.machine_id!r} in UTF-8"
    if message.key is None:
        problem = f"the message has no Kafka key, and the key must be {expected}"
    else:
        shown = message.key[:_SHOWN_KEY_BYTES]
        cut = "..." if len(message.key) > _SHOWN_KEY_BYTES else ""
        problem = f"the Kafka key {shown!r}{cut} is not {expected}"
    raise EnvelopeError(
        f"{problem}: a machine's listings share a partition so that they are stored in order",
        _context(envelope, message),
    )


def snapshot_key(envelope: Envelope) -> SnapshotKey:
    """The dedupe key: machine, time of the listing, content hash."""
    return (envelope.machine_id, envelope.timestamp, envelope.content_hash)


def _out_of_range(rows: list[ProcessRow]) -> tuple[ProcessRow, str] | None:
    """The first row with an integer its PostgreSQL column cannot hold, and the problem."""
    found = first_out_of_range(rows, _INTEGER_COLUMNS)
    if found is None:
        return None
    row = rows[found[0]]
    return row, f"{ProcessRow._fields[found[1]]} {row[found[1]]} is out of range"


def _parse(envelope: Envelope, message: RawMessage) -> Snapshot:
    """Parse the envelope's raw output, raising :class:`SnapshotParseError` with context."""
    context = _context(envelope, message)
    try:
        listing = parse_listing(
            envelope.raw_output,
            os_type=envelope.os_type,
            command=envelope.command_type,
            observed_at=envelope.timestamp,
        )
    except ParseError as exc:
        raise SnapshotParseError(str(exc), context, exc.line_number) from exc
    problem = _out_of_range(listing.rows)
    if problem is not None:
        row, what = problem
        raise SnapshotParseError(f"line {row.line_number}: {what}", context, row.line_number)
    return Snapshot(envelope=envelope, listing=listing, message=message)


def prepare_batch(
    messages: list[RawMessage],
    recently_stored: Container[SnapshotKey] = (),
    store: ObjectStore | None = None,
    limits: TimestampLimits = DEFAULT_LIMITS,
) -> PreparedBatch:
    """Decode, validate, dedupe and parse a batch of messages (see :meth:`PreparedBatch.add`)."""
    batch = PreparedBatch()
    for message in messages:
        batch.add(message, recently_stored, store, limits)
    return batch
