"""The message a collector publishes: one raw listing of one machine at one time.

Serialized as UTF-8 JSON; the Kafka key is the ``machine_id``. See README "Message envelope".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import from_json

from procmon.errors import EnvelopeError, MessageContext
from procmon.labels import check_labels
from procmon.os_types import OS_TYPES, OsType

__all__ = [
    "MAX_MESSAGE_BYTES",
    "OS_TYPES",
    "Envelope",
    "OsType",
    "content_hash",
    "decode_envelope",
    "make_envelope",
]

# The most a message may hold: what procmon.kafka sends at most before compression.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# How pydantic_core's JSON parser refuses input nested deeper than it goes (200 levels).
_PARSER_DEPTH_REFUSAL = "recursion limit exceeded"
# Enough of a refused value to recognise it by, without echoing a whole listing.
_SHOWN_CHARACTERS = 40

NonEmpty = Annotated[str, Field(min_length=1, max_length=512)]
Labels = Annotated[dict[str, str], AfterValidator(check_labels)]
# The fields each version after the first adds (2: labels and cpu_count); an envelope of an
# earlier version has none of them.
_ADDED_IN = {"labels": 2, "cpu_count": 2}


def _iso_8601(value: object) -> object:
    """A timestamp given as text must be ISO 8601 (pydantic alone takes numbers as Unix time)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(
            "must be an ISO 8601 string with a UTC offset (e.g. 2026-11-28T12:00:00+01:00), "
            f"not {type(value).__name__}"
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{_shown(value)} is not an ISO 8601 date and time with a UTC offset"
        ) from None


def _representable_in_utc(value: datetime) -> datetime:
    """Refuse a time that exists only in its own zone: no datetime holds it in UTC."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{value.isoformat()} is outside years 1 to 9999 once converted to UTC"
        ) from None
    return value


Timestamp = Annotated[
    AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_representable_in_utc)
]


def content_hash(raw_output: str) -> str:
    """Return the SHA-256 hex digest of the UTF-8 encoding of ``raw_output``."""
    return hashlib.sha256(raw_output.encode("utf-8")).hexdigest()


class Envelope(BaseModel):
    """One raw listing with where, when and how it was taken."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1, 2] = 1
    machine_id: NonEmpty
    machine_name: NonEmpty
    os_type: OsType
    os_version: Annotated[str, Field(max_length=512)]
    command_type: NonEmpty
    timestamp: Timestamp
    content_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    # Exactly one of the two is given. In memory, an envelope by reference has an empty
    # raw_output until the worker reads the text (with_raw_output).
    raw_output: str = ""
    # Instead of the text, for listings too large for the broker: see procmon.object_store.
    # A JSON null counts as absent.
    raw_output_ref: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")] | None = None
    # Version 2. A JSON null counts as absent, as for raw_output_ref.
    labels: Labels | None = None
    cpu_count: Annotated[int, Field(strict=True, gt=0, le=2**31 - 1)] | None = None

    @model_validator(mode="after")
    def _of_its_version(self) -> Envelope:
        for name, version in _ADDED_IN.items():
            if getattr(self, name) is not None and self.schema_version < version:
                raise ValueError(
                    f"{name} needs schema_version {version} or later; this envelope says"
                    f" {self.schema_version}"
                )
        return self

    @model_validator(mode="after")
    def _storable_and_intact(self) -> Envelope:
        for name, value in self:
            if isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name} contains a NUL character, which cannot be stored")
        # Given, not merely non-empty: an empty listing is still a listing.
        text_given = "raw_output" in self.model_fields_set
        if self.raw_output_ref is not None:
            if text_given:
                raise ValueError("give raw_output or raw_output_ref, not both")
            # The text is checked against content_hash when it is read from the store.
            return self
        if not text_given:
            raise ValueError(
                "raw_output is missing (give the listing's text, or raw_output_ref for one in "
                "the object store)"
            )
        actual = content_hash(self.raw_output)
        if actual != self.content_hash:
            raise ValueError(
                f"content_hash {self.content_hash} does not match the SHA-256 of raw_output "
                f"({actual}): the output was altered or truncated in transit"
            )
        return self

    @property
    def key(self) -> bytes:
        """The Kafka key: the machine id, so one machine's listings stay in order."""
        return self.machine_id.encode("utf-8")

    def by_reference(self, reference: str) -> Envelope:
        """This envelope with ``reference`` to its raw output in the object store instead."""
        fields = self.model_dump(exclude={"raw_output"}) | {"raw_output_ref": reference}
        try:
            return Envelope.model_validate(fields)
        except ValidationError as exc:
            raise EnvelopeError(_describe(exc), MessageContext(machine_id=self.machine_id)) from exc

    def with_raw_output(self, raw_output: str, context: MessageContext) -> Envelope:
        """This envelope with its raw output read back, checked against ``content_hash``."""
        fields = self.model_dump(exclude={"raw_output_ref"}) | {"raw_output": raw_output}
        try:
            return Envelope.model_validate(fields)
        except ValidationError as exc:
            raise EnvelopeError(
                f"{_describe(exc)} (raw output read from {self.raw_output_ref})", context
            ) from exc

    def to_bytes(self) -> bytes:
        """Serialize as compact UTF-8 JSON, with the text or the reference, never both.

        An envelope with its text has the same fields as before ``raw_output_ref`` existed, and
        one of version 1 none of version 2's, so workers of earlier versions (which refuse
        unknown fields) still read it.
        """
        absent = {"raw_output" if self.raw_output_ref is not None else "raw_output_ref"}
        absent |= {name for name in _ADDED_IN if getattr(self, name) is None}
        return self.model_dump_json(exclude=absent).encode("utf-8")


