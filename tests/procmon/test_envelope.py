"""The envelope: what a valid message is, and what each invalid one is told."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from procmon.envelope import (
    MAX_MESSAGE_BYTES,
    Envelope,
    content_hash,
    decode_envelope,
    make_envelope,
)
from procmon.errors import EnvelopeError, MessageContext

RAW = (
    "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n"
    "root 1 0.0 0.1 1 2 ? S 10:00 0:01 init\n"
)


def _envelope(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "raw_output": RAW,
        "machine_id": "m-1",
        "machine_name": "host-1",
        "os_type": "linux",
        "os_version": "6.1",
        "command_type": "ps aux",
        "timestamp": datetime(2026, 11, 28, 12, 0, tzinfo=timezone(timedelta(hours=1))),
    }
    fields.update(overrides)
    return make_envelope(**fields)  # type: ignore[arg-type]


def test_content_hash_is_sha256_of_utf8() -> None:
    assert content_hash("é") == hashlib.sha256("é".encode()).hexdigest()


def test_round_trip_keeps_every_field_and_the_offset() -> None:
    envelope = _envelope()
    decoded = decode_envelope(envelope.to_bytes())
    assert decoded == envelope
    assert decoded.timestamp.utcoffset() == timedelta(hours=1)
    assert decoded.key == b"m-1"
    assert json.loads(envelope.to_bytes())["schema_version"] == 1


def test_hash_mismatch_is_named() -> None:
    data = json.loads(_envelope().to_bytes())
    data["raw_output"] += "tampered"
    context = MessageContext(topic="t", partition=3, offset=17)
    with pytest.raises(EnvelopeError, match="does not match the SHA-256") as caught:
        decode_envelope(json.dumps(data).encode(), context)
    assert caught.value.context.machine_id == "m-1"
    assert caught.value.context.offset == 17
    assert "partition=3" in str(caught.value)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b"{}", "machine_id: Field required"),
    ],
)
def test_undecodable_messages_say_why(message: bytes, expected: str) -> None:
    with pytest.raises(EnvelopeError, match=expected):
        decode_envelope(message)


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="timestamp"):
        _envelope(timestamp=datetime(2026, 1, 1, 12, 0))


def test_unknown_os_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="os_type"):
        _envelope(os_type="plan9")


def test_nul_characters_are_refused_because_postgres_text_cannot_hold_them() -> None:
    with pytest.raises(EnvelopeError, match="raw_output contains a NUL"):
        _envelope(raw_output="a\x00b")


def test_unknown_fields_are_refused() -> None:
    data = json.loads(_envelope().to_bytes())
    data["surprise"] = 1
    with pytest.raises(EnvelopeError, match="surprise: Extra inputs are not permitted"):
        decode_envelope(json.dumps(data).encode())


def test_error_message_does_not_echo_the_raw_output() -> None:
    data = json.loads(_envelope(timestamp=datetime(2026, 1, 1, tzinfo=UTC)).to_bytes())
    data["content_hash"] = "0" * 64
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(json.dumps(data).encode())
    assert "init" not in str(caught.value)


REFERENCE = f"sha256:{content_hash(RAW)}"
# The fields of every envelope before raw_output_ref existed, in their order on the wire.
FIELDS_OF_VERSION_1 = [
    "schema_version",
    "machine_id",
    "machine_name",
    "os_type",
    "os_version",
    "command_type",
    "timestamp",
    "content_hash",
    "raw_output",
]


def test_an_envelope_with_its_text_is_sent_as_before_references_existed() -> None:
    # Workers of earlier versions refuse unknown fields: a `raw_output_ref: null` would make
    # them dead-letter every listing of an upgraded collector.
    assert list(json.loads(_envelope().to_bytes())) == FIELDS_OF_VERSION_1


def test_a_message_of_before_references_decodes_as_it_always_did() -> None:
    fields = {
        "schema_version": 1,
        "machine_id": "m-1",
        "machine_name": "host-1",
        "os_type": "linux",
        "os_version": "6.1",
        "command_type": "ps aux",
        "timestamp": "2026-11-28T12:00:00+01:00",
        "content_hash": content_hash(RAW),
        "raw_output": RAW,
    }
    message = json.dumps(fields, separators=(",", ":")).encode()
    decoded = decode_envelope(message)
    assert decoded == _envelope()
    assert decoded.raw_output_ref is None
    assert decoded.to_bytes() == message


def test_an_explicit_null_reference_is_no_reference() -> None:
    data = json.loads(_envelope().to_bytes()) | {"raw_output_ref": None}
    assert decode_envelope(json.dumps(data).encode()) == _envelope()


def test_an_envelope_by_reference_carries_the_reference_and_no_text() -> None:
    envelope = _envelope().by_reference(REFERENCE)
    sent = json.loads(envelope.to_bytes())
    assert "raw_output" not in sent
    assert sent["raw_output_ref"] == REFERENCE
    assert sent["content_hash"] == content_hash(RAW)
    decoded = decode_envelope(envelope.to_bytes())
    assert decoded == envelope
    assert (decoded.raw_output, decoded.raw_output_ref) == ("", REFERENCE)


def test_the_text_read_back_is_checked_against_the_hash() -> None:
    envelope = decode_envelope(_envelope().by_reference(REFERENCE).to_bytes())
    resolved = envelope.with_raw_output(RAW, MessageContext())
    assert resolved == _envelope()
    assert list(json.loads(resolved.to_bytes())) == FIELDS_OF_VERSION_1
    context = MessageContext(topic="t", partition=2, offset=9, machine_id="m-1")
    with pytest.raises(EnvelopeError, match="does not match the SHA-256") as caught:
        envelope.with_raw_output(RAW + "altered", context)
    assert f"(raw output read from {REFERENCE})" in caught.value.reason
    assert caught.value.context == context


def _by_reference_fields(**changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(_envelope().by_reference(REFERENCE).to_bytes())
    data.update(changes)
    return data


@pytest.mark.parametrize("raw_output", [RAW, ""])
def test_the_text_and_a_reference_together_are_refused(raw_output: str) -> None:
    data = _by_reference_fields(raw_output=raw_output)
    with pytest.raises(EnvelopeError, match="give raw_output or raw_output_ref, not both"):
        decode_envelope(json.dumps(data).encode())


def test_neither_text_nor_reference_is_refused_saying_so() -> None:
    data = json.loads(_envelope().to_bytes())
    del data["raw_output"]
    with pytest.raises(EnvelopeError, match=r"raw_output is missing .* or raw_output_ref"):
        decode_envelope(json.dumps(data).encode())


@pytest.mark.parametrize(
    "reference",
    ["sha256:../../etc/passwd", "file:///etc/passwd", "sha256:" + "A" * 64, "s3://b/k"],
)
def test_a_reference_must_name_an_object_by_its_hash(reference: str) -> None:
    with pytest.raises(EnvelopeError, match="raw_output_ref: String should match pattern"):
        decode_envelope(json.dumps(_by_reference_fields(raw_output_ref=reference)).encode())
    with pytest.raises(EnvelopeError, match="raw_output_ref: String should match pattern"):
        _envelope().by_reference(reference)


def _message(**changes: object) -> bytes:
    """A valid envelope's JSON with ``changes`` to its fields (the hash left as it was)."""
    data: dict[str, object] = json.loads(_envelope().to_bytes())
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "timestamp",
    # Valid in their own zone, after year 9999 or before year 1 in UTC.
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"],
)
def test_a_timestamp_that_overflows_in_utc_is_refused(timestamp: str) -> None:
    with pytest.raises(EnvelopeError, match="outside years 1 to 9999 once converted to UTC"):
        decode_envelope(_message(timestamp=timestamp))
    with pytest.raises(EnvelopeError, match="outside years 1 to 9999"):
        _envelope(timestamp=datetime.fromisoformat(timestamp))


