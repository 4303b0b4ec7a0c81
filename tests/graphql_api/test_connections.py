"""Keyset pages: every order walks every row exactly once, in order, NULLs last."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from graphql_api.orders import ProcessOrderBy
from tests.conftest import make_partitions
from tests.graphql_api.conftest import Serve, post

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# Few distinct values with NULLs among them, so that ties and missing values are the rule.
ROWS = 23
SNAPSHOTS = 3

PAGE = """query ($order: ProcessOrderBy!, $after: String, $filter: ProcessFilter) {
  processes(orderBy: $order, first: 4, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { snapshotId pid processName cpuPercent memoryPercent rssBytes
                          cpuTimeSeconds startTime observedAt intervalCpuPercent } }
    pageInfo { hasNextPage endCursor startCursor } } }"""


def _value(n: int) -> dict[str, Any]:
    return {
        "pid": 100 + (n * 7) % 11,
        "process_name": f"prog{n % 4}",
        "cpu_percent": None if n % 5 == 0 else float(n % 3),
        "memory_percent": None if n % 4 == 1 else (n % 2) / 4,
        "rss_bytes": None if n % 6 == 2 else (n % 3) * 2**40,
        "cpu_time_seconds": None if n % 7 == 3 else float(n % 2),
        "start_time": None if n % 3 == 0 else T0 - timedelta(hours=n % 2),
        "interval_cpu_percent": None if n % 4 == 0 else float(n % 3) * 12.5,
    }


@pytest.fixture
def many(clean_database: str) -> str:
    with psycopg.connect(clean_database) as conn:
        make_partitions(conn, T0)
        for s in range(SNAPSHOTS):
            (command_id,) = conn.execute(
                """INSERT INTO commands (machine_id, machine_name, os_type, os_version,
                       command_type, "timestamp", content_hash, schema_version, format,
                       process_count)
                   VALUES ('m', 'm', 'linux', '6', 'ps', %s, %s, 1, 'ps aux', %s)
                   RETURNING id""",
                (T0 + timedelta(minutes=s % 2), f"{s:064x}", ROWS),
            ).fetchone()  # type: ignore[misc]
            for n in range(1, ROWS + 1):
                v = _value(n)
                conn.execute(
                    """INSERT INTO processes (command_id, line_number, machine_id, observed_at,
                           pid, process_name, cpu_percent, memory_percent, rss_bytes,
                           cpu_time_seconds, start_time, interval_cpu_percent)
                       VALUES (%s, %s, 'm', %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                    (command_id, n, T0 + timedelta(minutes=s % 2), v["pid"], v["process_name"],
                     v["cpu_percent"], v["memory_percent"], v["rss_bytes"],
                     v["cpu_time_seconds"], v["start_time"], v["interval_cpu_percent"]),
                )  # fmt: skip
    return clean_database


_FIELDS = {
    "OBSERVED_AT": "observedAt",
    "CPU_PERCENT": "cpuPercent",
    "MEMORY_PERCENT": "memoryPercent",
    "RSS_BYTES": "rssBytes",
    "CPU_TIME_SECONDS": "cpuTimeSeconds",
    "START_TIME": "startTime",
    "PID": "pid",
    "PROCESS_NAME": "processName",
    "INTERVAL_CPU_PERCENT": "intervalCpuPercent",
}


