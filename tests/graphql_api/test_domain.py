"""The domain questions (machinesRunning, snapshotDiff, processTree) over the test fleet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import psycopg
import pytest

from graphql_api import sql
from tests.graphql_api.conftest import Fleet, post

BEFORE, AFTER = "z-host-1@2024-05-01T10:05:00", "z-host-1@2024-05-01T10:10:00"

MACHINES_RUNNING = """
query ($name: String!, $from: DateTime!, $to: DateTime!) {
  machinesRunning(processName: $name, from: $from, to: $to) {
    machineId firstSeen lastSeen snapshotCount maxCpuPercent machine { machineName osType }
  }
}"""


async def test_machines_running_a_program_in_a_range(client: httpx.AsyncClient) -> None:
    day = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}
    body = await post(client, MACHINES_RUNNING, name="systemd", **day)
    assert body == {
        "data": {
            "machinesRunning": [
                {
                    "machineId": "z-host-1",
                    "firstSeen": "2024-05-01T10:05:00+00:00",
                    "lastSeen": "2024-05-01T10:10:00+00:00",
                    "snapshotCount": 2,
                    "maxCpuPercent": 0.5,
                    "machine": {"machineName": "alpha", "osType": "linux"},
                }
            ]
        }
    }


@pytest.mark.parametrize(
    ("name", "bounds"),
    [
        pytest.param("nginx", ("2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"), id="not-run"),
        pytest.param("systemd", ("2024-05-01T10:10:01Z", "2024-05-02T00:00:00Z"), id="after"),
        pytest.param("systemd", ("2024-05-01T00:00:00Z", "2024-05-01T10:05:00Z"), id="to-open"),
        pytest.param("SYSTEMD", ("2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"), id="exact"),
    ],
)
async def test_machines_running_nothing_outside_the_range_or_name(
    client: httpx.AsyncClient, name: str, bounds: tuple[str, str]
) -> None:
    body = await post(client, MACHINES_RUNNING, name=name, **{"from": bounds[0], "to": bounds[1]})
    assert body == {"data": {"machinesRunning": []}}


async def test_machines_running_refuses_a_backward_range(client: httpx.AsyncClient) -> None:
    body = await post(
        client,
        MACHINES_RUNNING,
        name="x",
        **{"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
    )
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("machinesRunning: 'from' must be before 'to'")


DIFF = """
query ($a: ID!, $b: ID!) {
  snapshotDiff(before: $a, after: $b) {
    before { timestamp } after { timestamp }
    started { pid } stopped { pid processName }
    changed { before { pid cpuPercent } after { pid cpuPercent } changedFields }
  }
}"""


async def test_snapshot_diff_matches_processes_by_pid_start_and_name(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    body = await post(client, DIFF, a=str(fleet[BEFORE]), b=str(fleet[AFTER]))
    assert body == {
        "data": {
            "snapshotDiff": {
                "before": {"timestamp": "2024-05-01T10:05:00+00:00"},
                "after": {"timestamp": "2024-05-01T10:10:00+00:00"},
                "started": [],
                "stopped": [
                    {"pid": 7, "processName": "kworker/0:1"},
                    {"pid": 4242, "processName": "postgres"},
                ],
                "changed": [
                    {
                        "before": {"pid": 1, "cpuPercent": 0.5},
                        "after": {"pid": 1, "cpuPercent": 0.0},
                        "changedFields": ["cpuPercent"],
                    }
                ],
            }
        }
    }


async def test_snapshot_diff_reversed_turns_stopped_into_started(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    body = await post(client, DIFF, a=str(fleet[AFTER]), b=str(fleet[BEFORE]))
    diff = body["data"]["snapshotDiff"]
    assert diff["started"] == [{"pid": 7}, {"pid": 4242}]
    assert diff["stopped"] == []


async def test_a_reused_pid_is_a_new_process(
    client: httpx.AsyncClient, fleet: Fleet, database_url: str
) -> None:
    # Same pid, another start time: the old process stopped and a new one started.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE processes SET start_time = start_time + interval '1 hour'"
            " WHERE command_id = %s AND pid = 1",
            (fleet[AFTER],),
        )
    body = await post(client, DIFF, a=str(fleet[BEFORE]), b=str(fleet[AFTER]))
    diff = body["data"]["snapshotDiff"]
    assert diff["started"] == [{"pid": 1}]
    assert [p["pid"] for p in diff["stopped"]] == [1, 7, 4242]
    assert diff["changed"] == []


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        pytest.param(
            (BEFORE, "b-host-2@2024-05-01T09:00:00"),
            "snapshotDiff: both snapshots must be of one machine; got 'z-host-1' and 'b-host-2'",
            id="two-machines",
        ),
        pytest.param((BEFORE, None), "snapshotDiff: no snapshot has id '999999'", id="unknown"),
    ],
)
async def test_snapshot_diff_refusals(
    client: httpx.AsyncClient, fleet: Fleet, pair: tuple[str, str | None], message: str
) -> None:
    second = "999999" if pair[1] is None else str(fleet[pair[1]])
    body = await post(client, DIFF, a=str(fleet[pair[0]]), b=second)
    assert body["data"] is None
    assert body["errors"][0]["message"] == message


TREE = """
query ($id: ID!) {
  processTree(snapshotId: $id) { process { pid } depth parentPid childPids }
}"""


async def test_process_tree_is_depth_first_by_pid(client: httpx.AsyncClient, fleet: Fleet) -> None:
    body = await post(client, TREE, id=str(fleet[BEFORE]))
    # pid 1's parent (0) is not in the listing and pid 7 has no ppid: both are roots.
    assert body == {
        "data": {
            "processTree": [
                {"process": {"pid": 1}, "depth": 0, "parentPid": None, "childPids": [4242]},
                {"process": {"pid": 4242}, "depth": 1, "parentPid": 1, "childPids": []},
                {"process": {"pid": 7}, "depth": 0, "parentPid": None, "childPids": []},
            ]
        }
    }


async def test_process_tree_survives_a_ppid_cycle(
    client: httpx.AsyncClient, fleet: Fleet, database_url: str
) -> None:
    # A broken listing: 1 -> 4242 -> 1. Every process is still listed exactly once.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE processes SET ppid = 4242 WHERE command_id = %s AND pid = 1", (fleet[BEFORE],)
        )
    body = await post(client, TREE, id=str(fleet[BEFORE]))
    nodes = body["data"]["processTree"]
    assert sorted(node["process"]["pid"] for node in nodes) == [1, 7, 4242]
    assert nodes[0] == {"process": {"pid": 7}, "depth": 0, "parentPid": None, "childPids": []}
    assert [node["depth"] for node in nodes[1:]] == [0, 1]


async def test_machine_by_id_with_its_latest_snapshot(client: httpx.AsyncClient) -> None:
    query = """{ machine(id: "b-host-2") { machineName snapshotCount firstSeen
                   latestSnapshot { timestamp osType } }
                 none: machine(id: "nope") { machineId } }"""
    body = await post(client, query)
    assert body == {
        "data": {
            "machine": {
                "machineName": "beta",
                "snapshotCount": 2,
                "firstSeen": "2024-05-01T09:00:00+00:00",
                "latestSnapshot": {"timestamp": "2024-05-02T09:00:00+00:00", "osType": "windows"},
            },
            "none": None,
        }
    }


async def test_nested_machines_and_latest_snapshots_take_one_query_each(
    client: httpx.AsyncClient, loader_queries: list[tuple[str, Mapping[str, Any]]]
) -> None:
    query = """{ machines { latestSnapshot { machineId timestamp } }
                 machinesRunning(processName: "systemd", from: "2024-05-01T00:00:00Z",
                                 to: "2024-05-02T00:00:00Z") { machine { machineName } } }"""
    body = await post(client, query)
    assert [m["latestSnapshot"]["machineId"] for m in body["data"]["machines"]] == [
        "z-host-1",
        "a-host-3",
        "b-host-2",
    ]
    assert body["data"]["machinesRunning"] == [{"machine": {"machineName": "alpha"}}]
    assert sorted(query for query, _ in loader_queries) == sorted(
        [sql.LATEST_SNAPSHOTS, sql.MACHINES_BY_IDS]
    )
