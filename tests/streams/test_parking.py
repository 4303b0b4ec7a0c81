"""Parked messages are files holding the exact bytes, written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.batch import RawMessage
from streams.failures import Failure
from streams.parking import mark_replayed, park, parked_messages

VALUE = bytes(range(256)) * 3


def _failure(offset: int, key: bytes | None = b"m\x00\xff") -> Failure:
    return Failure(
        message=RawMessage("procmon.raw-outputs", 3, offset, key, VALUE),
        error_class="EnvelopeError",
        reason="machine_id: \ud800 is no text",
        machine_id="m\x00",
    )


def test_a_parked_message_reads_back_exactly(tmp_path: Path) -> None:
    path = park(tmp_path / "parked", _failure(7), "CheckViolation: no")
    park(tmp_path / "parked", _failure(8, key=None), "CheckViolation: no")
    assert path.name == "procmon.raw-outputs-3-7.json"
    [first, second], unreadable = parked_messages(tmp_path / "parked")
    assert unreadable == []
    assert (first.topic, first.partition, first.offset) == ("procmon.raw-outputs", 3, 7)
    assert (first.key, first.value) == (b"m\x00\xff", VALUE)
    assert (first.reason, first.storage_error) == (
        "machine_id: \ud800 is no text",
        "CheckViolation: no",
    )
    assert first.replayed_at is None
    assert second.key is None
    assert sorted(p.name for p in (tmp_path / "parked").iterdir()) == [
        "procmon.raw-outputs-3-7.json",
        "procmon.raw-outputs-3-8.json",
    ], "no temporary file is left behind"


def test_a_redelivered_message_replaces_its_own_file(tmp_path: Path) -> None:
    park(tmp_path, _failure(7), "first")
    park(tmp_path, _failure(7), "second")
    [parked], _ = parked_messages(tmp_path)
    assert parked.storage_error == "second"


def test_replayed_is_recorded_in_the_file(tmp_path: Path) -> None:
    park(tmp_path, _failure(7), "refused")
    [parked], _ = parked_messages(tmp_path)
    mark_replayed(parked)
    [again], _ = parked_messages(tmp_path)
    assert again.replayed_at is not None
    assert again.value == VALUE


def test_an_unreadable_file_is_reported_with_why(tmp_path: Path) -> None:
    park(tmp_path, _failure(7), "refused")
    (tmp_path / "t-0-1.json").write_text("{not json", encoding="utf-8")
    parked, unreadable = parked_messages(tmp_path)
    assert [p.offset for p in parked] == [7]
    assert [(path.name, why.split(":")[0]) for path, why in unreadable] == [
        ("t-0-1.json", "JSONDecodeError")
    ]


def test_a_directory_that_cannot_be_made_raises(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way", encoding="utf-8")
    with pytest.raises(NotADirectoryError):
        park(tmp_path / "file" / "parked", _failure(7), "refused")


def test_a_missing_directory_holds_nothing(tmp_path: Path) -> None:
    assert parked_messages(tmp_path / "none") == ([], [])
