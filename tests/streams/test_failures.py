"""Text PostgreSQL cannot hold is escaped in a failure's record; the message's bytes never are."""

from __future__ import annotations

from procmon.errors import EnvelopeError, MessageContext
from streams.batch import DeadLetter, RawMessage
from streams.failures import Failure, escape_unstorable


def test_nul_and_lone_surrogates_are_escaped_and_nothing_else() -> None:
    assert escape_unstorable("a\x00b\ud800c\udfffé€😀\\x") == "a\\u0000b\\ud800c\\udfffé€😀\\x"
    assert escape_unstorable("plain") == "plain"


def test_a_storable_failure_says_which_fields_were_escaped() -> None:
    value = b'{"machine_id": "m\\u0000", "\\u0000": 1}'
    context = MessageContext(machine_id="m\x00", content_hash="\ud800" * 2)
    error = EnvelopeError("invalid envelope: \x00: Extra inputs are not permitted", context)
    failure = Failure.of_letter(DeadLetter(RawMessage("t", 1, 2, b"m\x00", value), error))
    storable = failure.storable()
    assert storable.machine_id == "m\\u0000"
    assert storable.content_hash == "\\ud800\\ud800"
    assert storable.reason.startswith("invalid envelope: \\u0000: Extra inputs are not permitted")
    assert "reason, machine_id, content_hash held NUL characters or lone surrogates" in (
        storable.reason
    )
    assert storable.message == failure.message, "the message's bytes and key are kept exactly"


def test_a_failure_with_nothing_to_escape_is_left_as_it_is() -> None:
    error = EnvelopeError("message is not JSON", MessageContext(machine_id="m1"))
    failure = Failure.of_letter(DeadLetter(RawMessage("t", 0, 0, None, b"x"), error))
    assert failure.storable() is failure
