"""The growth benchmark's ingest: one worker storing into a database already loaded with a
fleet, beside a plain binary COPY of the same rows into the same database.

The worker reads the ingest bench's topic (benchmarks.ingest_topic) in a consumer group of its
own, timed as the ingest bench times it (benchmarks.ingest.worker_rate), counting only the
snapshots it stored (those of ids past the fleet's). The floor is then a COPY of the rows it
stored, again, with their ``command_id`` shifted past every snapshot's so that they collide with
none: into partitions and indexes already as large as the worker met, and larger by the
worker's rows. Those rows stay (no snapshot of theirs exists; nothing measured after the floor
reads them).
"""

from __future__ import annotations

from typing import Any, LiteralString

import psycopg
from psycopg import sql

from benchmarks.ingest import copy_processes, dump, ingest_pass, worker_rate, worker_settings

__all__ = ["ingest_into_loaded"]

_COLUMNS = """
SELECT attname FROM pg_attribute
WHERE attrelid = 'processes'::regclass AND attnum > 0 AND NOT attisdropped
ORDER BY attnum
"""


def _scalar(conn: psycopg.Connection[Any], query: LiteralString, *args: object) -> int:
    row = conn.execute(query, args).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _shifted_rows(conn: psycopg.Connection[Any], after_id: int, shift: int) -> sql.Composable:
    """The process rows of the snapshots past ``after_id``, every column in the table's order
    (as COPY FROM reads them), ``command_id`` plus ``shift``."""
    names = [str(row[0]) for row in conn.execute(_COLUMNS).fetchall()]
    columns = [
        sql.SQL("{} + {}").format(sql.Identifier(name), sql.Literal(shift))
        if name == "command_id"
        else sql.Identifier(name)
        for name in names
    ]
    return sql.SQL("SELECT {} FROM processes WHERE command_id > {}").format(
        sql.SQL(", ").join(columns), sql.Literal(after_id)
    )


def ingest_into_loaded(
    database_url: str, server_url: str, bootstrap: str, topic: str, snapshots: int
) -> dict[str, float]:
    """Rows a second of one worker storing ``topic``'s ``snapshots`` into the loaded database
    at ``database_url``, of the COPY floor into it, and their ratio."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        after_id = _scalar(conn, "SELECT max(id) FROM commands")
    _, stored_at = ingest_pass(
        worker_settings(database_url, bootstrap, topic), server_url, snapshots, after_id=after_id
    )
    rate = worker_rate(database_url, stored_at, after_id=after_id)
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = _scalar(conn, "SELECT count(*) FROM processes WHERE command_id > %s", after_id)
        shift = _scalar(conn, "SELECT max(id) FROM commands") - after_id
        query = _shifted_rows(conn, after_id, shift)
    processes = dump(database_url, query)
    with psycopg.connect(database_url) as conn:
        floor = copy_processes(conn, processes, rows, server_url)
    return {
        "ingest_process_rows": rows,
        "ingest_rows_per_s": rate,
        "copy_floor_rows_per_s": floor,
        "ingest_vs_floor": rate / floor,
    }
