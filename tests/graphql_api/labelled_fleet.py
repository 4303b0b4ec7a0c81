"""A small fleet with labels and CPU counts, stored by the worker's own code: the envelopes
decoded, parsed and written (process history linked) as a worker stores what it consumes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from procmon.envelope import make_envelope
from streams.batch import RawMessage, prepare_batch
from streams.writer import SnapshotWriter

__all__ = ["FIRST", "SECOND", "store_labelled_fleet"]

FIRST = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 28, 12, 1, tzinfo=UTC)
_HEADER = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND"

# machine, its program and that program's CPU time (ps aux's TIME) in each listing, and the
# labels and CPU count of each listing (none: an envelope of version 1). A minute apart, so
# that the program's intervalCpuPercent is 100 x its CPU seconds / 60: web-1's nginx 50, on 4
# CPUs 12.5 of the machine; web-2's 50, on 2 CPUs 25; db-1's postgres 100, on 8 CPUs 12.5;
# old-1's cron 10 (no CPU count). web-2 was staging until its second listing.
_MACHINES: list[tuple[str, str, tuple[str, str], list[dict[str, Any]]]] = [
    ("web-1", "nginx", ("1:00", "1:30"), [
        {"labels": {"role": "web", "site": "eu"}, "cpu_count": 4},
        {"labels": {"role": "web", "site": "eu"}, "cpu_count": 4},
    ]),
    ("web-2", "nginx", ("2:00", "2:30"), [
        {"labels": {"role": "staging", "site": "us"}, "cpu_count": 2},
        {"labels": {"role": "web", "site": "us"}, "cpu_count": 2},
    ]),
    ("db-1", "postgres", ("10:00", "11:00"), [
        {"labels": {"role": "db", "site": "eu"}, "cpu_count": 8},
        {"labels": {"role": "db", "site": "eu"}, "cpu_count": 8},
    ]),
    ("old-1", "cron", ("0:01", "0:07"), [{}, {}]),
]  # fmt: skip


def _message(
    machine: str, program: str, cpu_time: str, when: datetime, offset: int, **version_2: Any
) -> RawMessage:
    raw = (
        f"{_HEADER}\nroot 1 0.0 0.1 1024 512 ? Ss 10:00 0:01 /sbin/init\n"
        f"www 200 50.0 1.0 2048 1024 ? S 10:00 {cpu_time} {program}\n"
    )
    envelope = make_envelope(
        raw_output=raw,
        machine_id=machine,
        machine_name=f"{machine}.example",
        os_type="linux",
        os_version="6.1",
        command_type="ps aux",
        timestamp=when,
        **version_2,
    )
    return RawMessage("procmon.raw-outputs", 0, offset, machine.encode(), envelope.to_bytes())


async def store_labelled_fleet(database_url: str, parking_dir: Path) -> None:
    """Store the fleet's first listings, then its second ones, each a batch of the worker's."""
    writer = SnapshotWriter(database_url, retry_attempts=1, parking_dir=parking_dir)
    try:
        for index, when in enumerate((FIRST, SECOND)):
            messages = [
                _message(machine, program, times[index], when, offset, **listings[index])
                for offset, (machine, program, times, listings) in enumerate(_MACHINES)
            ]
            batch = prepare_batch(messages)
            assert batch.dead_letters == [], batch.dead_letters
            await writer.write(batch)
    finally:
        await writer.close()
