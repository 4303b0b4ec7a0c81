"""Preparing a batch: every message ends up stored, dead-lettered or counted as a duplicate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from procmon.envelope import MAX_MESSAGE_BYTES, make_envelope
from procmon.errors import EnvelopeError, SnapshotParseError
from procmon.object_store import FilesystemStore
from procmon.settings import Settings
from streams.batch import PreparedBatch, RawMessage, prepare_batch

HEADER = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND"
WHEN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _message(
    raw_output: str,
    offset: int,
    machine: str = "m1",
    store: FilesystemStore | None = None,
    **version_2: Any,
) -> RawMessage:
    """A message of ``raw_output``; by reference to ``store`` when one is given, with the
    fields of envelope version 2 given (labels, cpu_count)."""
    envelope = make_envelope(
        raw_output=raw_output,
        machine_id=machine,
        machine_name=machine,
        os_type="linux",
        os_version="6.1",
        command_type="ps aux",
        timestamp=WHEN,
        **version_2,
    )
    if store is not None:
        envelope = envelope.by_reference(store.put(raw_output.encode()))
    return RawMessage("raw", 1, offset, machine.encode(), envelope.to_bytes())


def test_valid_listing_becomes_a_snapshot_with_rows() -> None:
    raw = f"{HEADER}\nroot 1 0.5 0.1 1024 512 ? Ss 10:00 0:01 /sbin/init splash\n"
    batch = prepare_batch([_message(raw, 0)])
    assert batch.dead_letters == []
    (snapshot,) = batch.snapshots
    (row,) = snapshot.rows
    assert (row.pid, row.process_name, row.rss_bytes) == (1, "init", 512 * 1024)
    assert snapshot.key == ("m1", WHEN, snapshot.envelope.content_hash)


def test_the_same_snapshot_twice_in_a_batch_is_counted_once() -> None:
    raw = f"{HEADER}\n"
    batch = prepare_batch([_message(raw, 0), _message(raw, 1), _message(raw, 2, "m2")])
    assert [s.envelope.machine_id for s in batch.snapshots] == ["m1", "m2"]
    assert batch.duplicates_in_batch == 1


def test_unparseable_listing_is_dead_lettered_with_line_and_context() -> None:
    raw = f"{HEADER}\nroot 1 0.5 0.1 1024 512 ? Ss 10:00 0:01 init\nroot x\n"
    batch = prepare_batch([_message(raw, 7)])
    assert batch.snapshots == []
    (letter,) = batch.dead_letters
    assert isinstance(letter.error, SnapshotParseError)
    assert letter.error.line_number == 3
    assert "line 3" in letter.error.reason
    assert letter.error.context.machine_id == "m1"
    assert letter.error.context.offset == 7


def test_values_postgres_cannot_hold_are_dead_lettered() -> None:
    raw = f"{HEADER}\nroot 99999999999 0.5 0.1 1024 512 ? Ss 10:00 0:01 init\n"
    (letter,) = prepare_batch([_message(raw, 0)]).dead_letters
    assert letter.error.reason == "line 2: pid 99999999999 is out of range"


def test_bad_envelope_is_dead_lettered_and_the_rest_of_the_batch_kept() -> None:
    good = _message(f"{HEADER}\n", 0)
    tampered = json.loads(good.value)
    tampered["machine_name"] = ""
    bad = RawMessage("raw", 1, 1, b"m1", json.dumps(tampered).encode())
    batch = prepare_batch([bad, good])
    assert len(batch.snapshots) == 1
    (letter,) = batch.dead_letters
    assert isinstance(letter.error, EnvelopeError)
    assert "machine_name: String should have at least 1 character" in letter.error.reason
    assert letter.message is bad


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"labels": {"role": "web"}},
            "labels needs schema_version 2 or later; this envelope says 1",
        ),
        ({"schema_version": 2, "labels": {"role": ""}}, "label role's value has 0 characters"),
        ({"schema_version": 2, "cpu_count": 0}, "cpu_count: Input should be greater than 0"),
    ],
)
def test_an_envelope_of_bad_labels_or_cpu_count_is_a_dead_letter_saying_why(
    changes: dict[str, object], expected: str
) -> None:
    good = _message(f"{HEADER}\n", 0)
    bad = RawMessage("raw", 1, 1, b"m1", json.dumps(json.loads(good.value) | changes).encode())
    batch = prepare_batch([bad, good])
    assert len(batch.snapshots) == 1
    (letter,) = batch.dead_letters
    assert isinstance(letter.error, EnvelopeError)
    assert expected in letter.error.reason
    assert letter.error.context.machine_id == "m1"


def test_recently_stored_snapshots_are_skipped_before_parsing() -> None:
    stored = _message(f"{HEADER}\n", 0)
    unparseable_but_stored = _message(f"{HEADER}\nroot x\n", 1, "m2")
    recent = {
        prepare_batch([stored]).snapshots[0].key,
        ("m2", WHEN, json.loads(unparseable_but_stored.value)["content_hash"]),
    }
    batch = prepare_batch(
        [stored, unparseable_but_stored, _message(f"{HEADER}\n", 2, "m3")], recent
    )
    assert batch.recently_stored == 2
    assert batch.dead_letters == []
    assert [s.envelope.machine_id for s in batch.snapshots] == ["m3"]


def test_memory_usage_over_two_gib_is_stored_not_refused() -> None:
    raw = (
        '"Image Name","PID","Session Name","Session#","Mem Usage"\n'
        '"big.exe","4","Console","1","3,145,728 K"\n'
    )
    batch = prepare_batch([_message(raw, 0)])
    assert batch.dead_letters == []
    assert batch.snapshots[0].rows[0].memory_usage_bytes == 3 * 2**30


def test_time_is_counted_in_the_phases_each_message_went_through() -> None:
    raw = f"{HEADER}\nroot 1 0.5 0.1 1024 512 ? Ss 10:00 0:01 /sbin/init splash\n"
    batch = prepare_batch([_message(raw, 0), _message(raw, 1)])
    seconds = batch.phases.seconds
    assert seconds["decode"] > 0
    assert seconds["dedupe"] > 0
    assert seconds["parse"] > 0
    # Writing is the writer's to count, waiting and acknowledging the worker's.
    assert seconds["copy"] == seconds["commit"] == seconds["consume"] == seconds["ack"] == 0


LISTING = f"{HEADER}\nroot 1 0.0 0.1 8 4 ? S 10:00 0:01 init\n"


def test_a_listing_by_reference_is_read_from_the_store(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    batch = prepare_batch([_message(LISTING, 0, store=store)], store=store)
    assert batch.dead_letters == []
    (snapshot,) = batch.snapshots
    assert snapshot.envelope.raw_output == LISTING
    assert snapshot.envelope.raw_output_ref is None
    assert snapshot.rows[0].process_name == "init"


def test_a_missing_or_altered_object_is_a_dead_letter_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    store = FilesystemStore(tmp_path)
    missing = _message(f"{LISTING}root 2 0.0 0.1 8 4 ? S 10:00 0:01 sh\n", 0, "gone", store)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            path.unlink()
    altered = _message(LISTING, 1, "altered", store)
    (stored,) = (p for p in tmp_path.rglob("*") if p.is_file())
    stored.write_text(LISTING.replace("init", "evil"))
    inline = _message(LISTING, 2, "inline")
    batch = prepare_batch([missing, altered, inline], store=store)
    assert [s.envelope.machine_id for s in batch.snapshots] == ["inline"]
    gone, changed = batch.dead_letters
    assert isinstance(gone.error, EnvelopeError)
    assert gone.error.reason.startswith("raw output unavailable: no object sha256:")
    assert (gone.error.context.machine_id, gone.error.context.offset) == ("gone", 0)
    assert isinstance(changed.error, EnvelopeError)
    assert "does not match the SHA-256 of raw_output" in changed.error.reason
    assert changed.error.context.machine_id == "altered"


def test_an_object_that_is_not_utf8_is_a_dead_letter(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    message = _message(LISTING, 0, store=store)
    (stored,) = (p for p in tmp_path.rglob("*") if p.is_file())
    stored.write_bytes(b"\xff" * len(LISTING))
    (letter,) = prepare_batch([message], store=store).dead_letters
    assert "is not UTF-8" in letter.error.reason


def test_a_worker_without_a_store_dead_letters_a_reference(tmp_path: Path) -> None:
    batch = prepare_batch([_message(LISTING, 0, store=FilesystemStore(tmp_path))])
    assert batch.snapshots == []
    (letter,) = batch.dead_letters
    assert "this worker has none (PROCMON_OBJECT_STORE_URL)" in letter.error.reason


def test_a_recently_stored_reference_is_skipped_without_reading_the_store(
    tmp_path: Path,
) -> None:
    store = FilesystemStore(tmp_path)
    message = _message(LISTING, 0, store=store)
    key = prepare_batch([message], store=store).snapshots[0].key
    for path in tmp_path.rglob("*"):
        if path.is_file():
            path.unlink()
    # The object is gone: reading it would make a dead letter, but the snapshot is stored.
    batch = prepare_batch([message], recently_stored={key}, store=store)
    assert (batch.recently_stored, batch.dead_letters, batch.snapshots) == (1, [], [])


def test_an_inline_copy_stands_in_for_a_reference_that_cannot_be_read(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    by_reference = _message(LISTING, 0, store=store)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            path.unlink()
    batch = prepare_batch([by_reference, _message(LISTING, 1)], store=store)
    assert len(batch.dead_letters) == 1
    assert [s.message.offset for s in batch.snapshots] == [1]
    assert batch.duplicates_in_batch == 0


def test_a_message_keyed_other_than_its_machine_id_is_a_dead_letter() -> None:
    good = _message(LISTING, 0)
    rekeyed = RawMessage("raw", 1, 1, b"m2", _message(LISTING, 1, "m1").value)
    unkeyed = RawMessage("raw", 1, 2, None, _message(LISTING, 2, "m3").value)
    batch = prepare_batch([rekeyed, unkeyed, good])
    assert [s.message.offset for s in batch.snapshots] == [0]
    wrong, missing = batch.dead_letters
    assert isinstance(wrong.error, EnvelopeError)
    assert wrong.error.reason.startswith(
        "the Kafka key b'm2' is not the machine_id 'm1' in UTF-8: a machine's listings share"
    )
    assert (wrong.error.context.machine_id, wrong.error.context.offset) == ("m1", 1)
    assert missing.error.reason.startswith(
        "the message has no Kafka key, and the key must be the machine_id 'm3' in UTF-8"
    )


def test_a_long_wrong_key_is_shown_cut_short() -> None:
    message = RawMessage("raw", 1, 0, b"k" * 10_000, _message(LISTING, 0).value)
    (letter,) = prepare_batch([message]).dead_letters
    assert f"the Kafka key b'{'k' * 80}'... is not the machine_id 'm1'" in letter.error.reason
    assert len(letter.error.reason) < 300


def _dated(timestamp: str, offset: int) -> RawMessage:
    """A valid message of machine m1 dated ``timestamp`` (an ISO 8601 string)."""
    data = json.loads(_message(LISTING, offset).value) | {"timestamp": timestamp}
    return RawMessage("raw", 1, offset, b"m1", json.dumps(data).encode())


def test_timestamps_out_of_range_are_dead_letters_saying_which_bound() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    batch = PreparedBatch(now=now)
    for offset, timestamp in enumerate(
        [
            "1989-12-31T23:59:59Z",
            "1990-01-01T00:00:00Z",
            "2026-11-29T12:00:00Z",
            "2026-11-29T12:00:01Z",
            # The snapshot that became a machine's lastSeen for ever.
            "9999-12-30T00:00:00Z",
        ]
    ):
        batch.add(_dated(timestamp, offset))
    assert [s.message.offset for s in batch.snapshots] == [1, 2]
    early, ahead, far = (letter.error for letter in batch.dead_letters)
    assert isinstance(early, EnvelopeError)
    assert early.reason == (
        "timestamp 1989-12-31T23:59:59+00:00 is before 1990-01-01T00:00:00+00:00, the earliest "
        "accepted (PROCMON_EARLIEST_TIMESTAMP)"
    )
    assert (early.context.machine_id, early.context.offset) == ("m1", 0)
    assert ahead.reason == (
        "timestamp 2026-11-29T12:00:01+00:00 is more than 86400 seconds ahead of the clock "
        "checking it (2026-11-28T12:00:00+00:00; PROCMON_MAX_CLOCK_AHEAD_SECONDS)"
    )
    assert far.reason.startswith("timestamp 9999-12-30T00:00:00+00:00 is more than 86400")


def test_the_limits_are_those_given() -> None:
    limits = Settings(
        earliest_timestamp=datetime(2026, 11, 28, tzinfo=UTC), max_clock_ahead_seconds=1
    )
    batch = prepare_batch(
        [_dated("2026-11-27T23:59:59Z", 0), _dated(datetime.now(UTC).isoformat(), 1)],
        limits=limits,
    )
    assert [s.message.offset for s in batch.snapshots] == [1]
    (letter,) = batch.dead_letters
    assert "before 2026-11-28T00:00:00+00:00, the earliest accepted" in letter.error.reason


def test_the_worker_clock_is_now_by_default() -> None:
    ahead = (datetime.now(UTC) + timedelta(days=1, minutes=5)).isoformat()
    (letter,) = prepare_batch([_dated(ahead, 0)]).dead_letters
    assert "seconds ahead of the clock checking it" in letter.error.reason


@pytest.mark.parametrize(
    "value",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"machine_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"schema_version": ' + b"9" * 5000 + b"}",
    ],
    ids=["nested", "nested-field", "long-integer"],
)
def test_poison_bytes_are_dead_letters_and_the_batch_goes_on(value: bytes) -> None:
    batch = prepare_batch([RawMessage("raw", 1, 0, b"m1", value), _message(LISTING, 1)])
    assert [s.message.offset for s in batch.snapshots] == [1]
    (letter,) = batch.dead_letters
    assert isinstance(letter.error, EnvelopeError)


def test_a_valid_envelope_over_the_size_bound_is_a_dead_letter() -> None:
    padded = _message(LISTING, 0).value + b" " * MAX_MESSAGE_BYTES
    batch = prepare_batch([RawMessage("raw", 1, 0, b"m1", padded)])
    assert batch.snapshots == []
    (letter,) = batch.dead_letters
    assert letter.error.reason.startswith(f"message is {len(padded)} bytes, over the")
