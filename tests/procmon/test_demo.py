"""What the demo adds once its services run: its reader key, and history to ask about.

The sample machines' CPU figures below are those procmon/samples/SOURCES.md gives for the
derived listings (seconds used in each minute), not computed by the code.
"""

from __future__ import annotations

import math
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from history import LinkedSnapshot, SnapshotPlace, link_snapshot
from parsers import parse_listing
from procmon.api_keys import list_api_keys, revoke_api_key
from procmon.collector import local_identity
from procmon.database import drop_database
from procmon.demo import demo_key
from procmon.envelope import Envelope
from procmon.samples import SAMPLES, Sample, sample_envelopes
from tests.conftest import drop_redis_keys, fresh_database_url, migrated_database
from tests.e2e.conftest import procmon_up_environment, start_procmon_up
from tests.e2e.harness import wait_for

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
# Seconds of CPU each busy sample process used in the minutes before listings 2 to 5.
BUSY = {
    ("sample-macos", 568): (29.4, 28.1, 30.2, 27.9),  # codesign
    ("sample-freebsd", 557): (6, 7, 5, 6),  # Xorg
    ("sample-windows", 3416): (7.3, 6.8, 8.1, 7.5),  # powershell.exe
    # The System Idle Process: what the busy ones left of two CPUs.
    ("sample-windows", 0): (101.0, 100.7, 100.8, 100.6),
}
# Everything the derived minutes added, per machine (the Windows one: two CPUs, all counted).
TOTAL_CPU_SECONDS = {"sample-macos": 144.28, "sample-freebsd": 46.0, "sample-windows": 480.0}


def test_the_demo_key_is_reused_until_the_database_no_longer_accepts_it(tmp_path: Path) -> None:
    path = tmp_path / "data" / "demo-key"
    with migrated_database("demo_key") as url:
        first = demo_key(url, path)
        assert demo_key(url, path) == first
        assert path.stat().st_mode & 0o777 == 0o600
        assert [key.name for key in list_api_keys(url)] == ["demo"]
        revoke_api_key(url, "demo")
        second = demo_key(url, path)
        assert second != first
        assert path.read_text() == second


def test_each_sample_machine_has_five_listings_a_minute_apart_ending_now() -> None:
    envelopes = sample_envelopes(NOW)
    for sample in SAMPLES:
        times = [e.timestamp for e in envelopes if e.machine_id == sample.machine_id]
        assert times == [NOW - timedelta(minutes=4 - n) for n in range(5)]


def test_the_sample_machines_have_roles_sites_and_cpu_counts() -> None:
    roles = {}
    for envelope in sample_envelopes(NOW):
        assert envelope.schema_version == 2
        assert envelope.labels is not None
        assert set(envelope.labels) == {"role", "site"}
        assert envelope.cpu_count is not None
        roles[envelope.machine_id] = (envelope.labels["role"], envelope.cpu_count)
    # Two roles, so that grouping by one has groups to tell apart; Windows' two CPUs are the
    # ones its System Idle Process fills.
    assert roles == {
        "sample-macos": ("workstation", 4),
        "sample-freebsd": ("workstation", 4),
        "sample-windows": ("domain-controller", 2),
    }


def _linked(envelopes: list[Envelope]) -> list[dict[int, tuple[int, float | None, float | None]]]:
    """Each listing's history by pid, linked in time order."""
    previous: LinkedSnapshot | None = None
    found = []
    for e in envelopes:
        rows = parse_listing(
            e.raw_output, os_type=e.os_type, command=e.command_type, observed_at=e.timestamp
        ).rows
        place = SnapshotPlace(e.machine_id, e.timestamp, e.content_hash)
        values, previous = link_snapshot(place, rows, previous, max_gap_seconds=3600.0)
        found.append({row.pid: value for row, value in zip(rows, values, strict=True)})
    return found


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda sample: sample.machine_id)
def test_a_sample_machine_keeps_its_processes_and_its_busy_ones_use_cpu(sample: Sample) -> None:
    envelopes = [e for e in sample_envelopes(NOW) if e.machine_id == sample.machine_id]
    history = _linked(envelopes)
    # No process starts or exits in the derived listings: every key is the first listing's.
    keys = [{pid: key for pid, (key, _, _) in listing.items()} for listing in history]
    assert all(listing == keys[0] for listing in keys)
    assert all(value[1:] == (None, None) for value in history[0].values())
    for (machine, pid), seconds in BUSY.items():
        if machine == sample.machine_id:
            cpu = [history[n][pid][2] for n in range(1, 5)]
            assert cpu == pytest.approx([100 * used / 60 for used in seconds]), pid
    used = [
        interval * cpu / 100
        for listing in history[1:]
        for _, interval, cpu in listing.values()
        if interval is not None and cpu is not None
    ]
    assert math.fsum(used) == pytest.approx(TOTAL_CPU_SECONDS[sample.machine_id])


