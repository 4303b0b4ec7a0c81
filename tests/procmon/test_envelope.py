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
