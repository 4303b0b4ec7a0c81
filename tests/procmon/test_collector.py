"""The collector: this machine's identity, its real listing, and saved files."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from parsers import parse_listing
from procmon import collector
from procmon.collector import collect_listing, envelope_from_file, local_identity
from procmon.envelope import Envelope, content_hash
from procmon.errors import CollectorError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_identity_uses_the_os_machine_id_and_host_name(tmp_path: Path) -> None:
    identity = local_identity(config_dir=tmp_path)
    machine_id_file = Path("/etc/machine-id")
    if machine_id_file.is_file() and machine_id_file.read_text().strip():
        assert identity.machine_id == machine_id_file.read_text().strip()
    assert identity.machine_name == socket.gethostname()
    assert identity.os_type == "linux"


def test_without_an_os_id_a_generated_one_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collector, "_MACHINE_ID_FILES", (tmp_path / "absent",))
    first = local_identity(config_dir=tmp_path / "config").machine_id
    second = local_identity(config_dir=tmp_path / "config").machine_id
    assert first == second
    assert len(first) == 32
    assert (tmp_path / "config" / "machine-id").read_text().strip() == first


def test_collected_listing_of_this_machine_parses_and_contains_this_process(
    tmp_path: Path,
) -> None:
    envelope = collect_listing(local_identity(config_dir=tmp_path), NOW)
    assert envelope.command_type == "ps aux"
    assert envelope.content_hash == content_hash(envelope.raw_output)
    rows = parse_listing(
        envelope.raw_output, os_type="linux", command="ps aux", observed_at=NOW
    ).rows
    assert os.getpid() in {row.pid for row in rows}


def test_the_identity_carries_its_labels_and_this_machines_cpu_count(tmp_path: Path) -> None:
    identity = local_identity(config_dir=tmp_path, labels={"role": "web"})
    assert (identity.labels, identity.cpu_count) == ({"role": "web"}, os.cpu_count())
    assert local_identity(config_dir=tmp_path).labels == {}


def test_a_collected_listing_is_a_version_2_envelope_with_labels_and_cpu_count(
    tmp_path: Path,
) -> None:
    identity = local_identity(config_dir=tmp_path, labels={"role": "web", "site": "eu"})
    envelope = collect_listing(identity, NOW)
    assert envelope.schema_version == 2
    assert envelope.labels == {"role": "web", "site": "eu"}
    assert envelope.cpu_count == os.cpu_count()


def _from_file(path: Path) -> Envelope:
    return envelope_from_file(
        path,
        machine_id="m",
        machine_name="m",
        os_type="linux",
        os_version="",
        command_type="ps aux",
        timestamp=NOW,
    )


def test_saved_file_becomes_an_envelope(tmp_path: Path) -> None:
    path = tmp_path / "ps.out"
    path.write_text("USER PID\n", encoding="utf-8")
    assert _from_file(path).raw_output == "USER PID\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read"), (b"\xff\xfe binary", "is not UTF-8 text")],
)
def test_unreadable_files_are_refused_clearly(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "ps.out"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CollectorError, match=expected):
        _from_file(path)
