"""Listings of other kinds of machines that `procmon up` submits, so a newcomer sees a mixed fleet.

Each machine has several consecutive listings a minute apart, so that it has process history to
ask about: the first is a real output, the later ones are derived from it by advancing the CPU
times of its busy processes (see SOURCES.md beside them); the machines are made up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources

from procmon.envelope import Envelope, make_envelope

__all__ = ["LISTING_SPACING", "SAMPLES", "Sample", "sample_envelopes"]

LISTING_SPACING = timedelta(minutes=1)
# The sample machines' clocks show the afternoon, whenever they are published: the macOS
# listing's STARTED column holds this morning's times (10:06AM to 10:11AM), which a listing
# taken before 10:11 would read as yesterday's, and a sequence published across that time as
# two processes. What the offset is does not matter: these machines are made up.
_SAMPLE_HOUR = 17


def _afternoon(now: datetime) -> datetime:
    """``now`` in a UTC offset where it is between 17:00 and 18:00."""
    hours = (_SAMPLE_HOUR - now.astimezone(UTC).hour + 12) % 24 - 12
    return now.astimezone(timezone(timedelta(hours=hours)))


"""The time between two consecutive listings of a sample machine."""


@dataclass(frozen=True, slots=True)
class Sample:
    """A bundled sequence of listings and the machine it is presented as: what it is for (its
    labels) and its logical CPUs among that."""

    files: tuple[str, ...]
    machine_id: str
    machine_name: str
    os_type: str
    os_version: str
    command_type: str
    labels: Mapping[str, str]
    cpu_count: int


def _sequence(stem: str) -> tuple[str, ...]:
    return tuple(f"{stem}-{n}.out" for n in range(1, 6))


# Two desktops and a server, at two sites. The CPU counts are what the listings show (top's
# C column runs 0 to 3; the System Idle Process takes what is left of two CPUs), and for the
# Mac, whose ps aux does not say, made up as the machines are.
SAMPLES: tuple[Sample, ...] = (
    Sample(
        _sequence("macos-ps-aux"),
        "sample-macos",
        "sample-macbook",
        "macos",
        "10.11.6",
        "ps aux",
        labels={"role": "workstation", "site": "berlin"},
        cpu_count=4,
    ),
    Sample(
        _sequence("freebsd-top"),
        "sample-freebsd",
        "sample-bsd-box",
        "freebsd",
        "",
        "top",
        labels={"role": "workstation", "site": "lisbon"},
        cpu_count=4,
    ),
    Sample(
        _sequence("windows-wmi-process"),
        "sample-windows",
        "sample-dc",
        "windows",
        "6.3.9600",
        "Get-WmiObject -Class Win32_Process",
        labels={"role": "domain-controller", "site": "berlin"},
        cpu_count=2,
    ),
)


def sample_envelopes(now: datetime) -> list[Envelope]:
    """Envelopes of every bundled listing, each machine's a minute apart, its last taken NOW
    (stamped in a UTC offset of the afternoon, see ``_SAMPLE_HOUR``)."""
    folder = resources.files(__name__)
    now = _afternoon(now)
    return [
        make_envelope(
            raw_output=folder.joinpath(file).read_text(encoding="utf-8"),
            machine_id=sample.machine_id,
            machine_name=sample.machine_name,
            os_type=sample.os_type,
            os_version=sample.os_version,
            command_type=sample.command_type,
            timestamp=now - (len(sample.files) - 1 - n) * LISTING_SPACING,
            labels=sample.labels,
            cpu_count=sample.cpu_count,
        )
        for sample in SAMPLES
        for n, file in enumerate(sample.files)
    ]
