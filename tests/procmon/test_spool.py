"""The collector's spool: whole files only, oldest first, bounded with counted drops."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from procmon.spool import Spool


def _messages(spool: Spool) -> list[tuple[bytes, bytes]]:
    taken = []
    while (message := spool.oldest()) is not None:
        taken.append((message.key, message.value))
        spool.remove(message)
    return taken


def test_messages_come_back_oldest_first_with_their_keys(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=10_000)
    for n in range(12):
        spool.put(f"machine-{n % 2}".encode(), f'{{"n": {n}}}'.encode())
    assert len(spool) == 12
    assert _messages(spool) == [
        (f"machine-{n % 2}".encode(), f'{{"n": {n}}}'.encode()) for n in range(12)
    ]
    assert spool.oldest() is None


def test_a_reopened_spool_keeps_its_messages_and_their_order(tmp_path: Path) -> None:
    first = Spool(tmp_path, max_bytes=10_000)
    first.put(b"m", b"one")
    first.put(b"m", b"two")
    again = Spool(tmp_path, max_bytes=10_000)
    again.put(b"m", b"three")
    assert [value for _, value in _messages(again)] == [b"one", b"two", b"three"]


def test_a_half_written_file_is_removed_by_the_writer_only(tmp_path: Path) -> None:
    Spool(tmp_path, max_bytes=10_000).put(b"m", b"whole")
    half_written = tmp_path / "00000000000000000001.listing.tmp"
    half_written.write_bytes(b"\x00\x00")
    # Opened beside the agent (`procmon spool status`, `flush`): the file may be the agent's
    # listing in progress, so it stays.
    spool = Spool(tmp_path, max_bytes=10_000)
    assert spool.status().files == 1
    assert half_written.exists()
    assert spool.remove_half_written() == 1
    assert not list(tmp_path.glob("*.tmp"))
    assert _messages(spool) == [(b"m", b"whole")]
    assert spool.remove_half_written() == 0


def test_a_full_spool_drops_the_oldest_first_and_counts_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    value = b"x" * 96
    # Each file: 4 bytes of key length, a 1-byte key and 96 bytes: 101 bytes, 5 fit in 550.
    spool = Spool(tmp_path, max_bytes=550)
    with caplog.at_level(logging.WARNING, logger="procmon.spool"):
        for n in range(8):
            spool.put(b"m", value + bytes([n]))
    status = spool.status()
    assert (status.files, status.bytes, status.dropped) == (5, 5 * 102, 3)
    assert [v[-1] for _, v in _messages(spool)] == [3, 4, 5, 6, 7]
    assert "dropped the 1 oldest listing(s), 3 dropped in all" in caplog.text
    # The count outlives the process.
    assert Spool(tmp_path, max_bytes=550).status().dropped == 3


def test_status_of_an_empty_spool(tmp_path: Path) -> None:
    status = Spool(tmp_path / "new", max_bytes=100).status()
    assert (status.directory, status.files, status.bytes) == (tmp_path / "new", 0, 0)
    assert (status.oldest, status.newest, status.dropped) == (None, None, 0)


def test_status_gives_when_the_oldest_and_newest_were_spooled(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10_000)
    spool.put(b"m", b"one")
    spool.put(b"m", b"two")
    status = spool.status()
    assert status.files == 2
    assert status.oldest is not None
    assert status.newest is not None
    assert status.oldest <= status.newest
