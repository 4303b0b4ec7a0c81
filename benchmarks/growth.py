"""Growth benchmark: the same figures at two (or more) sizes of stored process rows.

Per size, a fresh database holds the API bench's fleet (benchmarks.api_fleet) over 31 days
(benchmarks.growth_figures.fleet_shape), loaded and counted by the rollups (both timed); then
what a process row costs on disk; the API questions (benchmarks.api.QUESTIONS) at one client,
uncached, through a real ``procmon api``; a fleet-wide ``processStats`` over 30 days by OS
type per hour, answered from the rollups, and the same question over the raw rows (a filter on
``processName`` without grouping by it, ``like "%"``, which every row matches: the rollups do
not answer it, graphql_api.stats_rollups); one worker's end-to-end ingest rate into that
loaded database beside a COPY floor into it, the median of three passes each
(benchmarks.growth_ingest); and one retention run
removing the fleet's oldest day, timed. The raw question reads every row of the month: the
API's statement timeout and request budget are raised for it (``_TIME_LIMIT``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import redis.asyncio

from benchmarks.api import (
    QUESTIONS,
    STATS_FIELDS,
    bench_database,
    cache_retirer,
    fleet_variables,
    serving,
    timed_round,
)
from benchmarks.api_fleet import FLEET_END, SNAPSHOT_EVERY, Fleet, load_fleet
from benchmarks.growth_figures import changes, fleet_shape, ingest_rows
from benchmarks.growth_ingest import INGEST_PASSES, ingest_into_loaded
from benchmarks.http_client import KeepAliveClient
from benchmarks.ingest_topic import PROCESSES_PER_SNAPSHOT, published_topics
from benchmarks.storage import process_row_bytes
from graphql_api.stats import MAX_GROUPS
from procmon.api_keys import create_api_key
from procmon.retention import describe_run, expiries, retain
from procmon.settings import Settings

__all__ = ["bench_growth"]

# Uncached requests a question (its p50), and of the month over the raw rows, which reads
# every row of the fleet's month each time.
_REQUESTS = 50
_RAW_REQUESTS = 3
_TIME_LIMIT = 3600.0
_MONTH = timedelta(days=30)
_DAY = timedelta(days=1)
_MONTH_FIELDS = f"osType bucketStart {STATS_FIELDS} source"
# Every group of the month (721 hours x 4 OS types), past the default limit of 1,000.
_MONTH_QUESTION = f"""query ($monthFrom: DateTime!, $to: DateTime!) {{
  processStats(from: $monthFrom, to: $to, groupBy: [OS_TYPE], bucket: "1h", limit: {MAX_GROUPS})
    {{ {_MONTH_FIELDS} }} }}"""
# The same question, which only the rows answer: a filter on a name not grouped by.
_MONTH_RAW = f"""query ($monthFrom: DateTime!, $to: DateTime!) {{
  processStats(from: $monthFrom, to: $to, groupBy: [OS_TYPE], bucket: "1h", limit: {MAX_GROUPS},
               filter: {{processName: {{like: "%"}}}}) {{ {_MONTH_FIELDS} }} }}"""


async def _answer(port: int, headers: dict[str, str], body: dict[str, Any]) -> list[Any]:
    async with KeepAliveClient(port, headers) as http:
        status, answer = await http.post_json("/graphql", body)
    if status != 200 or answer.get("errors"):
        raise RuntimeError(f"the API refused a benchmark query: {answer}")
    groups: list[Any] = answer["data"]["processStats"]
    return groups


def _counts(groups: list[Any]) -> dict[tuple[str, str], tuple[int, int]]:
    return {
        (g["osType"], g["bucketStart"]): (g["processCount"], g["snapshotCount"]) for g in groups
    }


async def _questions(settings: Settings, token: str, fleet: Fleet) -> dict[str, float | str]:
    """Each question's uncached p50 at one client; the month from the rollups and the rows,
    with the source each answer names and how many of their groups' counts differ."""
    port, headers = settings.api_port, {"Authorization": f"Bearer {token}"}
    variables = fleet_variables(fleet) | {"monthFrom": (FLEET_END - _MONTH).isoformat()}
    cache = redis.asyncio.Redis.from_url(settings.redis_url)
    retire = cache_retirer(cache, settings)
    figures: dict[str, float | str] = {}
    try:
        for question in QUESTIONS:
            body = {"query": question.query, "variables": variables}
            await timed_round(port, headers, body, 1, 4)  # warm: plans, pools
            timed = await timed_round(port, headers, body, 1, _REQUESTS, retire)
            figures[f"{question.key}_uncached_p50_ms"] = timed["p50_ms"]
        answers = {}
        for path, query, requests in (
            ("rollup", _MONTH_QUESTION, _REQUESTS),
            ("raw", _MONTH_RAW, _RAW_REQUESTS),
        ):
            body = {"query": query, "variables": variables}
            await retire()
            answers[path] = await _answer(port, headers, body)  # and warm
            timed = await timed_round(port, headers, body, 1, requests, retire)
            name = f"month_fleet_os_per_hour_{path}"
            figures[f"{name}_p50_ms"] = timed["p50_ms"]
            figures[f"{name}_source"] = "+".join(sorted({g["source"] for g in answers[path]}))
    finally:
        await cache.aclose()
    rollup, raw = _counts(answers["rollup"]), _counts(answers["raw"])
    figures["month_fleet_os_per_hour_groups"] = len(rollup)
    figures["month_fleet_os_per_hour_differing_groups"] = sum(
        1 for key in rollup.keys() | raw.keys() if rollup.get(key) != raw.get(key)
    )
    return figures


