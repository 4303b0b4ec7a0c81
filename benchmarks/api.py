"""API latency on a realistic fleet: seven research questions, uncached and cached, at 1 and 8
concurrent clients, each beside the time of its bare SQL measured in the same run; then the
same at 8 clients over ``procmon api --workers 2``, with the share of the connections its
busier process held. The rate limit is off: the clients ask far more than one key may.

The API runs as its own ``procmon api`` process, as in production; the clients are minimal
keep-alive HTTP/1.1 connections in this process (see benchmarks.http_client), so that the
figures are the API's own. "Uncached" requests follow a bump of the cache generation (what
the worker does after each batch) made outside the timed part; "cached" ones repeat a request
just answered.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, LiteralString

import httpx
import psutil
import psycopg
import redis
import redis.asyncio
from psycopg.conninfo import make_conninfo

from benchmarks.api_fleet import FLEET_END, Fleet, load_fleet
from benchmarks.http_client import KeepAliveClient
from benchmarks.storage import process_row_bytes
from procmon.api_keys import create_api_key
from procmon.cache import GENERATION
from procmon.database import create_database, drop_database, migrate
from procmon.devstack import free_port
from procmon.settings import Settings

__all__ = [
    "QUESTIONS",
    "STATS_FIELDS",
    "Question",
    "bench_api",
    "bench_database",
    "cache_retirer",
    "fleet_variables",
    "serving",
    "timed_round",
]

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Question:
    """One research question: its GraphQL request and the bare SQL that answers it."""

    key: str
    query: str
    sql: LiteralString


# Variables every question may use: the probe machine and the fleet's time windows; the
# lifetimes' whole UTC days end at the fleet's last midnight (their SQL takes the days too).
def fleet_variables(fleet: Fleet) -> dict[str, Any]:
    """The variables the questions take, for ``fleet``."""
    midnight = FLEET_END.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "machine": fleet.probe_machine,
        "dayFrom": (FLEET_END - _DAY).isoformat(),
        "weekFrom": (FLEET_END - 7 * _DAY).isoformat(),
        "hourFrom": (FLEET_END - timedelta(hours=1)).isoformat(),
        "to": (FLEET_END + timedelta(seconds=1)).isoformat(),
        "weekDaysFrom": (midnight - 7 * _DAY).isoformat(),
        "lastDayFrom": (midnight - _DAY).isoformat(),
        "daysTo": midnight.isoformat(),
    }


def _sql_variables(variables: dict[str, Any]) -> dict[str, Any]:
    """The variables as the bare SQL takes them: the lifetimes' days as dates too."""
    days = {
        f"{name}Day": datetime.fromisoformat(variables[name]).date()
        for name in ("weekDaysFrom", "lastDayFrom", "daysTo")
    }
    return variables | days


# The bare SQL of a lifetimes question: the range's whole days from the daily rollup, and the
# rows of snapshots it has not counted (none once the bench rolled up, found by the partial
# index), added up per process (a row a sighting: the fleet lists no threads); then the last
# sighting's name and user for the 20 kept, from its day's rollup row where that counted it.
# {machine} narrows both parts to one machine or none.
_LIFETIMES = """
SELECT t.*, s.process_name, s."user"
FROM (
    SELECT machine_id, process_key, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
           sum(snapshot_count) AS snapshots, sum(cpu_seconds) AS cpu,
           100 * sum(cpu_seconds) / nullif(sum(interval_seconds), 0) AS average,
           max(max_interval_cpu_percent) AS peak, max(max_rss_bytes) AS rss
    FROM (
        SELECT machine_id, process_key, first_seen, last_seen, snapshot_count, cpu_seconds,
               interval_seconds, max_interval_cpu_percent, max_rss_bytes
        FROM process_days
        WHERE day >= %({first_day})s AND day < %(daysToDay)s {machine}
        UNION ALL
        SELECT p.machine_id, p.process_key, p.observed_at, p.observed_at, 1,
               coalesce(p.interval_cpu_percent::float8 * p.interval_seconds / 100, 0),
               CASE WHEN p.interval_cpu_percent IS NOT NULL THEN p.interval_seconds ELSE 0 END,
               p.interval_cpu_percent, p.rss_bytes
        FROM commands AS c JOIN processes AS p ON p.command_id = c.id
        WHERE c.rolled_up_at IS NULL AND c."timestamp" >= %({first})s
          AND c."timestamp" < %(daysTo)s AND p.process_key IS NOT NULL {machine_c}
    ) AS parts
    GROUP BY machine_id, process_key
    ORDER BY cpu DESC, process_key
    LIMIT 20
) AS t
CROSS JOIN LATERAL (
    SELECT * FROM (
        SELECT process_name, "user" FROM process_days
        WHERE machine_id = t.machine_id AND day = (t.last_seen AT TIME ZONE 'UTC')::date
          AND process_key = t.process_key AND last_seen = t.last_seen
        UNION ALL
        (SELECT process_name, "user" FROM processes
         WHERE process_key = t.process_key AND observed_at = t.last_seen
           AND machine_id = t.machine_id
         ORDER BY command_id, line_number
         LIMIT 1)
    ) AS sightings
    LIMIT 1
) AS s
ORDER BY t.cpu DESC, t.process_key
"""
_LIFETIME_FIELDS = """nodes { processKey machineId pid processName user firstSeen lastSeen
                      snapshotCount cpuSeconds avgIntervalCpuPercent maxRssBytes }"""


