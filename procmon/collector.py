"""What a collector knows about its own machine, and how it takes a listing.

``procmon collect`` runs this OS's listing command; ``procmon submit`` wraps a saved output.
Both build a validated :class:`~procmon.envelope.Envelope` here before anything is sent.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from procmon.envelope import Envelope, make_envelope
from procmon.errors import CollectorError
from procmon.listing_commands import default_argv

__all__ = [
    "MachineIdentity",
    "collect_listing",
    "envelope_from_file",
    "local_identity",
]

# Console programs on Windows write in the OEM code page, elsewhere in UTF-8.
_OUTPUT_ENCODINGS = {"windows": "oem"}

_SYSTEM_TO_OS = {
    "Linux": "linux",
    "Darwin": "macos",
    "FreeBSD": "freebsd",
    "OpenBSD": "openbsd",
    "NetBSD": "netbsd",
    "Windows": "windows",
}
_MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
_COMMAND_TIMEOUT_SECONDS = 60


@dataclass(frozen=True, slots=True)
class MachineIdentity:
    """Who this machine is, as the envelope names it: also what it is for (its labels) and
    its logical CPUs (None where the OS does not say)."""

    machine_id: str
    machine_name: str
    os_type: str
    os_version: str
    labels: Mapping[str, str] = field(default_factory=dict)
    cpu_count: int | None = None


def _stable_machine_id(config_dir: Path) -> str:
    """The OS's machine id, else one generated once and kept in the user's config."""
    for candidate in _MACHINE_ID_FILES:
        try:
            value = candidate.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if value:
            return value
    kept = config_dir / "machine-id"
    if kept.is_file():
        return kept.read_text(encoding="ascii").strip()
    generated = uuid.uuid4().hex
    config_dir.mkdir(parents=True, exist_ok=True)
    kept.write_text(generated + "\n", encoding="ascii")
    return generated


def local_identity(
    config_dir: Path | None = None, *, labels: Mapping[str, str] | None = None
) -> MachineIdentity:
    """Identify this machine: stable id, host name, OS family and version, logical CPUs, and
    the ``labels`` it is given."""
    system = platform.system()
    os_type = _SYSTEM_TO_OS.get(system)
    if os_type is None:
        raise CollectorError(f"unsupported operating system {system!r}")
    return MachineIdentity(
        machine_id=_stable_machine_id(config_dir or Path.home() / ".config" / "procmon"),
        machine_name=socket.gethostname(),
        os_type=os_type,
        os_version=platform.release(),
        labels=dict(labels or {}),
        cpu_count=os.cpu_count(),
    )


def collect_listing(
    identity: MachineIdentity, now: datetime, argv: tuple[str, ...] | None = None
) -> Envelope:
    """Run ``argv`` (default: this OS's listing command) once and wrap its output.

    The envelope's command_type is ``argv`` joined by spaces. Outside Windows the command
    prints times and numbers as the C locale does, since the parsers read English day and
    month names (ps's lstart) and a decimal point; its characters stay in the environment's
    locale (LC_ALL=C would print a UTF-8 command line's other letters as ``?``).

    The envelope is stamped ``now``, or the moment the command ended where that is later:
    processes started after ``now`` (the ps itself) are in the listing, and a start to the
    second (lstart) after the snapshot's moment would make the workers refuse it whole.
    """
    if argv is None:
        argv = default_argv(identity.os_type)
    environment = None
    if identity.os_type != "windows":
        inherited = {name: value for name, value in os.environ.items() if name != "LC_ALL"}
        environment = {**inherited, "LC_TIME": "C", "LC_NUMERIC": "C"}
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            check=True,
            timeout=_COMMAND_TIMEOUT_SECONDS,
            env=environment,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise CollectorError(f"running {' '.join(argv)!r} failed: {exc}") from exc
    ended = datetime.now(now.tzinfo)
    return make_envelope(
        raw_output=result.stdout.decode(
            _OUTPUT_ENCODINGS.get(identity.os_type, "utf-8"), errors="replace"
        ),
        machine_id=identity.machine_id,
        machine_name=identity.machine_name,
        os_type=identity.os_type,
        os_version=identity.os_version,
        command_type=" ".join(argv),
        timestamp=max(now, ended),
        labels=identity.labels,
        cpu_count=identity.cpu_count,
    )


def envelope_from_file(
    path: Path,
    *,
    machine_id: str,
    machine_name: str,
    os_type: str,
    os_version: str,
    command_type: str,
    timestamp: datetime,
) -> Envelope:
    """Wrap a saved listing in an envelope; the file must be UTF-8 text."""
    try:
        raw_output = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CollectorError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CollectorError(f"{path} is not UTF-8 text: {exc}") from exc
    return make_envelope(
        raw_output=raw_output,
        machine_id=machine_id,
        machine_name=machine_name,
        os_type=os_type,
        os_version=os_version,
        command_type=command_type,
        timestamp=timestamp,
    )
