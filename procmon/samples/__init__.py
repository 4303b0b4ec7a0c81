"""Listings of other kinds of machines that `procmon up` submits, so a newcomer sees a mixed fleet.

The files are real outputs (see SOURCES.md beside them); the machines are made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from procmon.envelope import Envelope, make_envelope

__all__ = ["SAMPLES", "Sample", "sample_envelopes"]


@dataclass(frozen=True, slots=True)
class Sample:
    """A bundled listing and the machine it is presented as."""

    file: str
    machine_id: str
    machine_name: str
    os_type: str
    os_version: str
    command_type: str


SAMPLES: tuple[Sample, ...] = (
    Sample("macos-ps-aux.out", "sample-macos", "sample-macbook", "macos", "10.11.6", "ps aux"),
    Sample("freebsd-top.out", "sample-freebsd", "sample-bsd-box", "freebsd", "", "top"),
    Sample("windows-tasklist-fr.out", "sample-windows", "sample-pc", "windows", "10", "tasklist"),
)


def sample_envelopes(timestamp: datetime) -> list[Envelope]:
    """Envelopes of every bundled sample, as if each machine had just taken its listing."""
    folder = resources.files(__name__)
    return [
        make_envelope(
            raw_output=folder.joinpath(sample.file).read_text(encoding="utf-8"),
            machine_id=sample.machine_id,
            machine_name=sample.machine_name,
            os_type=sample.os_type,
            os_version=sample.os_version,
            command_type=sample.command_type,
            timestamp=timestamp,
        )
        for sample in SAMPLES
    ]
