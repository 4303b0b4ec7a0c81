"""The benchmark's questions over a fleet of twelve days in daily partitions: every statement
the API runs for one reads the partitions of the question's time range and no others.

The statements are the API's own, recorded as it runs them, then run again under ``EXPLAIN
(ANALYZE)``: a partition counts as read when its scan ran at least once, so that partitions
removed as the statement ran (a snapshot's rows looked up by its timestamp) count as not read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql as psql

import graphql_api.budget
from benchmarks.api import QUESTIONS, fleet_variables
from benchmarks.api_fleet import FLEET_END, Fleet, load_fleet
from graphql_api.db import fetch_all
from streams.sql import STATS_ROLLUPS
from tests.conftest import migrated_database
from tests.graphql_api.conftest import Serve, post

# Twelve days of a snapshot every 20 minutes: the week of question (c) leaves days out.
_SNAPSHOTS = 12 * 72
Statement = tuple[Any, Any]


@pytest.fixture(scope="module")
def fleet_database() -> Iterator[tuple[str, Fleet]]:
    with migrated_database("procmon_pruning") as url:
        yield url, load_fleet(url, machines=6, snapshots=_SNAPSHOTS, processes=6)


def _window(key: str, variables: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The time range question ``key`` is about: (a) the probe machine's latest snapshot."""
    starts = {"a": FLEET_END.isoformat(), "b": variables["dayFrom"], "c": variables["weekFrom"]}
    starts |= {"d": variables["dayFrom"], "e": variables["hourFrom"]}
    starts |= {"f": variables["weekDaysFrom"], "g": variables["lastDayFrom"]}
    starts |= {"h": variables["weekFrom"]}
    end = variables["daysTo"] if key[0] in "fg" else variables["to"]
    # The lifetimes' range ends at a midnight, which is no day of theirs.
    stop = datetime.fromisoformat(end) - timedelta(microseconds=1 if key[0] in "fg" else 0)
    return datetime.fromisoformat(starts[key[0]]), stop


def _days(start: datetime, end: datetime) -> set[date]:
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _scanned(plan: Mapping[str, Any], into: set[str]) -> None:
    """The relations of every scan in ``plan`` that ran at least once."""
    if "Relation Name" in plan and plan.get("Actual Loops", 0) > 0:
        into.add(str(plan["Relation Name"]))
    for child in plan.get("Plans", []):
        _scanned(child, into)


def _partitions_read(database_url: str, statements: list[Statement]) -> set[str]:
    read: set[str] = set()
    with psycopg.connect(database_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        for query, params in statements:
            body = query if isinstance(query, psql.Composable) else psql.SQL(query)
            explain = psql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + body
            row = conn.execute(explain, params).fetchone()
            assert row is not None
            _scanned(row[0][0]["Plan"], read)
    return read


def _all_partitions(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT partition_name FROM procmon_partitions").fetchall()
    return {str(row[0]) for row in rows}


# Question (i) asks of all time: every partition is in its range.
RANGED = [question for question in QUESTIONS if not question.key.startswith("i")]


@pytest.mark.parametrize("question", RANGED, ids=lambda question: question.key)
async def test_each_question_reads_only_the_partitions_of_its_range(
    question: Any,
    fleet_database: tuple[str, Fleet],
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, fleet = fleet_database
    variables = fleet_variables(fleet)
    statements: list[Statement] = []
    run = fetch_all

    async def recording(pool: Any, query: Any, params: Any) -> Any:
        statements.append((query, params))
        return await run(pool, query, params)

    monkeypatch.setattr(graphql_api.budget, "fetch_all", recording)

    async with serve(url) as client:
        body = await post(client, question.query, **variables)
    assert "errors" not in body, body
    monkeypatch.undo()
    # The key check reads api_keys. The summary of a machine (question (a) asks for one) reads
    # the machines table, no partition, so it is held to the rule as well.
    asked = [s for s in statements if "api_keys" not in str(s[0])]
    assert asked, "the question ran no statement"
    scanned = await asyncio.to_thread(_partitions_read, url, asked)
    read = {name for name in scanned if name[-8:].isdigit()}
    start, end = _window(question.key, variables)
    allowed = {
        f"{table}_{day:%Y%m%d}"
        for table in ("commands", "processes", "process_days", *(r[0] for r in STATS_ROLLUPS))
        for day in _days(start, end)
    }
    if question.key.startswith("a"):
        # A machine's latest snapshot is found walking its partitions newest first, stopping at
        # the first that has one: those made ahead of the clock (empty) are probed too.
        allowed |= {
            name
            for name in _all_partitions(url)
            if name.startswith("commands_") and name[-8:] >= f"{FLEET_END:%Y%m%d}"
        }
    # Not vacuous: a partition of the range was read, and there were others to leave out.
    assert read & allowed, (question.key, read)
    assert len(_all_partitions(url)) > len(allowed) + 10
    assert read <= allowed, f"{question.key} read partitions outside its range: {read - allowed}"
