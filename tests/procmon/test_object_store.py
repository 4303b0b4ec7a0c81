"""The filesystem object store, and envelopes that carry a reference instead of the text."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from procmon.envelope import decode_envelope, make_envelope
from procmon.errors import EnvelopeError, ObjectStoreError
from procmon.object_store import FilesystemStore, open_store
from streams.batch import RawMessage, prepare_batch

LISTING = (
    "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n"
    "root 1 0.0 0.1 8 4 ? S 10:00 0:01 init\n"
)


def test_put_then_get_by_content_address(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    reference = store.put(b"hello")
    assert reference == "sha256:" + hashlib.sha256(b"hello").hexdigest()
    assert store.get(reference) == b"hello"
    assert store.put(b"hello") == reference
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [reference[7:]]


@pytest.mark.parametrize(
    "reference", ["sha256:../../etc/passwd", "/etc/passwd", "sha256:" + "g" * 64, ""]
)
def test_a_reference_never_leaves_the_root(tmp_path: Path, reference: str) -> None:
    with pytest.raises(ObjectStoreError, match="not an object reference"):
        FilesystemStore(tmp_path).get(reference)


def test_a_missing_object_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ObjectStoreError, match=f"no object sha256:{'0' * 64} in {tmp_path}"):
        FilesystemStore(tmp_path).get("sha256:" + "0" * 64)


@pytest.mark.parametrize("url", ["s3://bucket/x", "file://host/x", "relative/path"])
def test_only_local_file_urls_open(url: str) -> None:
    with pytest.raises(ObjectStoreError, match="must be file:///absolute/path"):
        open_store(url)


def test_no_url_no_store() -> None:
    assert open_store(None) is None


def _by_reference(store: FilesystemStore, raw: str = LISTING) -> RawMessage:
    envelope = make_envelope(
        raw_output=raw,
        machine_id="m",
        machine_name="m",
        os_type="linux",
        os_version="",
        command_type="ps aux",
        timestamp=datetime(2026, 11, 28, tzinfo=UTC),
    )
    body = envelope.by_reference(store.put(raw.encode())).to_bytes()
    return RawMessage("t", 0, 5, b"m", body)


def test_the_worker_reads_a_referenced_listing(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    batch = prepare_batch([_by_reference(store)], store=store)
    (snapshot,) = batch.snapshots
    assert snapshot.envelope.raw_output == LISTING
    assert snapshot.envelope.raw_output_ref is None
    assert snapshot.rows[0].process_name == "init"


def test_a_missing_or_altered_object_is_a_dead_letter(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    missing = _by_reference(store)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            path.unlink()
    altered = _by_reference(store, LISTING + "root 2 0.0 0.1 8 4 ? S 10:00 0:01 x\n")
    (next(p for p in tmp_path.rglob("*") if p.is_file())).write_text(LISTING)
    batch = prepare_batch([missing, altered], store=store)
    assert batch.snapshots == []
    reasons = [letter.error.reason for letter in batch.dead_letters]
    assert reasons[0].startswith("raw output unavailable: no object sha256:")
    assert "does not match the SHA-256 of raw_output" in reasons[1]
    assert all(letter.error.context.machine_id == "m" for letter in batch.dead_letters)


def test_a_worker_without_a_store_dead_letters_a_reference(tmp_path: Path) -> None:
    batch = prepare_batch([_by_reference(FilesystemStore(tmp_path))])
    (letter,) = batch.dead_letters
    assert "this worker has none (PROCMON_OBJECT_STORE_URL)" in letter.error.reason


def test_an_envelope_has_the_text_or_a_reference_not_both() -> None:
    fields = {
        "machine_id": "m",
        "machine_name": "m",
        "os_type": "linux",
        "os_version": "",
        "command_type": "ps aux",
        "timestamp": "2026-11-28T00:00:00Z",
        "content_hash": "0" * 64,
        "raw_output": "x",
        "raw_output_ref": "sha256:" + "0" * 64,
    }
    with pytest.raises(EnvelopeError, match="give raw_output or raw_output_ref, not both"):
        decode_envelope(json.dumps(fields).encode())
    # An envelope of before the field existed reads as it always did.
    del fields["raw_output_ref"]
    with pytest.raises(EnvelopeError, match="does not match the SHA-256"):
        decode_envelope(json.dumps(fields).encode())
