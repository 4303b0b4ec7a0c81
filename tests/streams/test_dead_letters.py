"""Dead-letter headers say what failed, why, and where the message came from."""

from __future__ import annotations

import asyncio
import json
import uuid

import faust

from procmon.errors import EnvelopeError, MessageContext, SnapshotParseError
from streams.batch import DeadLetter, RawMessage
from streams.dead_letters import dead_letter_headers, publish_dead_letters
from streams.failures import Failure
from tests.e2e.harness import read_topic


def test_headers_carry_the_error_and_the_source_coordinates() -> None:
    message = RawMessage("procmon.raw-outputs", 5, 1234, b"m1", b"{...}")
    context = MessageContext(machine_id="m1", content_hash="ab" * 32, partition=5, offset=1234)
    error = SnapshotParseError("line 7: PID: 'x' is not an integer", context, line_number=7)
    headers = dict(dead_letter_headers(Failure.of_letter(DeadLetter(message=message, error=error))))
    assert headers == {
        "procmon-error-class": b"SnapshotParseError",
        "procmon-reason": b"line 7: PID: 'x' is not an integer",
        "procmon-line-number": b"7",
        "procmon-source-topic": b"procmon.raw-outputs",
        "procmon-source-partition": b"5",
        "procmon-source-offset": b"1234",
        "procmon-machine-id": b"m1",
        "procmon-content-hash": ("ab" * 32).encode(),
    }


def test_unknown_parts_are_left_out() -> None:
    message = RawMessage("t", 0, 1, None, b"junk")
    error = SnapshotParseError("bad", MessageContext())
    names = [
        name
        for name, _ in dead_letter_headers(
            Failure.of_letter(DeadLetter(message=message, error=error))
        )
    ]
    assert "procmon-line-number" not in names
    assert "procmon-machine-id" not in names


def test_headers_are_encodable_and_small_whatever_the_message_holds() -> None:
    # A lone surrogate has no UTF-8 form; a reason may name a field a megabyte long.
    context = MessageContext(machine_id="m\ud800")
    error = EnvelopeError(f"invalid envelope: {'x' * 1_000_000}: Extra inputs", context)
    failure = Failure.of_letter(DeadLetter(RawMessage("t", 0, 1, None, b"{}"), error))
    headers = dict(dead_letter_headers(failure))
    assert headers["procmon-machine-id"] == b"m\\ud800"
    assert len(headers["procmon-reason"]) < 1200
    assert headers["procmon-reason"].endswith(b"characters, whole in ingest_errors)")


async def _publish(bootstrap: str, topic: str, failures: list[Failure], limit: int) -> None:
    # The worker's own producer: Faust's, refusing messages over 5,000 bytes itself.
    app = faust.App(
        f"dead-{uuid.uuid4().hex[:8]}",
        broker=f"kafka://{bootstrap}",
        producer_max_request_size=5_000,
        web_enabled=False,
        loghandlers=[],
    )
    await app.producer.start()
    try:
        dead = app.topic(topic, key_serializer="raw", value_serializer="raw")
        await publish_dead_letters(dead, failures, limit)
    finally:
        await app.producer.stop()


def test_a_letter_too_large_for_the_topic_goes_as_a_reference(broker: str) -> None:
    topic = f"dead-{uuid.uuid4().hex[:8]}"
    error = SnapshotParseError("line 2: bad", MessageContext(machine_id="m1"), line_number=2)
    failures = [
        Failure.of_letter(DeadLetter(RawMessage("raw", 1, offset, b"m1", body), error))
        for offset, body in ((10, b"small"), (11, b"x" * 6_000), (12, b"y" * 200_000))
    ]
    # 11 fits the limit given but the producer refuses it; 12 is over the limit given.
    asyncio.run(_publish(broker, topic, failures, 100_000))
    records = sorted(read_topic(broker, topic, 3), key=lambda r: r.offset)
    by_offset = {int(dict(r.headers)["procmon-source-offset"]): r for r in records}
    assert by_offset[10].value == b"small"
    assert "procmon-body-reference" not in dict(by_offset[10].headers)
    for offset, size in ((11, 6_000), (12, 200_000)):
        headers = dict(by_offset[offset].headers)
        assert headers["procmon-body-reference"] == b"ingest_errors"
        assert headers["procmon-original-bytes"] == str(size).encode()
        assert headers["procmon-reason"] == b"line 2: bad"
        assert json.loads(by_offset[offset].value) == {
            "ingest_errors": {"topic": "raw", "partition": 1, "offset": offset},
            "bytes": size,
        }
