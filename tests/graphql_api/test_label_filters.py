"""The labels conditions of the process and snapshot filters, on real PostgreSQL, over a fleet
the worker's code stored; and the labels and CPU counts the API shows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.graphql_api.conftest import post
from tests.graphql_api.labelled_fleet import SECOND
from tests.graphql_api.test_history import _data

PROCESSES = """query ($filter: ProcessFilter) {
  processes(filter: $filter, first: 100) { totalCount nodes { machineId observedAt } } }"""

SNAPSHOTS = """query ($filter: SnapshotFilter) {
  snapshots(filter: $filter) { totalCount nodes { machineId timestamp labels cpuCount } } }"""


async def _processes_by_machine(
    client: httpx.AsyncClient, *labels: dict[str, Any]
) -> dict[str, int]:
    """How many process rows of each machine the labels conditions select."""
    page = (await _data(client, PROCESSES, filter={"labels": list(labels)}))["processes"]
    counted = Counter(node["machineId"] for node in page["nodes"])
    assert page["totalCount"] == sum(counted.values())
    return dict(counted)


async def test_a_label_equal_to_a_value_selects_the_snapshots_that_said_so(
    labelled: httpx.AsyncClient,
) -> None:
    # web-2 was staging in its first listing: only its second is of the web role.
    assert await _processes_by_machine(labelled, {"name": "role", "equalTo": "web"}) == {
        "web-1": 4,
        "web-2": 2,
    }
    page = (
        await _data(labelled, PROCESSES, filter={"labels": [{"name": "role", "equalTo": "web"}]})
    )["processes"]
    assert {n["observedAt"] for n in page["nodes"] if n["machineId"] == "web-2"} == {
        SECOND.isoformat()
    }


async def test_a_label_in_several_values(labelled: httpx.AsyncClient) -> None:
    selected = await _processes_by_machine(labelled, {"name": "role", "in": ["db", "staging"]})
    assert selected == {"db-1": 4, "web-2": 2}
    assert await _processes_by_machine(labelled, {"name": "role", "in": []}) == {}


async def test_a_label_that_exists_or_does_not(labelled: httpx.AsyncClient) -> None:
    assert await _processes_by_machine(labelled, {"name": "site", "exists": True}) == {
        "web-1": 4,
        "web-2": 4,
        "db-1": 4,
    }
    assert await _processes_by_machine(labelled, {"name": "site", "exists": False}) == {"old-1": 4}
    assert await _processes_by_machine(labelled, {"name": "rack", "exists": True}) == {}


async def test_every_condition_and_operator_given_must_hold(labelled: httpx.AsyncClient) -> None:
    both = [{"name": "role", "equalTo": "web"}, {"name": "site", "equalTo": "eu"}]
    assert await _processes_by_machine(labelled, *both) == {"web-1": 4}
    one_condition = {"name": "role", "in": ["web", "db"], "equalTo": "db", "exists": True}
    assert await _processes_by_machine(labelled, one_condition) == {"db-1": 4}


async def test_labels_combine_with_the_other_fields_and_or_and_not(
    labelled: httpx.AsyncClient,
) -> None:
    either = {
        "or": [
            {"labels": [{"name": "role", "equalTo": "db"}]},
            {"machineId": {"equalTo": "old-1"}},
        ],
        "not": {"processName": {"equalTo": "init"}},
    }
    page = (await _data(labelled, PROCESSES, filter=either))["processes"]
    assert Counter(node["machineId"] for node in page["nodes"]) == {"db-1": 2, "old-1": 2}


async def test_snapshots_filter_by_labels_and_show_them_with_the_cpu_count(
    labelled: httpx.AsyncClient,
) -> None:
    in_us = {"labels": [{"name": "site", "equalTo": "us"}]}
    page = (await _data(labelled, SNAPSHOTS, filter=in_us))["snapshots"]
    assert page["totalCount"] == 2
    assert [(n["machineId"], n["labels"]["role"], n["cpuCount"]) for n in page["nodes"]] == [
        ("web-2", "web", 2),
        ("web-2", "staging", 2),
    ]
    unlabelled = {"labels": [{"name": "role", "exists": False}]}
    nodes = (await _data(labelled, SNAPSHOTS, filter=unlabelled))["snapshots"]["nodes"]
    assert [(n["machineId"], n["labels"], n["cpuCount"]) for n in nodes] == [
        ("old-1", {}, None),
        ("old-1", {}, None),
    ]


async def test_a_machines_labels_are_its_latest_snapshots(labelled: httpx.AsyncClient) -> None:
    query = '{ machines { machineId labels } machine(id: "web-2") { labels } }'
    data = await _data(labelled, query)
    assert {m["machineId"]: m["labels"] for m in data["machines"]} == {
        "db-1": {"role": "db", "site": "eu"},
        "old-1": {},
        "web-1": {"role": "web", "site": "eu"},
        "web-2": {"role": "web", "site": "us"},
    }
    assert data["machine"] == {"labels": {"role": "web", "site": "us"}}


async def test_interval_cpu_of_the_machine_divides_by_its_cpu_count(
    labelled: httpx.AsyncClient,
) -> None:
    query = """{ processes(filter: {processName: {in: ["nginx", "postgres", "cron"]}}) {
        nodes { machineId observedAt intervalCpuPercent intervalCpuPercentOfMachine } } }"""
    nodes = (await _data(labelled, query))["processes"]["nodes"]
    measured = {
        n["machineId"]: (n["intervalCpuPercent"], n["intervalCpuPercentOfMachine"])
        for n in nodes
        if n["observedAt"] == SECOND.isoformat()
    }
    assert measured == {
        "web-1": (pytest.approx(50.0), pytest.approx(12.5)),
        "web-2": (pytest.approx(50.0), pytest.approx(25.0)),
        "db-1": (pytest.approx(100.0), pytest.approx(12.5)),
        # A version 1 envelope says no CPU count: the share of the machine is unknown.
        "old-1": (pytest.approx(10.0), None),
    }
    # First sightings have no interval CPU, and so no share of the machine either.
    first = [n for n in nodes if n["observedAt"] != SECOND.isoformat()]
    assert len(first) == 4
    assert {(n["intervalCpuPercent"], n["intervalCpuPercentOfMachine"]) for n in first} == {
        (None, None)
    }


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"name": "9role", "equalTo": "web"}, "filter.labels[0].name: label name '9role' is not"),
        ({"name": "role"}, "filter.labels[0]: give equalTo, in or exists"),
        ({"name": "role", "equalTo": "w\u0000b"}, "filter.labels[0].equalTo: a label's value"),
        ({"name": "role", "in": ["x"] * 1001}, "filter.labels[0].in: at most 1000 values"),
    ],
)
async def test_a_bad_condition_is_an_error_saying_what_is_wrong(
    labelled: httpx.AsyncClient, condition: dict[str, Any], expected: str
) -> None:
    body = await post(labelled, PROCESSES, filter={"labels": [condition]})
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith(expected), error
