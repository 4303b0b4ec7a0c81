"""Dead-letter headers say what failed, why, and where the message came from."""

from __future__ import annotations

from procmon.errors import MessageContext, SnapshotParseError
from streams.batch import DeadLetter, RawMessage
from streams.dead_letters import dead_letter_headers


def test_headers_carry_the_error_and_the_source_coordinates() -> None:
    message = RawMessage("procmon.raw-outputs", 5, 1234, b"m1", b"{...}")
    context = MessageContext(machine_id="m1", content_hash="ab" * 32, partition=5, offset=1234)
    error = SnapshotParseError("line 7: PID: 'x' is not an integer", context, line_number=7)
    headers = dict(dead_letter_headers(DeadLetter(message=message, error=error)))
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
    names = [name for name, _ in dead_letter_headers(DeadLetter(message=message, error=error))]
    assert "procmon-line-number" not in names
    assert "procmon-machine-id" not in names
