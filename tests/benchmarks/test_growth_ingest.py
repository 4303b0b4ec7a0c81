"""The growth benchmark's floor: a pass's rows stored again beside them, colliding with none."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from psycopg import sql

from benchmarks.growth_ingest import floor_rows
from benchmarks.ingest import copy_processes, dump
from tests.conftest import SERVER_URL, make_partitions, migrated_database

_AT = datetime(2026, 11, 2, 12, tzinfo=UTC)
# Every column of a row but its snapshot's id.
_ROWS = """
SELECT line_number, machine_id, observed_at, pid, process_name, command_line FROM processes
WHERE {} ORDER BY 1, 2, 3, 4, 5, 6
"""


def _rows(conn: psycopg.Connection[tuple[object, ...]], where: str) -> list[tuple[object, ...]]:
    return conn.execute(sql.SQL(_ROWS).format(sql.SQL(where))).fetchall()


def test_a_pass_s_rows_go_in_again_below_every_snapshot_id() -> None:
    with migrated_database("procmon_test_growth_floor") as url:
        with psycopg.connect(url) as conn:
            make_partitions(conn, _AT)
            conn.execute(
                """INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                                          process_name, command_line)
                   SELECT c, n, 'm' || c, %s, n, 'name' || n, 'cmd ' || c
                   FROM generate_series(1, 3) AS c, generate_series(1, 4) AS n""",
                (_AT,),
            )
            conn.commit()
            query = floor_rows(conn, after_id=1)
        with psycopg.connect(url) as conn:
            assert copy_processes(conn, dump(url, query), 8, SERVER_URL) > 0
            assert _rows(conn, "command_id < 0") == _rows(conn, "command_id > 1")
            assert len(_rows(conn, "command_id > 1")) == 8
            assert len(_rows(conn, "TRUE")) == 20
