"""procmon's API beside its peers, PostGraphile v4 and v5, on the same benchmark fleet.

The five questions (a)-(e) of benchmarks.api and a ping are asked of the three servers, each in
its own dialect (as ../shared/peers/postgraphile/README.md spells them). Before anything is
timed, every server's answer is checked to hold the same rows as procmon's. Then, question by
question and at 1 and at 8 clients, the servers are timed cell by cell in rounds, the order of
the servers reversed every other round, so that a slow spell of the machine falls on all of
them: procmon uncached (its cache generation bumped before each request, outside the timed
part), procmon cached, v4 and v5. A cell's figure is the median over the rounds of the round's
p50; the ratios are procmon uncached over each peer.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio

from benchmarks.api import (
    QUESTIONS,
    bench_database,
    cache_retirer,
    fleet_variables,
    serving,
    timed_round,
)
from benchmarks.api_fleet import load_fleet
from benchmarks.http_client import KeepAliveClient
from benchmarks.peer_servers import PEER_VERSIONS, install_peers, serving_peer
from procmon.api_keys import create_api_key
from procmon.devstack import free_port
from procmon.settings import Settings

__all__ = ["PEER_QUESTIONS", "PeerQuestion", "bench_peers", "print_peers_table", "same_rows"]

Rows = Callable[[dict[str, Any]], list[tuple[Any, ...]]]
_ROUNDS = 4
_CLIENTS = (1, 8)
_PROCMON = {q.key[0]: q for q in QUESTIONS}


@dataclass(frozen=True, slots=True)
class PeerQuestion:
    """One question as procmon and each PostGraphile version ask it, how to read the rows out
    of each answer (``procmon_rows``, ``peer_rows``) so that they compare, and whether their
    order is the question's (else each server groups in an order of its own)."""

    key: str
    procmon: str
    v4: str
    v5: str
    procmon_rows: Rows
    peer_rows: Rows
    ordered: bool = True


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _number(value: Any) -> float | None:
    # PostGraphile sends bigint and numeric as strings.
    return None if value is None else float(value)


def _process(node: dict[str, Any]) -> tuple[Any, ...]:
    return (
        node["pid"],
        node["processName"],
        node["user"],
        _number(node["cpuPercent"]),
        _number(node["rssBytes"]),
    )


def _page_row(node: dict[str, Any]) -> tuple[Any, ...]:
    return (
        node["pid"],
        node["processName"],
        _time(node["observedAt"]),
        _number(node["cpuPercent"]),
    )


def _snapshots(connection: dict[str, Any]) -> list[tuple[Any, ...]]:
    # v5 names the column `rowId` (its `id` is the Node ID); procmon and v4 name it `id`.
    nodes = [
        (int(n.get("rowId", n.get("id"))), _time(n["timestamp"]), n["processCount"])
        for n in connection["nodes"]
    ]
    return [("total", int(connection["totalCount"])), *nodes]


_PEER_A = """query ($machine: String!) {
  commands(condition: {machineId: $machine}, orderBy: [TIMESTAMP_DESC], first: 1) { nodes {
    processes(first: 20, orderBy: [CPU_PERCENT_DESC, LINE_NUMBER_DESC]) {
      nodes { pid processName user cpuPercent rssBytes } } } } }"""
_PEER_B = """query ($machine: String!, $dayFrom: Datetime!, $to: Datetime!) {
  processes(filter: {machineId: {equalTo: $machine}, processName: {like: "python%"},
                     observedAt: {greaterThanOrEqualTo: $dayFrom, lessThan: $to}},
            orderBy: [OBSERVED_AT_DESC, COMMAND_ID_DESC, LINE_NUMBER_DESC], first: 100) {
    nodes { pid processName observedAt cpuPercent } pageInfo { endCursor } } }"""
_PEER_C = """query ($machine: String!, $weekFrom: Datetime!, $to: Datetime!) {
  commands(filter: {machineId: {equalTo: $machine},
                    timestamp: {greaterThanOrEqualTo: $weekFrom, lessThan: $to}},
           orderBy: [TIMESTAMP_DESC], first: 50) {
    totalCount nodes { ID timestamp processCount } } }"""