@pytest.mark.parametrize("timestamp", [1764000000, 1764000000.5, "1764000000", True, None])
def test_a_timestamp_must_be_an_iso_8601_string(timestamp: object) -> None:
    with pytest.raises(EnvelopeError, match=r"timestamp: .*ISO 8601") as caught:
        decode_envelope(_message(timestamp=timestamp))
    assert caught.value.context.machine_id == "m-1"


@pytest.mark.parametrize(
    "timestamp", ["2026-11-28T12:00:00+01:00", "2026-11-28 11:00:00Z", "20261128T110000+0000"]
)
def test_iso_8601_timestamps_with_an_offset_are_read(timestamp: str) -> None:
    decoded = decode_envelope(_message(timestamp=timestamp))
    assert decoded.timestamp == datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


def test_a_long_bad_timestamp_is_not_echoed_whole() -> None:
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(_message(timestamp="x" * 10_000))
    assert "... (10000 characters) is not an ISO 8601 date" in caught.value.reason
    assert len(caught.value.reason) < 200


def test_json_nested_100000_deep_is_refused_naming_the_bound() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for message in (deep, f'{{"machine_id": {deep}}}', '{"a":' * 100_000 + "1" + "}" * 100_000):
        with pytest.raises(EnvelopeError, match="nested deeper than one level") as caught:
            decode_envelope(message.encode())
        assert "an envelope is one flat object" in caught.value.reason


