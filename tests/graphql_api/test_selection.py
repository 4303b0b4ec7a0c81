"""A page of processes reads the columns its selection asks for and no others, and answers
exactly as when every field is asked: alone, through fragments and edges, under aliases, in a
snapshot's own processes (through the loader) and in the root list; a machine asked with its
newest snapshot comes with it in one statement, and a page of snapshots with its total count."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import graphql_api.budget
from graphql_api.db import fetch_all
from procmon.columns import API_COLUMNS
from tests.graphql_api.conftest import post

_ALL = " ".join(column.graphql_name for column in API_COLUMNS) + " intervalCpuPercentOfMachine"
_ROOT = "{ processes(first: 7) { nodes { %s } } }"
_OF_SNAPSHOTS = "{ snapshots(first: 18) { nodes { processes(first: 4) { nodes { %s } } } } }"


@pytest.fixture
def columns_read(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The columns of the rows each statement of ``processes`` returned, as they ran."""
    read: list[set[str]] = []

    async def recording(pool: Any, query: Any, params: Any) -> Any:
        rows = await fetch_all(pool, query, params)
        if "FROM processes" in str(query) and rows:
            read.append(set(rows[0]))
        return rows

    monkeypatch.setattr(graphql_api.budget, "fetch_all", recording)
    return read


def _nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    data = body["data"]
    if "processes" in data:
        nodes: list[dict[str, Any]] = data["processes"]["nodes"]
        return nodes
    return [n for s in data["snapshots"]["nodes"] for n in s["processes"]["nodes"]]


def _keys(columns: set[str]) -> set[str]:
    return {name for name in columns if name[0] == "k" and name[1:].isdigit()}


@pytest.mark.parametrize("shape", [_ROOT, _OF_SNAPSHOTS], ids=["root", "of-snapshots"])
@pytest.mark.parametrize("column", API_COLUMNS, ids=lambda column: column.graphql_name)
async def test_one_field_reads_its_column_and_answers_as_with_every_field(
    client: httpx.AsyncClient, columns_read: list[set[str]], shape: str, column: Any
) -> None:
    everything = _nodes(await post(client, shape % _ALL))
    columns_read.clear()
    alone = _nodes(await post(client, shape % column.graphql_name))
    assert alone == [{column.graphql_name: node[column.graphql_name]} for node in everything]
    assert len(everything) > 3
    (read,) = columns_read
    # A snapshot's pages are told apart by their snapshot's id.
    expected = {column.name} | ({"command_id"} if shape is _OF_SNAPSHOTS else set())
    assert read - _keys(read) == expected


async def test_fragments_edges_and_a_resolver_read_what_they_name(
    client: httpx.AsyncClient, columns_read: list[set[str]]
) -> None:
    query = """{ processes(first: 5) { totalCount edges { cursor node { __typename ...Who
                   ... on Process { intervalCpuPercentOfMachine } } } } }
               fragment Who on Process { user }"""
    body = await post(client, query)
    everything = _nodes(await post(client, _ROOT.replace("7", "5") % _ALL))
    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["processes"]["edges"]]
    wanted = ("user", "intervalCpuPercentOfMachine")
    assert nodes == [{"__typename": "Process"} | {k: n[k] for k in wanted} for n in everything]
    read = columns_read[0]
    # The machine's CPU count is loaded by the snapshot's id.
    assert read - _keys(read) == {"user", "interval_cpu_percent", "command_id"}