@pytest.mark.parametrize("hour", range(24))
def test_the_samples_keep_their_processes_whenever_they_are_published(hour: int) -> None:
    # The macOS sample's STARTED says 10:06AM-10:11AM: published at 10:08 in the machine's
    # own zone, its listings would read those as yesterday's, then today's.
    now = datetime(2026, 12, 2, hour, 8, tzinfo=UTC).astimezone()
    envelopes = sample_envelopes(now)
    assert envelopes[-1].timestamp == now
    for sample in SAMPLES:
        history = _linked([e for e in envelopes if e.machine_id == sample.machine_id])
        keys = [{pid: key for pid, (key, _, _) in listing.items()} for listing in history]
        assert all(listing == keys[0] for listing in keys), sample.machine_id


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """`procmon up` collecting this machine every 2 s: its database, GraphQL URL and key."""
    redis_prefix = f"procmon-demo-{uuid.uuid4().hex[:12]}"
    database_url = fresh_database_url("procmon_demo_test")
    env = procmon_up_environment(
        tmp_path_factory,
        database_url,
        redis_prefix,
        PROCMON_ROLLUP_INTERVAL="1",
        PROCMON_DEMO_COLLECT_INTERVAL="2",
    )
    log_path = tmp_path_factory.mktemp("demo") / "stack.log"
    process, printed, ready = start_procmon_up(env, log_path)
    try:
        assert ready.wait(120), f"`procmon up` printed no key:\n{log_path.read_text()}"
        yield database_url, printed["GraphiQL"], printed["API key"]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        drop_database(database_url)
        drop_redis_keys(redis_prefix)


def _rows(database_url: str, query: str, *args: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, args).fetchall()


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_procmon_up_stores_the_samples_history_and_keeps_collecting_this_machine(
    demo: tuple[str, str, str],
) -> None:
    database_url = demo[0]
    this_machine = local_identity().machine_id
    started = time.monotonic()

    def snapshots(machine_id: str) -> int:
        query = "SELECT count(*) FROM commands WHERE machine_id = %s"
        return int(_rows(database_url, query, machine_id)[0][0])

    wait_for(lambda: all(snapshots(s.machine_id) == 5 for s in SAMPLES), "the samples")
    wait_for(lambda: snapshots(this_machine) >= 3, "three listings of this machine", 60)
    # At most one listing every 2 s, beginning with the one procmon up takes as it starts.
    assert snapshots(this_machine) <= 2 + (time.monotonic() - started) / 2
    measured = _rows(
        database_url,
        "SELECT machine_id, count(*), sum(interval_cpu_percent * interval_seconds / 100)"
        " FROM processes WHERE interval_seconds IS NOT NULL GROUP BY machine_id",
    )
    by_machine = {machine: (int(rows), float(cpu or 0)) for machine, rows, cpu in measured}
    for machine, total in TOTAL_CPU_SECONDS.items():
        assert by_machine[machine][1] == pytest.approx(total, abs=0.05), machine
    # This machine's later listings are linked to its earlier ones, two seconds or so apart.
    assert by_machine[this_machine][0] > 0
    ((shortest, longest),) = _rows(
        database_url,
        "SELECT min(interval_seconds), max(interval_seconds) FROM processes"
        " WHERE machine_id = %s AND interval_seconds IS NOT NULL",
        this_machine,
    )
    assert 1.5 <= shortest <= longest < 30
    lifetimes = _graphql(
        demo,
        """{ processLifetimes(orderBy: CPU_SECONDS_DESC, first: 5) {
               nodes { machineId processName cpuSeconds machine { osType } } } }""",
    )["processLifetimes"]["nodes"]
    # What two CPUs left the System Idle Process (101.0, 100.7, 100.8 and 100.6 s), then
    # codesign (29.4 + 28.1 + 30.2 + 27.9 s): more than anything this machine did meanwhile.
    top = [(n["machineId"], n["processName"], n["cpuSeconds"]) for n in lifetimes[:2]]
    assert top == [
        ("sample-windows", "System Idle Process", pytest.approx(403.1, abs=0.01)),
        ("sample-macos", "codesign", pytest.approx(115.6, abs=0.01)),
    ]
    assert len(lifetimes) == 5
    assert {"windows", "macos", "freebsd"} <= {n["machine"]["osType"] for n in lifetimes}


def _graphql(demo: tuple[str, str, str], query: str) -> dict[str, Any]:
    """The data of QUERY as the demo's API answers it with the demo's key."""
    response = httpx.post(
        demo[1], json={"query": query}, headers={"Authorization": f"Bearer {demo[2]}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data