def make_envelope(
    *,
    raw_output: str,
    machine_id: str,
    machine_name: str,
    os_type: str,
    os_version: str,
    command_type: str,
    timestamp: datetime,
    labels: Mapping[str, str] | None = None,
    cpu_count: int | None = None,
) -> Envelope:
    """Build and validate an envelope, computing the content hash of ``raw_output``.

    Its version is the earliest that holds what it is given: 2 with labels or a CPU count,
    else 1, which workers of every version read.
    """
    fields: dict[str, object] = {
        "machine_id": machine_id,
        "machine_name": machine_name,
        "os_type": os_type,
        "os_version": os_version,
        "command_type": command_type,
        "timestamp": timestamp,
        "content_hash": content_hash(raw_output),
        "raw_output": raw_output,
    }
    if labels or cpu_count is not None:
        fields |= {"schema_version": 2, "labels": labels or {}, "cpu_count": cpu_count}
    try:
        return Envelope.model_validate(fields)
    except ValidationError as exc:
        raise EnvelopeError(_describe(exc), MessageContext(machine_id=machine_id)) from exc


def decode_envelope(message: bytes, context: MessageContext | None = None) -> Envelope:
    """Decode and validate a message's bytes; an :class:`EnvelopeError` says what is wrong.

    Bounded: a message over :data:`MAX_MESSAGE_BYTES` is refused unread, and one nested
    anywhere but in ``labels``, an object of strings (an envelope is otherwise one flat
    object), is refused, however deep it goes.
    """
    context = context or MessageContext()
    if len(message) > MAX_MESSAGE_BYTES:
        raise EnvelopeError(
            f"message is {len(message)} bytes, over the {MAX_MESSAGE_BYTES} bytes an envelope "
            "may have",
            context,
        )
    try:
        # pydantic's parser: four times as fast as the json module on a 150-row `ps aux`, and
        # it stops at a fixed depth, where the json module recursed until a RecursionError.
        data = from_json(message, allow_inf_nan=False)
    except ValueError as exc:
        raise EnvelopeError(_json_problem(message, exc), context) from exc
    if not isinstance(data, dict):
        raise EnvelopeError(f"message is JSON {type(data).__name__}, not an object", context)
    context = MessageContext(
        topic=context.topic,
        partition=context.partition,
        offset=context.offset,
        machine_id=_str_or_none(data.get("machine_id")),
        content_hash=_str_or_none(data.get("content_hash")),
    )
    for name, value in data.items():
        if isinstance(value, dict) and name == "labels":
            # Its values are checked to be strings, and so not nested, by the model.
            continue
        if isinstance(value, dict | list):
            raise EnvelopeError(
                f"message is JSON nested deeper than one level (field {_shown(name)} holds a "
                f"{type(value).__name__}): an envelope is one flat object",
                context,
            )
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        raise EnvelopeError(_describe(exc), context) from exc


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _shown(value: str) -> str:
    """``value`` quoted, cut short when long."""
    if len(value) <= _SHOWN_CHARACTERS:
        return repr(value)
    return f"{value[:_SHOWN_CHARACTERS]!r}... ({len(value)} characters)"


def _json_problem(message: bytes, exc: ValueError) -> str:
    """Why ``message`` is not JSON, told apart from text that is not UTF-8 at all."""
    try:
        message.decode("utf-8")
    except UnicodeDecodeError as undecodable:
        return f"message is not UTF-8: {undecodable}"
    if str(exc).startswith(_PARSER_DEPTH_REFUSAL):
        return (
            f"message is JSON nested deeper than one level ({exc}): an envelope is one flat object"
        )
    return f"message is not JSON: {exc}"


def _describe(exc: ValidationError) -> str:
    """One line naming each invalid field and why, without echoing the (large) raw output."""
    problems = []
    for err in exc.errors(include_input=False):
        field = ".".join(str(part) for part in err["loc"]) or "envelope"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {message}")
    return "invalid envelope: " + "; ".join(problems)