def test_a_nested_value_is_refused_naming_its_field() -> None:
    with pytest.raises(EnvelopeError, match=r"field 'os_version' holds a dict") as caught:
        decode_envelope(_message(os_version={"kernel": "6.1"}))
    assert "nested deeper than one level" in caught.value.reason
    assert caught.value.context.machine_id == "m-1"


def test_a_message_over_the_size_bound_is_refused_unread() -> None:
    padded = _envelope().to_bytes() + b" " * MAX_MESSAGE_BYTES
    with pytest.raises(EnvelopeError) as caught:
        decode_envelope(padded)
    assert caught.value.reason == (
        f"message is {len(padded)} bytes, over the {MAX_MESSAGE_BYTES} bytes an envelope may have"
    )


def test_an_integer_too_long_to_convert_is_refused() -> None:
    # The json module raised a ValueError of its own here, which no one caught.
    with pytest.raises(EnvelopeError, match="message is not JSON: number out of range"):
        decode_envelope(
            _message().replace(b'"schema_version": 1', b'"schema_version": ' + b"9" * 5000)
        )


def test_a_message_that_is_not_utf8_inside_a_string_says_so() -> None:
    with pytest.raises(EnvelopeError, match="message is not UTF-8"):
        decode_envelope(_message(machine_name="PLACEHOLDER").replace(b"PLACEHOLDER", b"\xff"))


LABELS = {"role": "web", "site": "eu"}


def test_labels_or_a_cpu_count_make_a_version_2_envelope_that_round_trips() -> None:
    envelope = _envelope(labels=LABELS, cpu_count=8)
    sent = json.loads(envelope.to_bytes())
    assert (sent["schema_version"], sent["labels"], sent["cpu_count"]) == (2, LABELS, 8)
    assert decode_envelope(envelope.to_bytes()) == envelope
    only_cpus = json.loads(_envelope(cpu_count=2).to_bytes())
    assert (only_cpus["schema_version"], only_cpus["labels"]) == (2, {})


def test_without_either_the_envelope_is_version_1_with_its_fields_only() -> None:
    envelope = _envelope(labels={}, cpu_count=None)
    assert envelope.schema_version == 1
    assert list(json.loads(envelope.to_bytes())) == FIELDS_OF_VERSION_1


def test_a_version_2_envelope_without_the_new_fields_is_valid() -> None:
    decoded = decode_envelope(_message(schema_version=2))
    assert (decoded.schema_version, decoded.labels, decoded.cpu_count) == (2, None, None)
    assert decode_envelope(_message(schema_version=2, labels=None, cpu_count=None)) == decoded


@pytest.mark.parametrize(("field", "value"), [("labels", LABELS), ("cpu_count", 4)])
def test_a_version_1_envelope_carrying_a_field_of_version_2_is_refused(
    field: str, value: object
) -> None:
    with pytest.raises(EnvelopeError, match=f"{field} needs schema_version 2 or later"):
        decode_envelope(_message(**{field: value}))


@pytest.mark.parametrize("version", [0, 3, "2"])
def test_an_unknown_version_is_refused(version: object) -> None:
    with pytest.raises(EnvelopeError, match="schema_version: Input should be 1 or 2"):
        decode_envelope(_message(schema_version=version))


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({f"l{n}": "v" for n in range(33)}, "labels: 33 labels, more than the 32"),
        ({"9lives": "v"}, "labels: label name '9lives' is not 1 to 63 letters"),
        ({"n" * 64: "v"}, "labels: label name 'nnn"),
        ({"role": ""}, "labels: label role's value has 0 characters, not 1 to 256"),
        ({"role": "w" * 257}, "labels: label role's value has 257 characters"),
        ({"role": "w\x00b"}, "labels: label role's value contains a NUL character"),
        ({"role": 7}, "labels.role: Input should be a valid string"),
        ({"role": {"tier": "web"}}, "labels.role: Input should be a valid string"),
        ("role=web", "labels: Input should be a valid dictionary"),
    ],
)
def test_labels_outside_their_bounds_are_refused_saying_which(
    labels: object, expected: str
) -> None:
    message = _message(schema_version=2, labels=labels)
    with pytest.raises(EnvelopeError, match="^invalid envelope: " + re.escape(expected)):
        decode_envelope(message)
    with pytest.raises(EnvelopeError, match=re.escape(expected)):
        _envelope(labels=labels)


@pytest.mark.parametrize("cpu_count", [0, -1, 2**31, 1.5, 4.0, "4", True])
def test_a_cpu_count_must_be_a_positive_integer(cpu_count: object) -> None:
    with pytest.raises(EnvelopeError, match=r"^invalid envelope: cpu_count: "):
        decode_envelope(_message(schema_version=2, cpu_count=cpu_count))