_PEER_D = """query ($machine: String!, $dayFrom: Datetime!, $to: Datetime!) {
  processes(filter: {machineId: {equalTo: $machine},
                     observedAt: {greaterThanOrEqualTo: $dayFrom, lessThan: $to}}) {
    groupedAggregates(groupBy: [USER]) { keys count { processName } } } }"""
_PEER_E = """query ($hourFrom: Datetime!, $to: Datetime!) {
  processes(filter: {processName: {equalTo: "nginx"},
                     observedAt: {greaterThanOrEqualTo: $hourFrom, lessThan: $to}}) {
    groupedAggregates(groupBy: [MACHINE_ID]) { keys max { observedAt } } } }"""
_PING = "{ __typename }"


def _same(query: str) -> tuple[str, str]:
    return query, query


PEER_QUESTIONS = (
    PeerQuestion(
        "z_ping",
        _PING,
        *_same(_PING),
        lambda d: [(d["__typename"],)],
        lambda d: [(d["__typename"],)],
    ),
    PeerQuestion(
        "a_latest_top20_cpu",
        _PROCMON["a"].query,
        *_same(_PEER_A),
        lambda d: [_process(n) for n in d["machine"]["latestSnapshot"]["processes"]["nodes"]],
        lambda d: [_process(n) for n in d["commands"]["nodes"][0]["processes"]["nodes"]],
    ),
    PeerQuestion(
        "b_day_python_page",
        _PROCMON["b"].query,
        *_same(_PEER_B),
        lambda d: [_page_row(n) for n in d["processes"]["nodes"]],
        lambda d: [_page_row(n) for n in d["processes"]["nodes"]],
    ),
    PeerQuestion(
        "c_week_snapshots_count",
        _PROCMON["c"].query,
        _PEER_C.replace("ID", "id"),
        _PEER_C.replace("ID", "rowId"),
        lambda d: _snapshots(d["snapshots"]),
        lambda d: _snapshots(d["commands"]),
    ),
    PeerQuestion(
        "d_day_count_per_user",
        _PROCMON["d"].query,
        *_same(_PEER_D),
        lambda d: [(g["user"], g["processCount"]) for g in d["processStats"]],
        lambda d: [
            (g["keys"][0], int(g["count"]["processName"]))
            for g in d["processes"]["groupedAggregates"]
        ],
        ordered=False,
    ),
    PeerQuestion(
        "e_hour_machines_running_nginx",
        _PROCMON["e"].query,
        *_same(_PEER_E),
        lambda d: [(g["machineId"], _time(g["lastSeen"])) for g in d["machinesRunning"]],
        lambda d: [
            (g["keys"][0], _time(g["max"]["observedAt"]))
            for g in d["processes"]["groupedAggregates"]
        ],
        ordered=False,
    ),
)


@dataclass(frozen=True, slots=True)
class _Server:
    name: str
    port: int
    headers: dict[str, str]
    cached: bool = False

    def query(self, question: PeerQuestion) -> str:
        """The question in this server's dialect."""
        return getattr(question, self.name) if self.name in PEER_VERSIONS else question.procmon