def _remove_oldest_day(settings: Settings, fleet: Fleet) -> dict[str, float]:
    """One retention run as ``procmon retention run`` makes it (its cached answers retired),
    as of the fleet's last day, keeping all but the fleet's first day of every table retention
    covers; timed. Raises RuntimeError unless it removed that day's partitions, and only
    those."""
    oldest = (FLEET_END - (fleet.snapshots - 1) * SNAPSHOT_EVERY).astimezone(UTC).date()
    today = FLEET_END.date()
    days = (today - oldest).days - 1
    keeping = settings.model_copy(
        update={
            "retention_days": days,
            "raw_output_retention_days": days,
            "rollup_retention_days": days,
        }
    )
    kept_from = datetime.combine(oldest + _DAY, datetime.min.time(), UTC)
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM processes WHERE observed_at < %s", (kept_from,)
        ).fetchone()
    started = time.perf_counter()
    run = retain(keeping, today=today)
    seconds = time.perf_counter() - started
    if run is None:
        raise RuntimeError("the retention run had no rule to keep by")
    tables = {rule.table for rule in expiries(keeping)}
    removed = {partition.table for partition in run.removed if partition.first_day == oldest}
    if removed != tables or len(run.removed) != len(tables) or run.kept:
        raise RuntimeError(
            f"retention did not remove exactly {oldest}: " + "; ".join(describe_run(run))
        )
    return {
        "retention_seconds": seconds,
        "retention_partitions_removed": len(run.removed),
        "retention_process_rows_removed": int(row[0]) if row else 0,
    }


def _bench_size(
    server_url: str, rows: int, bootstrap: str, topics: list[str], snapshots: int
) -> dict[str, float | str]:
    """Every figure of one size, named ``growth_<rows>_<figure>``."""
    shape = fleet_shape(rows)
    print(
        f"growth: {shape.rows:,} rows ({shape.machines} machines x {shape.snapshots} snapshots"
        f" x {shape.processes} processes)",
        flush=True,
    )
    with bench_database(server_url, "growth", time_limit=_TIME_LIMIT) as settings:
        url = settings.database_url
        fleet = load_fleet(url, shape.machines, shape.snapshots, shape.processes)
        row_bytes = process_row_bytes(url)
        figures: dict[str, float | str] = {
            "fleet_machines": fleet.machines,
            "fleet_snapshots_per_machine": fleet.snapshots,
            "fleet_processes_per_snapshot": fleet.processes,
            "fleet_process_rows": fleet.process_rows,
            "load_seconds": fleet.seconds,
            "load_rows_per_s": fleet.process_rows / fleet.seconds,
            "rollup_seconds": fleet.rollup_seconds,
            **{f"row_bytes_{part}": row_bytes[part] for part in ("heap", "toast", "indexes")},
            "row_bytes_total": row_bytes["total"],
        }
        token = create_api_key(url, name="bench", role="reader")
        with serving(settings, 1):
            figures |= asyncio.run(_questions(settings, token, fleet))
        print("growth: questions asked; the worker stores into the loaded fleet", flush=True)
        figures |= ingest_into_loaded(url, server_url, bootstrap, topics, snapshots)
        figures |= _remove_oldest_day(settings, fleet)
    return {f"growth_{rows}_{figure}": value for figure, value in figures.items()}


def bench_growth(server_url: str, sizes: list[int]) -> dict[str, float | str]:
    """Every figure at each of ``sizes`` (process rows), ``growth_<rows>_<figure>``, and the
    change of each from the smallest size to the largest, ``growth_change_<figure>``."""
    snapshots = -(-ingest_rows(sizes) // (INGEST_PASSES * PROCESSES_PER_SNAPSHOT))
    figures: dict[str, float | str] = {}
    with published_topics(snapshots, INGEST_PASSES) as (bootstrap, topics):
        for rows in sorted(sizes):
            figures |= _bench_size(server_url, rows, bootstrap, topics, snapshots)
    return figures | changes(figures, sizes)