# The bare SQL of a fleet-wide processStats answered from a rollup ({table}): its whole
# hours (or days) {rollup} from the rollup, the rest {rows} from the rows of the snapshots
# in it, found by commands_timestamp_idx (and those of the {range} not counted, by
# commands_unrolled_idx: none once the bench rolled up), then per {group}.
_FROM_ROLLUP = """
SELECT {group}, sum(n) AS processes, sum(snapshots) AS snapshots,
       sum(cpu_sum) / nullif(sum(cpu_n), 0) AS avg_cpu, max(cpu_max) AS max_cpu,
       sum(rss_sum) AS rss, sum(cpu_seconds) AS cpu_seconds
FROM (
    SELECT {group_rollup}, sum(process_count) AS n, sum({snapshots}) AS snapshots,
           sum(cpu_sum) AS cpu_sum, sum(cpu_count) AS cpu_n, max(cpu_max) AS cpu_max,
           sum(rss_sum) AS rss_sum, sum(cpu_seconds) AS cpu_seconds
    FROM {table} WHERE {rollup}
    GROUP BY {group_rollup}
    UNION ALL
    SELECT {group_rows}, count(*), count(DISTINCT c.id), sum(p.cpu_percent::float8),
           count(p.cpu_percent), max(p.cpu_percent), sum(p.rss_bytes),
           sum(p.interval_cpu_percent::float8 * p.interval_seconds / 100)
    FROM commands AS c JOIN processes AS p ON p.command_id = c.id
    WHERE c.id IN (SELECT id FROM commands WHERE {rows}
                   UNION ALL
                   SELECT id FROM commands WHERE rolled_up_at IS NULL AND {range})
    GROUP BY {group_rows}
) AS parts
GROUP BY {group}
ORDER BY {group}
"""
# What the processStats questions ask of each group.
STATS_FIELDS = "processCount snapshotCount avgCpuPercent maxCpuPercent sumRssBytes cpuSeconds"
# The hourly rollup's whole hours of the week: its end is FLEET_END, a whole hour.
_WEEK_HOURS = (
    "bucket_start >= %(weekFrom)s AND bucket_start < date_bin('1 hour', %(to)s, '2001-01-01Z')"
)
_WEEK_END_ROWS = (
    "\"timestamp\" >= date_bin('1 hour', %(to)s, '2001-01-01Z') AND \"timestamp\" < %(to)s"
)