async def _answer(server: _Server, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with KeepAliveClient(server.port, server.headers) as http:
        status, answer = await http.post_json("/graphql", {"query": query, "variables": variables})
    if status != 200 or answer.get("errors"):
        raise RuntimeError(f"{server.name} refused a benchmark question: {answer}")
    data: dict[str, Any] = answer["data"]
    return data


def same_rows(question: PeerQuestion, procmon: dict[str, Any], peer: dict[str, Any]) -> bool:
    """Whether a peer's answer ``data`` holds procmon's rows, in its order where it has one."""
    mine, theirs = question.procmon_rows(procmon), question.peer_rows(peer)
    if not question.ordered:
        mine, theirs = sorted(mine, key=repr), sorted(theirs, key=repr)
    return mine == theirs


async def _check_rows(servers: list[_Server], variables: dict[str, Any]) -> None:
    """Every peer's rows are procmon's, for every question."""
    procmon = servers[0]
    for question in PEER_QUESTIONS:
        expected = await _answer(procmon, question.procmon, variables)
        for peer in servers[2:]:
            rows = await _answer(peer, peer.query(question), variables)
            if not same_rows(question, expected, rows):
                raise RuntimeError(
                    f"{peer.name} answers {question.key} with other rows: {rows} "
                    f"where procmon has {expected}"
                )


async def _time_all(
    servers: list[_Server], variables: dict[str, Any], retire: Callable[[], Any], requests: int
) -> dict[str, float]:
    figures: dict[str, float] = {}
    for question in PEER_QUESTIONS:
        for server in servers:
            body = {"query": server.query(question), "variables": variables}
            await timed_round(server.port, server.headers, body, 8, 16)  # warm
        for clients in _CLIENTS:
            p50s: dict[str, list[float]] = {
                s.name if not s.cached else "cached": [] for s in servers
            }
            for round_number in range(_ROUNDS):
                order = servers if round_number % 2 == 0 else servers[::-1]
                for server in order:
                    body = {"query": server.query(question), "variables": variables}
                    prepare = None if server.cached or server.name != "procmon" else retire
                    result = await timed_round(
                        server.port, server.headers, body, clients, requests, prepare
                    )
                    p50s["cached" if server.cached else server.name].append(result["p50_ms"])
            for name, values in p50s.items():
                figures[f"peers_{question.key}_{name}_c{clients}_p50_ms"] = statistics.median(
                    values
                )
    return figures


async def _check_and_time(
    servers: list[_Server], variables: dict[str, Any], settings: Settings, requests: int
) -> dict[str, float]:
    cache = redis.asyncio.Redis.from_url(settings.redis_url)
    try:
        await _check_rows(servers, variables)
        return await _time_all(servers, variables, cache_retirer(cache, settings), requests)
    finally:
        await cache.aclose()


def bench_peers(
    server_url: str, machines: int, snapshots: int, processes: int, requests: int
) -> dict[str, float]:
    """Load the fleet, serve it with procmon's API and both PostGraphile versions, check their
    rows agree, and time them interleaved."""
    install_peers()
    with bench_database(server_url, "peers") as settings:
        fleet = load_fleet(settings.database_url, machines, snapshots, processes)
        token = create_api_key(settings.database_url, name="bench", role="reader")
        ports = {version: free_port() for version in PEER_VERSIONS}
        auth = {"Authorization": f"Bearer {token}"}
        servers = [
            _Server("procmon", settings.api_port, auth),
            _Server("procmon", settings.api_port, auth, cached=True),
            *(_Server(version, port, {}) for version, port in ports.items()),
        ]
        variables = fleet_variables(fleet)
        with (
            serving(settings, 1),
            serving_peer("v4", settings.database_url, ports["v4"]),
            serving_peer("v5", settings.database_url, ports["v5"]),
        ):
            figures = asyncio.run(_check_and_time(servers, variables, settings, requests))
    return {"peers_fleet_process_rows": fleet.process_rows, "peers_requests": requests, **figures}


def print_peers_table(figures: dict[str, float]) -> None:
    """The servers side by side per question: p50 ms at 1 | 8 clients, and procmon uncached
    over each peer."""
    print(
        f"\nprocmon beside PostGraphile, {figures['peers_fleet_process_rows']:,.0f} process rows,"
        f" p50 ms at 1 | 8 clients (median of {_ROUNDS} interleaved rounds of"
        f" {figures['peers_requests']:.0f} requests); ratio = procmon uncached / peer"
    )
    print(
        f"{'question':<32} {'uncached':>13} {'cached':>6} {'v4':>13} {'v5':>13}"
        f" {'/v4':>11} {'/v5':>11}"
    )
    for question in PEER_QUESTIONS:

        def p50(name: str, clients: int, key: str = question.key) -> float:
            return figures[f"peers_{key}_{name}_c{clients}_p50_ms"]

        cells = [f"{p50(n, 1):6.2f}|{p50(n, 8):6.2f}" for n in ("procmon", "v4", "v5")]
        ratios = [
            f"{p50('procmon', 1) / p50(v, 1):5.2f}|{p50('procmon', 8) / p50(v, 8):5.2f}"
            for v in PEER_VERSIONS
        ]
        print(
            f"{question.key:<32} {cells[0]:>13} {p50('cached', 1):>6.2f} {cells[1]:>13}"
            f" {cells[2]:>13} {ratios[0]:>11} {ratios[1]:>11}"
        )