async def test_aliases_of_one_snapshot_page_with_other_fields_each_get_their_own(
    client: httpx.AsyncClient, columns_read: list[set[str]]
) -> None:
    query = """{ snapshots(first: 18) { nodes {
                   a: processes(first: 3) { nodes { pid } }
                   b: processes(first: 3) { nodes { processName } } } } }"""
    body = await post(client, query)
    assert "errors" not in body, body
    read = sorted(sorted(r - _keys(r)) for r in columns_read)
    assert read == [["command_id", "pid"], ["command_id", "process_name"]]
    columns_read.clear()
    both = await post(client, _OF_SNAPSHOTS.replace("4", "3") % "pid processName")
    pages = zip(body["data"]["snapshots"]["nodes"], both["data"]["snapshots"]["nodes"], strict=True)
    asked = 0
    for snapshot, full in pages:
        nodes = full["processes"]["nodes"]
        assert snapshot["a"]["nodes"] == [{"pid": n["pid"]} for n in nodes]
        assert snapshot["b"]["nodes"] == [{"processName": n["processName"]} for n in nodes]
        asked += len(nodes)
    assert asked > 3


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements a request ran (the key check's aside), as they ran."""
    ran: list[str] = []

    async def recording(pool: Any, query: Any, params: Any) -> Any:
        if "api_keys" not in str(query):
            ran.append(str(query))
        return await fetch_all(pool, query, params)

    monkeypatch.setattr(graphql_api.budget, "fetch_all", recording)
    return ran


_SNAPSHOT = "id timestamp processCount labels processes(first: 3) { nodes { pid } }"


async def test_a_machine_and_its_newest_snapshot_come_in_one_statement(
    client: httpx.AsyncClient, statements: list[str]
) -> None:
    machines = (await post(client, "{ machines { machineId } }"))["data"]["machines"]
    machine_id = machines[0]["machineId"]
    newest = await post(
        client,
        "query ($m: String!) { snapshots(machineId: $m, first: 1) { nodes { "
        + _SNAPSHOT
        + " } } }",
        m=machine_id,
    )
    alone = await post(
        client,
        "query ($m: String!) { machine(id: $m) { machineName lastSeen snapshotCount } }",
        m=machine_id,
    )
    statements.clear()
    both = await post(
        client,
        "query ($m: String!) { machine(id: $m) { machineName lastSeen snapshotCount"
        " latestSnapshot { " + _SNAPSHOT + " } } }",
        m=machine_id,
    )
    (snapshot,) = newest["data"]["snapshots"]["nodes"]
    assert both["data"]["machine"] == alone["data"]["machine"] | {"latestSnapshot": snapshot}
    # The machine with its snapshot, then the snapshot's processes.
    assert len(statements) == 2, statements
    statements.clear()
    missing = await post(
        client, '{ machine(id: "no-such-machine") { machineName latestSnapshot { id } } }'
    )
    assert missing == {"data": {"machine": None}}
    assert len(statements) == 1


_SNAPSHOTS_PAGE = """query ($after: String) { snapshots(first: 2, after: $after) {
    totalCount nodes { id } pageInfo { endCursor } } }"""


async def test_a_page_of_snapshots_and_its_total_count_come_in_one_statement(
    client: httpx.AsyncClient, statements: list[str]
) -> None:
    every = await post(client, "{ snapshots(first: 100) { nodes { id } } }")
    ids = [node["id"] for node in every["data"]["snapshots"]["nodes"]]
    assert len(ids) > 4
    after, empty_pages = None, 0
    for start in range(0, len(ids) + 2, 2):
        statements.clear()
        page = (await post(client, _SNAPSHOTS_PAGE, after=after))["data"]["snapshots"]
        assert page["totalCount"] == len(ids)
        assert [node["id"] for node in page["nodes"]] == ids[start : start + 2]
        # Past the end no row carries the count, which then has its own statement.
        assert len(statements) == (1 if page["nodes"] else 2), statements
        after = page["pageInfo"]["endCursor"] or after
        empty_pages += not page["nodes"]
    assert empty_pages >= 1
    statements.clear()
    nodes_only = await post(client, "{ snapshots(first: 2) { nodes { id } } }")
    assert nodes_only["data"]["snapshots"]["nodes"] == [{"id": i} for i in ids[:2]]
    assert "count(*)" not in statements[0]