QUESTIONS = (
    Question(
        "a_latest_top20_cpu",
        """query ($machine: String!) { machine(id: $machine) { latestSnapshot {
             processes(first: 20, orderBy: CPU_PERCENT_DESC) {
               nodes { pid processName user cpuPercent rssBytes } } } } }""",
        """SELECT pid, process_name, "user", cpu_percent, rss_bytes FROM processes
           WHERE command_id = (SELECT id FROM commands WHERE machine_id = %(machine)s
                               ORDER BY "timestamp" DESC LIMIT 1)
           ORDER BY cpu_percent DESC NULLS LAST LIMIT 20""",
    ),
    Question(
        "b_day_python_page",
        """query ($machine: String!, $dayFrom: DateTime!, $to: DateTime!) {
             processes(filter: {machineId: {equalTo: $machine}, processName: {like: "python%"}},
                       from: $dayFrom, to: $to, first: 100) {
               nodes { pid processName observedAt cpuPercent } pageInfo { endCursor } } }""",
        """SELECT pid, process_name, observed_at, cpu_percent FROM processes
           WHERE machine_id = %(machine)s AND observed_at >= %(dayFrom)s
             AND observed_at < %(to)s AND process_name LIKE 'python%%'
           ORDER BY observed_at DESC, command_id DESC, line_number DESC LIMIT 101""",
    ),
    Question(
        "c_week_snapshots_count",
        """query ($machine: String!, $weekFrom: DateTime!, $to: DateTime!) {
             snapshots(filter: {machineId: {equalTo: $machine}}, from: $weekFrom, to: $to,
                       first: 50) {
               totalCount nodes { id timestamp processCount } } }""",
        """SELECT id, "timestamp", process_count,
                  count(*) OVER () AS total FROM commands
           WHERE machine_id = %(machine)s AND "timestamp" >= %(weekFrom)s
             AND "timestamp" < %(to)s
           ORDER BY "timestamp" DESC LIMIT 50""",
    ),
    Question(
        "d_day_count_per_user",
        """query ($machine: String!, $dayFrom: DateTime!, $to: DateTime!) {
             processStats(filter: {machineId: {equalTo: $machine}}, from: $dayFrom, to: $to,
                          groupBy: [USER]) { user processCount } }""",
        """SELECT "user", count(*) FROM processes
           WHERE machine_id = %(machine)s AND observed_at >= %(dayFrom)s
             AND observed_at < %(to)s
           GROUP BY "user" ORDER BY "user\"""",
    ),
    Question(
        "e_hour_machines_running_nginx",
        """query ($hourFrom: DateTime!, $to: DateTime!) {
             machinesRunning(processName: "nginx", from: $hourFrom, to: $to) {
               machineId lastSeen } }""",
        """SELECT machine_id, max(observed_at) FROM processes
           WHERE process_name = 'nginx' AND observed_at >= %(hourFrom)s
             AND observed_at < %(to)s
           GROUP BY machine_id ORDER BY machine_id""",
    ),
    Question(
        "f_week_machine_top20_cpu_seconds",
        f"""query ($machine: String!, $weekDaysFrom: DateTime!, $daysTo: DateTime!) {{
             processLifetimes(filter: {{machineId: {{equalTo: $machine}}}}, from: $weekDaysFrom,
                              to: $daysTo, orderBy: CPU_SECONDS_DESC, first: 20) {{
               {_LIFETIME_FIELDS} }} }}""",
        _LIFETIMES.format(
            first_day="weekDaysFromDay",
            first="weekDaysFrom",
            machine="AND machine_id = %(machine)s",
            machine_c="AND c.machine_id = %(machine)s",
        ),
    ),
    Question(
        "g_day_fleet_top20_cpu_seconds",
        f"""query ($lastDayFrom: DateTime!, $daysTo: DateTime!) {{
             processLifetimes(from: $lastDayFrom, to: $daysTo, orderBy: CPU_SECONDS_DESC,
                              first: 20) {{ {_LIFETIME_FIELDS} }} }}""",
        # One whole day the rollup counted (the bench's fleet is all counted): its rows of
        # process_days are the answer, in the order of process_days_day_cpu_idx, as the API
        # reads them; were a snapshot of the day not counted, it would add up as (f) does.
        """SELECT machine_id, process_key, process_name, "user", first_seen, last_seen,
                  snapshot_count, cpu_seconds,
                  100 * cpu_seconds / nullif(interval_seconds, 0),
                  max_interval_cpu_percent, max_rss_bytes
           FROM process_days
           WHERE day = %(lastDayFromDay)s AND NOT EXISTS (
               SELECT FROM commands WHERE rolled_up_at IS NULL
                 AND "timestamp" >= %(lastDayFrom)s AND "timestamp" < %(daysTo)s)
           ORDER BY cpu_seconds DESC, process_key
           LIMIT 20""",
    ),
    Question(
        "h_week_fleet_os_per_hour",
        f"""query ($weekFrom: DateTime!, $to: DateTime!) {{
             processStats(from: $weekFrom, to: $to, groupBy: [OS_TYPE], bucket: "1h") {{
               osType bucketStart {STATS_FIELDS} source }} }}""",
        _FROM_ROLLUP.format(
            group="os_type, bucket_start",
            group_rollup="os_type, bucket_start",
            group_rows="c.os_type, date_bin('1 hour', c.\"timestamp\", '2001-01-01Z')",
            snapshots="snapshot_count",
            table="stats_machine_hours",
            rollup=_WEEK_HOURS,
            rows=_WEEK_END_ROWS,
            range='"timestamp" >= %(weekFrom)s AND "timestamp" < %(to)s',
        ),
    ),
    Question(
        "i_all_fleet_per_process_name",
        f"""{{ processStats(groupBy: [PROCESS_NAME]) {{ processName {STATS_FIELDS} source }} }}""",
        _FROM_ROLLUP.format(
            group="process_name",
            group_rollup="process_name",
            group_rows="p.process_name",
            snapshots="name_snapshot_count",
            table="stats_days",
            rollup="TRUE",
            rows="FALSE",
            range="TRUE",
        ),
    ),
)


