"""The collector: this machine's identity, its real listing, and saved files."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parsers import ProcessRow, parse_listing
from procmon import collector
from procmon.collector import collect_listing, envelope_from_file, local_identity
from procmon.envelope import Envelope, content_hash
from procmon.errors import CollectorError
from procmon.listing_commands import DEFAULT_COMMANDS

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


def _rows(envelope: Envelope) -> list[ProcessRow]:
    """The envelope's rows, read as the workers read them: at its own moment."""
    return list(
        parse_listing(
            envelope.raw_output,
            os_type="linux",
            command=envelope.command_type,
            observed_at=envelope.timestamp,
        ).rows
    )


def test_collected_listing_of_this_machine_parses_and_contains_this_process(
    tmp_path: Path,
) -> None:
    # Read as the workers read it: at its own moment (lstart after it would be refused).
    envelope = collect_listing(local_identity(config_dir=tmp_path), datetime.now(UTC))
    assert envelope.command_type == DEFAULT_COMMANDS["linux"]
    assert envelope.content_hash == content_hash(envelope.raw_output)
    rows = _rows(envelope)
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


def test_processes_started_after_now_leave_the_listing_readable(tmp_path: Path) -> None:
    # A tick's moment a few seconds back: ps, and this sleep, start after it, to the second.
    now = datetime.now(UTC) - timedelta(seconds=3)
    with subprocess.Popen(["sleep", "30"]) as late:
        try:
            envelope = collect_listing(local_identity(config_dir=tmp_path), now)
        finally:
            late.kill()
    assert envelope.timestamp > now
    rows = _rows(envelope)
    [started] = [row.start_time for row in rows if row.pid == late.pid]
    assert started is not None
    assert now < started + timedelta(seconds=1)


def test_a_tick_stamped_ahead_keeps_its_moment(tmp_path: Path) -> None:
    ahead = datetime.now(UTC) + timedelta(minutes=5)
    envelope = collect_listing(local_identity(config_dir=tmp_path), ahead, argv=("ps", "axu"))
    assert envelope.timestamp == ahead


def test_the_command_given_is_run_and_named_in_the_envelope(tmp_path: Path) -> None:
    envelope = collect_listing(local_identity(config_dir=tmp_path), NOW, argv=("ps", "axu"))
    assert envelope.command_type == "ps axu"
    assert envelope.raw_output.split()[:2] == ["USER", "PID"]


def test_a_command_that_fails_is_a_collector_error(tmp_path: Path) -> None:
    identity = local_identity(config_dir=tmp_path)
    with pytest.raises(CollectorError, match="'ps -o nosuchcolumn' failed"):
        collect_listing(identity, NOW, argv=("ps", "-o", "nosuchcolumn"))


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
