"""GraphQL queries through the real app over HTTP, against rows inserted in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from graphql_api import sql
from tests.conftest import make_partitions
from tests.graphql_api.conftest import BIG_RSS, BIG_VSZ, Fleet, Serve, post


async def test_machines_are_summarized_from_their_latest_snapshot(
    client: httpx.AsyncClient,
) -> None:
    body = await post(
        client,
        """{ machines { machineId machineName osType osVersion firstSeen lastSeen
                        snapshotCount } }""",
    )
    assert body == {
        "data": {
            "machines": [
                {
                    "machineId": "z-host-1",
                    "machineName": "alpha",
                    "osType": "linux",
                    "osVersion": "6.1",
                    "firstSeen": "2024-05-01T10:00:00+00:00",
                    "lastSeen": "2024-05-01T10:10:00+00:00",
                    "snapshotCount": 3,
                },
                {
                    "machineId": "a-host-3",
                    "machineName": "beta",
                    "osType": "macos",
                    "osVersion": "14.4",
                    "firstSeen": "2024-05-01T12:00:00+00:00",
                    "lastSeen": "2024-05-01T12:00:00+00:00",
                    "snapshotCount": 1,
                },
                {
                    "machineId": "b-host-2",
                    "machineName": "beta",
                    "osType": "windows",
                    "osVersion": "10.0.19045",
                    "firstSeen": "2024-05-01T09:00:00+00:00",
                    "lastSeen": "2024-05-02T09:00:00+00:00",
                    "snapshotCount": 2,
                },
            ]
        }
    }


SNAPSHOTS_IN_RANGE = """
query ($m: String!, $from: DateTime, $to: DateTime, $first: Int) {
  snapshots(machineId: $m, from: $from, to: $to, first: $first) { nodes { timestamp } }
}"""


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        pytest.param({}, ["10:10", "10:05", "10:00"], id="unbounded-newest-first"),
        pytest.param(
            {"from": "2024-05-01T10:05:00Z", "to": "2024-05-01T10:10:00Z"},
            ["10:05"],
            id="from-inclusive-to-exclusive",
        ),
        pytest.param({"from": "2024-05-01T10:05:00Z"}, ["10:10", "10:05"], id="from-only"),
        pytest.param({"to": "2024-05-01T10:05:00Z"}, ["10:00"], id="to-only"),
        pytest.param(
            {"from": "2024-05-01T12:05:00+02:00", "to": "2024-05-01T12:10:00.000001+02:00"},
            ["10:10", "10:05"],
            id="offsets-honoured",
        ),
        pytest.param({"first": 2}, ["10:10", "10:05"], id="first-keeps-newest"),
        pytest.param({"m": "no-such-machine"}, [], id="unknown-machine"),
    ],
)
async def test_snapshots_of_a_machine_in_a_time_range(
    client: httpx.AsyncClient, bounds: dict[str, Any], expected: list[str]
) -> None:
    variables = {"m": "z-host-1", **bounds}
    body = await post(client, SNAPSHOTS_IN_RANGE, **variables)
    nodes = [{"timestamp": f"2024-05-01T{t}:00+00:00"} for t in expected]
    assert body == {"data": {"snapshots": {"nodes": nodes}}}


async def test_snapshot_pages_are_capped_and_walk_every_snapshot_once(
    clean_database: str, serve: Serve
) -> None:
    count = 1005
    with psycopg.connect(clean_database) as conn:
        make_partitions(conn, datetime(2024, 1, 1, tzinfo=UTC))
        conn.execute(
            """INSERT INTO commands (machine_id, machine_name, os_type, os_version, command_type,
                   "timestamp", content_hash, schema_version, format, process_count)
               SELECT 'busy', 'busy', 'linux', '6.1', 'ps-axu',
                      '2024-01-01T00:00:00Z'::timestamptz + (n / 2) * interval '1 minute',
                      encode(sha256(n::text::bytea), 'hex'), 1, 'ps aux', 0
               FROM generate_series(1, %s) AS n""",
            (count,),
        )
    page = """query ($after: String, $first: Int) {
      snapshots(machineId: "busy", first: $first, after: $after) {
        totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    async with serve(clean_database) as client:
        too_many = await post(client, page, first=1001)
        default = await post(client, page)
        seen: list[str] = []
        after = None
        while True:
            body = (await post(client, page, first=400, after=after))["data"]["snapshots"]
            seen += [node["id"] for node in body["nodes"]]
            assert body["pageInfo"]["hasPreviousPage"] is (after is not None)
            if not body["pageInfo"]["hasNextPage"]:
                break
            after = body["pageInfo"]["endCursor"]
    assert (
        too_many["errors"][0]["message"] == "snapshots: first must be between 1 and 1000, got 1001"
    )
    assert len(default["data"]["snapshots"]["nodes"]) == 100
    assert default["data"]["snapshots"]["totalCount"] == count
    # Two snapshots share each minute: the id breaks the tie, so none is skipped or repeated.
    assert len(seen) == len(set(seen)) == count


SNAPSHOT_WITH_PROCESSES = """
query ($id: ID!, $first: Int) {
  snapshot(id: $id) {
    id machineId machineName osType osVersion commandType timestamp contentHash processCount
    receivedAt
    processes(first: $first) { nodes {
      pid ppid user processName commandLine cpuPercent memoryPercent rssBytes vszBytes status
      statusRaw startTime cpuTimeSeconds tty threads nice priority observedAt machineId
      snapshotId
    } }
  }
}"""


async def test_snapshot_has_its_processes_in_listing_order(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    snapshot_id = str(fleet["z-host-1@2024-05-01T10:05:00"])
    body = await post(client, SNAPSHOT_WITH_PROCESSES, id=snapshot_id)
    snapshot = body["data"]["snapshot"]
    processes = snapshot.pop("processes")["nodes"]
    assert snapshot == {
        "id": snapshot_id,
        "machineId": "z-host-1",
        "machineName": "alpha",
        "osType": "linux",
        "osVersion": "6.1",
        "commandType": "ps-axu",
        "timestamp": "2024-05-01T10:05:00+00:00",
        "contentHash": snapshot["contentHash"],
        "processCount": 3,
        "receivedAt": "2024-06-01T00:00:00+00:00",
    }
    assert len(snapshot["contentHash"]) == 64
    seen = {"observedAt": "2024-05-01T10:05:00+00:00", "machineId": "z-host-1"}
    assert processes == [
        {
            "pid": 1, "ppid": 0, "user": "root", "processName": "systemd",
            "commandLine": "/sbin/init splash", "cpuPercent": 0.5, "memoryPercent": 0.25,
            "rssBytes": 12_345_678, "vszBytes": 170_000_000, "status": "sleeping",
            "statusRaw": "Ss", "startTime": "2024-04-30T08:00:00+00:00", "cpuTimeSeconds": 12.5,
            "tty": None, "threads": 1, "nice": 0, "priority": 20, **seen,
            "snapshotId": snapshot_id,
        },
        {
            "pid": 4242, "ppid": 1, "user": "postgres", "processName": "postgres",
            "commandLine": "postgres -D /var/lib/pg", "cpuPercent": 150.5,
            "memoryPercent": 61.75, "rssBytes": BIG_RSS, "vszBytes": BIG_VSZ,
            "status": "running", "statusRaw": "R", "startTime": "2024-05-01T09:59:30+00:00",
            "cpuTimeSeconds": 3600.25, "tty": "pts/0", "threads": 12, "nice": -5,
            "priority": 15, **seen, "snapshotId": snapshot_id,
        },
        {
            "pid": 7, "ppid": None, "user": None, "processName": "kworker/0:1",
            "commandLine": None, "cpuPercent": None, "memoryPercent": None, "rssBytes": None,
            "vszBytes": None, "status": None, "statusRaw": None, "startTime": None,
            "cpuTimeSeconds": None, "tty": None, "threads": None, "nice": None,
            "priority": None, **seen, "snapshotId": snapshot_id,
        },
    ]  # fmt: skip


async def test_processes_limit_keeps_the_first_lines(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    query = "query ($id: ID!) { snapshot(id: $id) { processes(first: 2) { nodes { pid } } } }"
    body = await post(client, query, id=str(fleet["z-host-1@2024-05-01T10:05:00"]))
    assert body == {"data": {"snapshot": {"processes": {"nodes": [{"pid": 1}, {"pid": 4242}]}}}}


async def test_unknown_snapshot_is_null(client: httpx.AsyncClient) -> None:
    body = await post(client, '{ snapshot(id: "999999") { id } }')
    assert body == {"data": {"snapshot": None}}


async def test_processes_of_many_snapshots_take_one_query(
    client: httpx.AsyncClient, loader_queries: list[tuple[str, Mapping[str, Any]]]
) -> None:
    query = """{ snapshots(machineId: "z-host-1") {
                   nodes { timestamp processes { nodes { pid cpuTimeSeconds } } } } }"""
    body = await post(client, query)
    pages = [
        (snapshot["timestamp"][11:16], snapshot["processes"]["nodes"])
        for snapshot in body["data"]["snapshots"]["nodes"]
    ]
    assert pages == [
        ("10:10", [{"pid": 1, "cpuTimeSeconds": 12.75}]),
        (
            "10:05",
            [
                {"pid": 1, "cpuTimeSeconds": 12.5},
                {"pid": 4242, "cpuTimeSeconds": 3600.25},
                {"pid": 7, "cpuTimeSeconds": None},
            ],
        ),
        ("10:00", []),
    ]
    assert len(loader_queries) == 1, loader_queries


async def test_raw_output_is_read_only_when_asked(
    client: httpx.AsyncClient, fleet: Fleet, loader_queries: list[tuple[str, Mapping[str, Any]]]
) -> None:
    without = await post(client, '{ snapshots(machineId: "z-host-1") { nodes { id } } }')
    assert loader_queries == []
    query = '{ snapshots(machineId: "z-host-1") { nodes { timestamp rawOutput } } }'
    body = await post(client, query)
    assert [n["rawOutput"] for n in body["data"]["snapshots"]["nodes"]] == [
        "raw z-host-1@2024-05-01T10:10:00",
        "raw z-host-1@2024-05-01T10:05:00",
        "raw z-host-1@2024-05-01T10:00:00",
    ]
    # Three snapshots' listings: their sizes, then their text, one statement each.
    assert [q for q, _ in loader_queries] == [sql.RAW_OUTPUT_SIZES, sql.RAW_OUTPUTS]
    assert len(without["data"]["snapshots"]["nodes"]) == 3


async def test_a_listing_whose_text_retention_removed_reads_as_null(
    clean_database: str, serve: Serve
) -> None:
    kept, gone = datetime(2024, 5, 2, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)
    with psycopg.connect(clean_database) as conn:
        make_partitions(conn, kept, gone)
        for when, digest in ((kept, "a"), (gone, "b")):
            conn.execute(
                """WITH snapshot AS (
                     INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                         command_type, "timestamp", content_hash, schema_version, format,
                         process_count)
                     VALUES ('m', 'm', 'linux', '6.1', 'ps', %s, repeat(%s, 64), 1, 'ps', 0)
                     RETURNING id, "timestamp")
                   INSERT INTO raw_outputs SELECT id, "timestamp", 'listing' FROM snapshot""",
                (when, digest),
            )
        # What retention does to the texts of a day past PROCMON_RAW_OUTPUT_RETENTION_DAYS.
        conn.execute(f"DROP TABLE raw_outputs_{gone:%Y%m%d}")
    query = '{ snapshots(machineId: "m") { nodes { timestamp rawOutput } } }'
    async with serve(clean_database) as client:
        body = await post(client, query)
    assert body == {"data": {"snapshots": {"nodes": [
        {"timestamp": "2024-05-02T00:00:00+00:00", "rawOutput": "listing"},
        {"timestamp": "2024-05-01T00:00:00+00:00", "rawOutput": None},
    ]}}}  # fmt: skip
