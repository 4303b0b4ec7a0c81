"""The machines summary (``machines``, ``machine``, a machine's ``latestSnapshot``) answers from
the machines table the worker keeps, with what grouping every snapshot would say."""

from __future__ import annotations

import re
from typing import Any, LiteralString

import httpx
import psycopg

from graphql_api import sql
from tests.graphql_api.conftest import Fleet, Serve, post
from tests.streams.machines_aggregate import MACHINES_ANSWER, as_answer, fresh_machines


async def test_the_answer_is_the_fresh_aggregate_of_what_the_worker_stored(
    labelled: httpx.AsyncClient, clean_database: str
) -> None:
    expected = as_answer(fresh_machines(clean_database))
    assert len(expected["machines"]) == 4
    assert await post(labelled, MACHINES_ANSWER) == {"data": expected}
    one = await post(
        labelled,
        """{ machine(id: "web-2") { labels snapshotCount latestSnapshot { id } } }""",
    )
    [web_2] = [m for m in expected["machines"] if m["machineId"] == "web-2"]
    assert one == {
        "data": {
            "machine": {
                "labels": {"role": "web", "site": "us"},
                "snapshotCount": 2,
                "latestSnapshot": {"id": web_2["latestSnapshot"]["id"]},
            }
        }
    }


def _relations(database_url: str, query: LiteralString, params: dict[str, Any]) -> set[str]:
    """The tables the plan of ``query`` reads, a partition named as its parent table."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()
    assert row is not None
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            found.add(re.sub(r"_[0-9]{8}$", "", node["Relation Name"]))
        for child in node.get("Plans", []):
            walk(child)

    walk(row[0][0]["Plan"])
    return found


def test_the_summary_reads_no_snapshot(fleet: Fleet, database_url: str) -> None:
    assert _relations(database_url, sql.MACHINES, {}) == {"machines"}
    machines = {"machine_ids": ["z-host-1", "a-host-3"]}
    assert _relations(database_url, sql.MACHINES_BY_IDS, machines) == {"machines"}
    # The latest snapshot is read by the key the table holds, one row a machine.
    assert _relations(database_url, sql.LATEST_SNAPSHOTS, machines) == {"machines", "commands"}


async def test_what_the_table_says_is_the_answer(
    fleet: Fleet, database_url: str, serve: Serve
) -> None:
    """Not a grouping of commands behind the scenes: a row changed by hand shows."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE machines SET snapshot_count = 1000, machine_name = 'changed'"
            " WHERE machine_id = 'z-host-1'"
        )
    async with serve(database_url) as client:
        listed = await post(client, "{ machines { machineId machineName snapshotCount } }")
        one = await post(client, '{ machine(id: "z-host-1") { machineName snapshotCount } }')
    assert listed["data"]["machines"][-1] == {
        "machineId": "z-host-1",
        "machineName": "changed",
        "snapshotCount": 1000,
    }
    assert one == {"data": {"machine": {"machineName": "changed", "snapshotCount": 1000}}}