def _expected_order(nodes: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    """The order the API promises, computed here: value (missing last), then the row."""
    if order == "LISTING_ORDER":
        return sorted(nodes, key=lambda n: (int(n["snapshotId"]), n["line"]))
    field, direction = order.rsplit("_", 1)
    name = _FIELDS[field]
    descending = direction == "DESC"
    present = [n for n in nodes if n[name] is not None]
    missing = [n for n in nodes if n[name] is None]

    def key(n: dict[str, Any]) -> tuple[Any, ...]:
        return (n[name], int(n["snapshotId"]), n["line"])

    by_row = sorted(missing, key=lambda n: (int(n["snapshotId"]), n["line"]), reverse=descending)
    return sorted(present, key=key, reverse=descending) + by_row


async def _walk(client: httpx.AsyncClient, order: str, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = await post(client, PAGE, order=order, after=after, **variables)
        assert "errors" not in body, body
        connection = body["data"]["processes"]
        nodes += [edge["node"] for edge in connection["edges"]]
        if connection["edges"]:
            assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
            assert connection["pageInfo"]["startCursor"] == connection["edges"][0]["cursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            assert connection["totalCount"] == len(nodes)
            return nodes
        after = connection["pageInfo"]["endCursor"]


@pytest.mark.parametrize("order", [order.name for order in ProcessOrderBy])
async def test_every_order_walks_every_row_once_in_order(
    many: str, serve: Serve, order: str
) -> None:
    async with serve(many) as client:
        nodes = await _walk(client, order)
    assert len(nodes) == ROWS * SNAPSHOTS
    # The line number is not served; snapshot, pid, name and start identify each row here.
    identities = [(n["snapshotId"], n["pid"], n["processName"], n["startTime"]) for n in nodes]
    assert identities == _expected_order_by_fetch(many, order)


def _expected_order_by_fetch(database_url: str, order: str) -> list[tuple[Any, ...]]:
    """Rows read back plainly, then sorted by the rule in Python."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT command_id, line_number, pid, process_name, cpu_percent, memory_percent,
                      rss_bytes, cpu_time_seconds, start_time, observed_at, interval_cpu_percent
               FROM processes"""
        ).fetchall()
    nodes = [
        {
            "snapshotId": str(r[0]),
            "line": r[1],
            "pid": r[2],
            "processName": r[3],
            "cpuPercent": r[4],
            "memoryPercent": r[5],
            "rssBytes": r[6],
            "cpuTimeSeconds": r[7],
            "startTime": r[8],
            "observedAt": r[9],
            "intervalCpuPercent": r[10],
        }
        for r in rows
    ]
    ordered = _expected_order(nodes, order)
    return [
        (
            n["snapshotId"],
            n["pid"],
            n["processName"],
            None if n["startTime"] is None else n["startTime"].isoformat(),
        )
        for n in ordered
    ]


async def test_a_filtered_walk_counts_only_what_matches(many: str, serve: Serve) -> None:
    async with serve(many) as client:
        nodes = await _walk(client, "CPU_PERCENT_DESC", filter={"cpuPercent": {"isNull": False}})
    assert all(not math.isnan(n["cpuPercent"]) for n in nodes)
    assert [n["cpuPercent"] for n in nodes] == sorted(
        (n["cpuPercent"] for n in nodes), reverse=True
    )
    assert len(nodes) == SNAPSHOTS * sum(1 for n in range(1, ROWS + 1) if n % 5)


async def test_a_cursor_of_another_order_is_refused(many: str, serve: Serve) -> None:
    async with serve(many) as client:
        first = await post(client, PAGE, order="PID_ASC")
        cursor = first["data"]["processes"]["pageInfo"]["endCursor"]
        body = await post(client, PAGE, order="CPU_PERCENT_DESC", after=cursor)
    assert body["errors"][0]["message"] == (
        "processes: 'after' is not a cursor of this list and order; use a pageInfo.endCursor"
    )


async def test_nested_pages_of_many_snapshots_take_one_query(
    many: str, serve: Serve, loader_queries: list[tuple[Any, Any]]
) -> None:
    query = """{ snapshots(machineId: "m") { nodes {
                   processes(first: 2, orderBy: CPU_PERCENT_DESC, filter: {pid: {lessThan: 105}}) {
                     totalCount nodes { pid cpuPercent } pageInfo { hasNextPage } } } } }"""
    async with serve(many) as client:
        body = await post(client, query)
    pages = [node["processes"] for node in body["data"]["snapshots"]["nodes"]]
    assert len(pages) == SNAPSHOTS
    low_pids = sum(1 for n in range(1, ROWS + 1) if 100 + (n * 7) % 11 < 105)
    for page in pages:
        assert page["totalCount"] == low_pids
        assert page["pageInfo"]["hasNextPage"] is (low_pids > 2)
        assert [p["cpuPercent"] for p in page["nodes"]] == [2.0, 2.0]
    # The three snapshots' pages: one statement (the totals are counted apart, when asked).
    assert len(loader_queries) == 1
