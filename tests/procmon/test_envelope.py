"""The envelope: what a valid message is, and what each invalid one is told."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from procmon.envelope import Envelope, content_hash, decode_envelope, make_envelope
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
