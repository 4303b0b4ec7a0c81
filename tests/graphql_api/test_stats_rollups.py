"""processStats from the rollups and from the rows, asked both ways of the same data: some
snapshots counted (after late and out-of-order deliveries that rewrote counted history), some
not; every field of every group the same, and the answer saying where it came from."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from graphql_api.stats_rollups import whole_buckets
from procmon.envelope import Envelope
from procmon.retention import Expiry, run_retention
from streams.rollup import count_all
from tests.conftest import drop_redis_keys
from tests.graphql_api.conftest import Serve, post
from tests.streams.stats_fleet import START, fleet_envelopes, write

STATS = """query ($groupBy: [ProcessGroupBy!]!, $filter: ProcessFilter, $bucket: String,
               $from: DateTime, $to: DateTime, $label: String) {
  processStats(groupBy: $groupBy, filter: $filter, bucket: $bucket, from: $from, to: $to,
               label: $label) {
    machineId user processName status osType label bucketStart processCount snapshotCount
    avgCpuPercent maxCpuPercent avgMemoryPercent maxMemoryPercent sumRssBytes maxRssBytes
    cpuSeconds avgIntervalCpuPercent maxIntervalCpuPercent source } }"""

_ORIGIN = datetime(2001, 1, 1, tzinfo=UTC)
_MIDNIGHT = START.replace(hour=0, minute=0) + timedelta(days=1)
_GROUPINGS = [
    [], ["MACHINE"], ["PROCESS_NAME"], ["USER"], ["PROCESS_NAME", "USER"], ["OS_TYPE"],
    ["LABEL"], ["MACHINE", "PROCESS_NAME"], ["OS_TYPE", "USER"],
]  # fmt: skip
_BUCKETS = [None, "1h", "3h", "1d"]
# Unbounded; whole hours; partial hours at both ends; whole days.
_RANGES = [
    (None, None),
    (START + timedelta(minutes=10), START + timedelta(hours=19, minutes=10)),
    (START + timedelta(minutes=47), START + timedelta(hours=20, minutes=13)),
    (_MIDNIGHT, _MIDNIGHT + timedelta(days=1)),
]
_FILTERS: list[dict[str, Any] | None] = [
    None,
    {"machineId": {"equalTo": "m1"}},
    {"labels": [{"name": "role", "equalTo": "web"}]},
    {"or": [{"osType": {"equalTo": "freebsd"}}, {"not": {"machineId": {"like": "m%"}}}]},
    {"processName": {"in": ["python3", "sshd"]}},
    {"user": {"notEqualTo": "root"}},
]
# A condition every row meets, that no rollup holds: the rows answer.
_EVERY_ROW = {"pid": {"isNull": False}}


@pytest.fixture
async def partly_counted(
    clean_database: str, serve: Serve, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The fleet stored out of order with rollup rounds between; its newest not counted."""
    rng = random.Random(7)
    envelopes = fleet_envelopes()
    # The newest three of each machine come last: they relink nothing counted before them.
    pending = [e for e in envelopes if e in _newest(envelopes, 3)]
    counted = rng.sample([e for e in envelopes if e not in pending], len(envelopes) - 6)
    for n in range(0, len(counted), 10):
        await write(clean_database, tmp_path, [counted[n : n + 10]])
        async with await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as c:
            await count_all(c)
    await write(clean_database, tmp_path, [pending])
    async with serve(clean_database) as http:
        yield http


def _newest(envelopes: list[Envelope], count: int) -> list[Envelope]:
    """The ``count`` newest envelopes of each machine."""
    newest: list[Envelope] = []
    for machine in {e.machine_id for e in envelopes}:
        own = sorted((e for e in envelopes if e.machine_id == machine), key=lambda e: e.timestamp)
        newest += own[-count:]
    return newest


async def _ask(client: httpx.AsyncClient, **variables: Any) -> list[dict[str, Any]]:
    body = await post(client, STATS, **variables)
    assert "errors" not in body, body
    groups: list[dict[str, Any]] = body["data"]["processStats"]
    return groups


def _expected_source(grouping: list[str], filter_: dict[str, Any] | None, **question: Any) -> str:
    by_row = {"PROCESS_NAME": "processName", "USER": "user"}
    grouped = {by_row[g] for g in grouping if g in by_row}
    asked = {name for name in ("processName", "user") if filter_ and name in filter_}
    if not asked <= grouped:
        return "RAW"
    whole_days = all(
        moment is None or moment == moment.replace(hour=0, minute=0)
        for moment in (question["from_"], question["to"])
    )
    return "DAILY" if whole_days and question["bucket"] in (None, "1d") else "HOURLY"


