"""The growth benchmark's ingest: one worker storing into a database already loaded with a
fleet, beside a plain binary COPY of the same rows into the same database.

Three passes, each a worker then its floor, and the median of each: one pass's rate varies by a
third on the 2-core benchmark machine (benchmarks.ingest). A pass's worker reads a topic of its
own (benchmarks.ingest_topic: listings of machines new to the database) in a consumer group of
its own, timed as the ingest bench times it (benchmarks.ingest.worker_rate), counting only the
snapshots it stored (those of ids past every earlier one). Its floor is then a COPY of the rows
it stored, again, with their ``command_id`` shifted by :data:`_FLOOR_SHIFT` to below zero,
where the snapshots' sequence gives no id, in the same order: they collide with no row, the
next pass's worker stores none they collide with, and no pass counts them as its own. Into
partitions and indexes as large as the worker met, and larger by its rows.
Those rows stay (no snapshot of theirs exists; nothing measured after the floor reads them).
"""

from __future__ import annotations

import statistics
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from benchmarks.ingest import copy_processes, dump, ingest_pass, worker_rate, worker_settings

__all__ = ["INGEST_PASSES", "floor_rows", "ingest_into_loaded"]

INGEST_PASSES = 3
_FLOOR_SHIFT = -(1 << 40)

_COLUMNS = """
SELECT attname FROM pg_attribute
WHERE attrelid = 'processes'::regclass AND attnum > 0 AND NOT attisdropped
ORDER BY attnum
"""


def _scalar(conn: psycopg.Connection[Any], query: LiteralString, *args: object) -> int:
    row = conn.execute(query, args).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def floor_rows(conn: psycopg.Connection[Any], after_id: int) -> sql.Composable:
    """A query of the process rows of the snapshots past ``after_id`` to COPY in again as a
    floor: every column in the table's order (as COPY FROM reads them), ``command_id`` plus
    :data:`_FLOOR_SHIFT`."""
    names = [str(row[0]) for row in conn.execute(_COLUMNS).fetchall()]
    columns = [
        sql.SQL("{} + {}").format(sql.Identifier(name), sql.Literal(_FLOOR_SHIFT))
        if name == "command_id"
        else sql.Identifier(name)
        for name in names
    ]
    return sql.SQL("SELECT {} FROM processes WHERE command_id > {}").format(
        sql.SQL(", ").join(columns), sql.Literal(after_id)
    )


def _pass(
    database_url: str, server_url: str, bootstrap: str, topic: str, snapshots: int
) -> tuple[int, float, float]:
    """The rows one worker stored from ``topic``, its rate and that of their COPY floor."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        after_id = _scalar(conn, "SELECT max(id) FROM commands")
    _, stored_at = ingest_pass(
        worker_settings(database_url, bootstrap, topic), server_url, snapshots, after_id=after_id
    )
    rate = worker_rate(database_url, stored_at, after_id=after_id)
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = _scalar(conn, "SELECT count(*) FROM processes WHERE command_id > %s", after_id)
        query = floor_rows(conn, after_id)
    processes = dump(database_url, query)
    with psycopg.connect(database_url) as conn:
        floor = copy_processes(conn, processes, rows, server_url)
    return rows, rate, floor


def ingest_into_loaded(
    database_url: str, server_url: str, bootstrap: str, topics: list[str], snapshots: int
) -> dict[str, float]:
    """Rows a second of one worker storing each of ``topics``' ``snapshots`` in turn into the
    loaded database at ``database_url``, and of the COPY floor into it after each: the medians,
    their ratio, and the rows a pass stored."""
    passes = [_pass(database_url, server_url, bootstrap, topic, snapshots) for topic in topics]
    rate = statistics.median(rate for _, rate, _ in passes)
    floor = statistics.median(floor for _, _, floor in passes)
    return {
        "ingest_process_rows_per_pass": statistics.median(rows for rows, _, _ in passes),
        "ingest_rows_per_s": rate,
        "copy_floor_rows_per_s": floor,
        "ingest_vs_floor": rate / floor,
    }
