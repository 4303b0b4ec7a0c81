"""End to end: `procmon up` with a real broker, worker, PostgreSQL and API over HTTP.

Submits real listings (one twice, as an exact duplicate) and corrupted messages, then asks
GraphQL and the database for exact counts; finally stops the stack as Ctrl-C would and checks
that none of its processes is left.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from procmon.envelope import make_envelope
from procmon.samples import SAMPLES
from tests.conftest import REDIS_URL
from tests.e2e.conftest import RunningStack
from tests.e2e.harness import wait_for

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TOPIC = "procmon.raw-outputs"
DEAD_LETTER_TOPIC = "procmon.dead-letters"
DEADLINE_SECONDS = 90.0


def _submit(stack: RunningStack, fixture: str, machine: str, timestamp: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "procmon",
            "submit",
            str(FIXTURES / fixture),
            "--machine-id",
            machine,
            "--machine-name",
            f"{machine}.lab",
            "--os",
            "linux",
            "--os-version",
            "7.7",
            "--command",
            "ps axu",
            "--timestamp",
            timestamp,
        ],
        env=stack.env,
        check=True,
        capture_output=True,
    )


async def _read_dead_letters(bootstrap: str, count: int) -> list[dict[str, bytes]]:
    """The headers of the first ``count`` messages of the dead-letter topic."""
    consumer = AIOKafkaConsumer(
        DEAD_LETTER_TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, bytes]] = []
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            async for record in consumer:
                found.append(dict(record.headers))
                if len(found) == count:
                    break
    finally:
        await consumer.stop()
    return found


async def _produce_raw(bootstrap: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(TOPIC, value, key=key)
    finally:
        await producer.stop()


def _corrupted_messages() -> list[tuple[bytes, bytes]]:
    valid = make_envelope(
        raw_output="USER PID %CPU\nroot 1 0.0\n",
        machine_id="bad-hash",
        machine_name="bad-hash.lab",
        os_type="linux",
        os_version="",
        command_type="ps aux",
        timestamp=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
    )
    tampered = json.loads(valid.to_bytes())
    tampered["raw_output"] = "USER PID\nroot 666\n"
    unparseable = make_envelope(
        raw_output=(FIXTURES / "linux-centos-7.7" / "ps-axu.out").read_text() + "garbage\n",
        machine_id="bad-output",
        machine_name="bad-output.lab",
        os_type="linux",
        os_version="",
        command_type="ps aux",
        timestamp=valid.timestamp,
    )
    return [
        (b"bad-hash", json.dumps(tampered).encode()),
        (b"garbage", b"\x00\x01 not an envelope"),
        (b"bad-output", unparseable.to_bytes()),
    ]


def _query_db(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.encode()).fetchall()


def test_this_machine_is_listed_by_host_name(stack: RunningStack) -> None:
    def listed() -> bool:
        body = stack.graphql("{ machines { machineId machineName } }")
        return socket.gethostname() in {m["machineName"] for m in body["data"]["machines"]}

    wait_for(listed, "this machine to appear in `machines`")


# One process of each bundled sample, with its memory in bytes read by hand from the file.
SAMPLE_PROCESSES = {
    "sample-macos": (568, "rssBytes", 43136 * 1024),
    "sample-freebsd": (557, "rssBytes", 42296 * 1024),
    "sample-windows": (4, "memoryUsageBytes", 139264),  # System: WorkingSetSize (bytes)
}


def test_the_printed_key_is_required(stack: RunningStack) -> None:
    query = {"query": "{ machines { machineId } }"}
    anonymous = httpx.post(stack.graphql_url, json=query)
    wrong = httpx.post(stack.graphql_url, json=query, headers={"Authorization": "Bearer pmk_x"})
    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.json()["errors"][0]["message"].startswith("missing API key")
    assert wrong.json() == {"errors": [{"message": "invalid or revoked API key"}]}
    assert "errors" not in stack.graphql("{ machines { machineId } }")


def test_the_demo_fleet_spans_operating_systems_in_the_same_units(stack: RunningStack) -> None:
    expected_os = {"linux"} | {sample.os_type for sample in SAMPLES}

    def every_os_listed() -> bool:
        machines = stack.graphql("{ machines { osType } }")["data"]["machines"]
        return {machine["osType"] for machine in machines} >= expected_os

    wait_for(every_os_listed, f"machines of {sorted(expected_os)}")
    assert set(SAMPLE_PROCESSES) == {sample.machine_id for sample in SAMPLES}
    query = """query ($m: String!) {
        snapshots(machineId: $m) { nodes {
          processes(first: 1000) { nodes { pid rssBytes memoryUsageBytes } } } } }"""
    for machine_id, (pid, field, expected) in SAMPLE_PROCESSES.items():
        # Each sample machine sends several listings, a minute apart (procmon/samples).
        snapshots = stack.graphql(query, m=machine_id)["data"]["snapshots"]["nodes"]
        assert snapshots, machine_id
        for snapshot in snapshots:
            by_pid = {process["pid"]: process for process in snapshot["processes"]["nodes"]}
            assert by_pid[pid][field] == expected, machine_id


def test_duplicates_are_stored_once_and_corrupt_messages_dead_lettered(
    stack: RunningStack,
) -> None:
    _submit(stack, "linux-centos-7.7/ps-axu.out", "centos", "2019-11-01T10:00:00+00:00")
    _submit(stack, "linux-ubuntu-18.04/ps-axu.out", "ubuntu", "2019-11-01T10:00:00+00:00")
    _submit(stack, "linux-centos-7.7/ps-axu.out", "centos", "2019-11-01T10:00:00+00:00")
    _submit(stack, "linux-centos-7.7/ps-axu.out", "centos", "2019-11-01T10:05:00+00:00")
    asyncio.run(_produce_raw(stack.bootstrap, _corrupted_messages()))

    wait_for(
        lambda: _query_db(stack.database_url, "SELECT count(*) FROM ingest_errors")[0][0] == 3,
        "three dead letters",
    )
    wait_for(
        lambda: (
            _query_db(
                stack.database_url,
                "SELECT count(*) FROM commands WHERE machine_id IN ('centos', 'ubuntu')",
            )[0][0]
            == 3
        ),
        "three stored snapshots",
    )
    query = """query ($m: String!) {
        snapshots(machineId: $m) { nodes {
          timestamp processCount processes(first: 1000) { totalCount nodes { pid } } } } }"""
    centos = stack.graphql(query, m="centos")["data"]["snapshots"]["nodes"]
    centos_lines = (FIXTURES / "linux-centos-7.7" / "ps-axu.out").read_text().strip().splitlines()
    assert [s["processCount"] for s in centos] == [len(centos_lines) - 1] * 2
    assert all(len(s["processes"]["nodes"]) == len(centos_lines) - 1 for s in centos)
    assert all(s["processes"]["totalCount"] == len(centos_lines) - 1 for s in centos)
    ubuntu = stack.graphql(query, m="ubuntu")["data"]["snapshots"]["nodes"]
    assert len(ubuntu) == 1

    reasons = dict(_query_db(stack.database_url, "SELECT error_class, reason FROM ingest_errors"))
    rows = _query_db(stack.database_url, "SELECT machine_id, reason FROM ingest_errors")
    by_machine = {machine: reason for machine, reason in rows}
    assert "does not match the SHA-256" in by_machine["bad-hash"]
    assert re.search(rf"line {len(centos_lines) + 1}\b.*garbage", by_machine["bad-output"])
    assert "message is not JSON" in by_machine[None]
    assert set(reasons) == {"EnvelopeError", "SnapshotParseError"}

    metrics = httpx.get(stack.metrics_url).text
    assert 'procmon_dead_letters_total{error_class="SnapshotParseError"} 1.0' in metrics
    assert 'procmon_dead_letters_total{error_class="EnvelopeError"} 2.0' in metrics
    stored = re.search(r"^procmon_snapshots_stored_total (\S+)$", metrics, re.MULTILINE)
    assert stored is not None
    assert float(stored.group(1)) >= 3

    generation = redis.Redis.from_url(REDIS_URL).get(f"{stack.redis_prefix}:generation")
    assert generation is not None, "the worker retires cached answers"
    assert int(generation) >= 2

    letters = asyncio.run(_read_dead_letters(stack.bootstrap, 3))
    by_key = {letter.get("procmon-machine-id"): letter for letter in letters}
    assert by_key[b"bad-output"]["procmon-error-class"] == b"SnapshotParseError"
    assert by_key[b"bad-output"]["procmon-line-number"] == str(len(centos_lines) + 1).encode()
    assert b"does not match" in by_key[b"bad-hash"]["procmon-reason"]
    assert by_key[None]["procmon-source-topic"] == TOPIC.encode()


def test_an_ingest_retires_the_cached_answers(stack: RunningStack) -> None:
    query = "{ machines { machineId } }"
    # Asked twice: the answer is in the cache now.
    before = {m["machineId"] for m in stack.graphql(query)["data"]["machines"]}
    assert {m["machineId"] for m in stack.graphql(query)["data"]["machines"]} == before
    assert "newcomer" not in before
    _submit(stack, "linux-ubuntu-18.04/ps-axu.out", "newcomer", "2019-11-02T10:00:00+00:00")

    # The cache's TTL is minutes: only the worker's bump after its batch can show it this soon.
    def listed() -> bool:
        machines = {m["machineId"] for m in stack.graphql(query)["data"]["machines"]}
        return machines == before | {"newcomer"}

    wait_for(listed, "the new machine in a query answered from the cache before", timeout=60)


def test_ctrl_c_leaves_no_process_running(stack: RunningStack) -> None:
    family = psutil.Process(stack.process.pid).children(recursive=True)
    assert len(family) >= 3, f"expected broker, worker and API under `procmon up`: {family}"
    os.killpg(stack.process.pid, signal.SIGINT)
    assert stack.process.wait(30) in (0, 130)
    _gone, alive = psutil.wait_procs(family, timeout=20)
    assert alive == [], f"left running: {alive}"