def _assert_same_groups(rollup: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    assert len(rollup) == len(rows)
    for got, want in zip(rollup, rows, strict=True):
        assert got.keys() == want.keys()
        for field, value in want.items():
            if field == "source":
                continue
            if isinstance(value, float):
                assert math.isclose(got[field], value, rel_tol=1e-12), (field, got, want)
            else:
                assert got[field] == value, (field, got, want)


async def test_the_rollups_answer_with_the_numbers_of_the_rows(
    partly_counted: httpx.AsyncClient,
) -> None:
    sources: set[str] = set()
    for index, (grouping, bucket, (start, end)) in enumerate(
        itertools.product(_GROUPINGS, _BUCKETS, _RANGES)
    ):
        filter_ = _FILTERS[index % len(_FILTERS)]
        question: dict[str, Any] = {
            "groupBy": grouping,
            "bucket": bucket,
            "from": None if start is None else start.isoformat(),
            "to": None if end is None else end.isoformat(),
            "label": "role" if "LABEL" in grouping else None,
        }
        answered = await _ask(partly_counted, filter=filter_, **question)
        every_row = _EVERY_ROW if filter_ is None else {"and": [filter_, _EVERY_ROW]}
        from_rows = await _ask(partly_counted, filter=every_row, **question)
        assert from_rows, question
        assert {group["source"] for group in from_rows} == {"RAW"}
        _assert_same_groups(answered, from_rows)
        source = _expected_source(grouping, filter_, bucket=bucket, from_=start, to=end)
        assert {group["source"] for group in answered} <= {source}, (question, filter_)
        sources.add(source)
    assert sources == {"RAW", "HOURLY", "DAILY"}


async def test_a_rollup_answer_counts_the_snapshots_not_yet_counted(
    partly_counted: httpx.AsyncClient, clean_database: str
) -> None:
    with psycopg.connect(clean_database) as conn:
        pending: Any = conn.execute(
            "SELECT count(*) FILTER (WHERE rolled_up_at IS NULL), count(*) FROM commands"
        ).fetchone()
    (group,) = await _ask(partly_counted, groupBy=[])
    assert group["source"] == "DAILY"
    assert pending[0] == 6
    assert group["snapshotCount"] == pending[1]


async def test_past_the_raw_retention_the_rollups_answer_alone(
    clean_database: str, serve: Serve, tmp_path: Path, redis_prefix: str
) -> None:
    await write(clean_database, tmp_path, [fleet_envelopes()])
    async with await psycopg.AsyncConnection.connect(clean_database, autocommit=True) as conn:
        await count_all(conn)
    # Questions the rollups hold whole: no range end inside an hour, no row-only condition.
    questions = [
        {
            "groupBy": grouping,
            "bucket": bucket,
            "from": None if start is None else start.isoformat(),
            "to": None if end is None else end.isoformat(),
            "label": "role" if "LABEL" in grouping else None,
        }
        for grouping, bucket, (start, end) in itertools.product(
            _GROUPINGS, _BUCKETS, [_RANGES[0], _RANGES[1], _RANGES[3]]
        )
    ]
    async with serve(clean_database) as http:
        before = [await _ask(http, **question) for question in questions]
    run = run_retention(
        clean_database,
        [Expiry("processes", 1, "PROCMON_RETENTION_DAYS")],
        today=date(2027, 1, 1),
    )
    assert {partition.table for partition in run.removed} == {"processes"}
    with psycopg.connect(clean_database) as conn:
        assert conn.execute("SELECT count(*) FROM processes").fetchone() == (0,)
    # What the first server cached must not answer for the rollups.
    drop_redis_keys(redis_prefix)
    async with serve(clean_database) as http:
        after = [await _ask(http, **question) for question in questions]
        from_rows = await _ask(http, groupBy=[], filter=_EVERY_ROW)
    assert after == before
    assert all(groups for groups in after)
    assert {group["source"] for groups in after for group in groups} == {"HOURLY", "DAILY"}
    # The rows are gone: what only they could answer has nothing left to count.
    assert from_rows == []


def test_whole_buckets_are_the_range_rounded_inwards() -> None:
    hour = timedelta(hours=1)
    assert whole_buckets(START, START + 3 * hour, hour, _ORIGIN) == (
        START.replace(hour=22, minute=0),
        START.replace(hour=0, minute=0) + timedelta(days=1),
    )
    # Within one hour: no whole bucket, the first past the last.
    first, last = whole_buckets(START, START + timedelta(minutes=5), hour, _ORIGIN)
    assert first is not None
    assert last is not None
    assert first > last
    assert whole_buckets(None, None, hour, _ORIGIN) == (None, None)