def _percentiles(latencies: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


async def timed_round(
    port: int,
    headers: dict[str, str],
    body: dict[str, Any],
    clients: int,
    requests: int,
    prepare: Callable[[], Awaitable[object]] | None = None,
) -> dict[str, float]:
    """``requests`` POSTs of ``body`` over ``clients`` connections at once; ``prepare`` untimed."""
    latencies: list[float] = []

    async def client() -> None:
        async with KeepAliveClient(port, headers) as http:
            for _ in range(requests // clients):
                if prepare is not None:
                    await prepare()
                started = time.perf_counter()
                status, answer = await http.post_json("/graphql", body)
                latencies.append(time.perf_counter() - started)
                if status != 200 or answer.get("errors"):
                    raise RuntimeError(f"the API refused a benchmark query: {answer}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {**_percentiles(latencies), "rps": len(latencies) / elapsed}


def _sql_p50(database_url: str, question: Question, variables: dict[str, Any]) -> float:
    """Median milliseconds of the bare SQL, on one warm connection."""
    timings = []
    with psycopg.connect(database_url) as conn:
        for _ in range(50):
            started = time.perf_counter()
            conn.execute(question.sql, variables).fetchall()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def cache_retirer(
    cache: redis.asyncio.Redis, settings: Settings
) -> Callable[[], Awaitable[object]]:
    """What the worker does after each batch, to be awaited before an uncached request: every
    cached answer of ``settings``' API is retired (its cache generation bumped)."""
    generation = f"{settings.redis_prefix}:{GENERATION}"

    async def retire() -> None:
        await cache.incr(generation)

    return retire


async def _measure(
    port: int, token: str, settings: Settings, fleet: Fleet, requests: int, *, workers: int
) -> dict[str, float]:
    """Each question at 1 and 8 clients, uncached and cached; with more than one API process
    at 8 clients only (one client leaves the others idle)."""
    variables = fleet_variables(fleet)
    cache = redis.asyncio.Redis.from_url(settings.redis_url)
    retire_cached_answers = cache_retirer(cache, settings)
    figures: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token}"}
    client_counts = (1, 8) if workers == 1 else (8,)
    suffix = "" if workers == 1 else f"_w{workers}"
    for question in QUESTIONS:
        body = {"query": question.query, "variables": variables}
        await timed_round(port, headers, body, 8, 16)  # warm: plans, pools, cache
        for clients in client_counts:
            rounds = {
                "uncached": await timed_round(
                    port, headers, body, clients, requests, retire_cached_answers
                ),
                "cached": await timed_round(port, headers, body, clients, requests),
            }
            for kind, result in rounds.items():
                for name, value in result.items():
                    figures[f"api_{question.key}_{kind}_c{clients}{suffix}_{name}"] = value
    await cache.aclose()
    return figures


async def _busiest_share(port: int, headers: dict[str, str], api_pid: int) -> float:
    """The share of 8 clients' connections (opened at once, as a round opens them) that the
    busiest API process holds: the kernel gives each to whichever process accepts first."""
    body = {"query": "{ machines { machineId } }"}
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(KeepAliveClient(port, headers)) for _ in range(8)
        ]
        await asyncio.gather(*(client.post_json("/graphql", body) for client in clients))
        held = [
            sum(1 for c in child.net_connections("tcp") if c.laddr.port == port and c.raddr)
            for child in psutil.Process(api_pid).children()
        ]
    return max(held) / len(clients)


@contextmanager
def serving(settings: Settings, workers: int) -> Iterator[int]:
    """``procmon api --workers N`` on ``settings``, until the block ends; yields its pid."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    env |= settings.environment() | {"PROCMON_LOG_LEVEL": "WARNING"}
    api = subprocess.Popen(
        [sys.executable, "-m", "procmon", "api", "--workers", str(workers)], env=env
    )
    try:
        url = f"http://127.0.0.1:{settings.api_port}/healthz"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield api.pid
    finally:
        api.terminate()
        api.wait(30)


@contextmanager
def bench_database(
    server_url: str, kind: str, *, time_limit: float | None = None
) -> Iterator[Settings]:
    """A new migrated database on ``server_url`` and the settings of an API serving it (a
    free port, a Redis prefix of its own, no rate limit: the benchmark's clients ask far more
    than one key may; ``time_limit`` seconds a query and a request, else the
    defaults: PROCMON_API_STATEMENT_TIMEOUT and PROCMON_API_REQUEST_SECONDS); the database
    and the prefix's keys go when the block ends."""
    name = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
    database_url = make_conninfo(server_url, dbname=f"procmon_bench_{kind}_{uuid.uuid4().hex[:8]}")
    settings = Settings(
        database_url=database_url,
        redis_prefix=name,
        api_port=free_port(),
        api_rate_limit=0,
    )
    if time_limit is not None:
        settings = settings.model_copy(
            update={"api_statement_timeout": time_limit, "api_request_seconds": time_limit}
        )
    create_database(database_url)
    try:
        migrate(database_url)
        yield settings
    finally:
        drop_database(database_url)
        client = redis.Redis.from_url(settings.redis_url)
        keys = list(client.scan_iter(f"{name}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def bench_api(server_url: str, machines: int, snapshots: int, processes: int) -> dict[str, float]:
    """Load the fleet into a new database, serve it with ``procmon api`` (one process, then
    two), and measure."""
    with bench_database(server_url, "api") as settings:
        database_url = settings.database_url
        fleet = load_fleet(database_url, machines, snapshots, processes)
        row_bytes = process_row_bytes(database_url)
        token = create_api_key(database_url, name="bench", role="reader")
        figures: dict[str, float] = {}
        for workers in (1, 2):
            with serving(settings, workers) as api_pid:
                figures |= asyncio.run(
                    _measure(settings.api_port, token, settings, fleet, 200, workers=workers)
                )
                if workers > 1:
                    figures[f"api_w{workers}_busiest_process_connection_share"] = asyncio.run(
                        _busiest_share(
                            settings.api_port, {"Authorization": f"Bearer {token}"}, api_pid
                        )
                    )
        variables = _sql_variables(fleet_variables(fleet))
        for question in QUESTIONS:
            figures[f"api_{question.key}_sql_p50_ms"] = _sql_p50(database_url, question, variables)
    return {
        "api_fleet_machines": fleet.machines,
        "api_fleet_snapshots_per_machine": fleet.snapshots,
        "api_fleet_process_rows": fleet.process_rows,
        "api_fleet_load_seconds": fleet.seconds,
        "api_fleet_rollup_seconds": fleet.rollup_seconds,
        "api_fleet_rollup_snapshots_per_s": fleet.rollup_snapshots_per_second,
        **{f"api_fleet_row_bytes_{part.replace(' ', '_')}": n for part, n in row_bytes.items()},
        **figures,
    }
