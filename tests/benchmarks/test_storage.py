"""The bytes a stored process row costs, as the benchmarks report them."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from benchmarks.storage import process_row_bytes
from tests.conftest import make_partitions, migrated_database

_AT = datetime(2026, 11, 2, 12, tzinfo=UTC)
# Random-looking text compresses badly, so a long one goes out of line into TOAST.
_LONG_LINE = "".join(f"{n * 7919 % 100003:05d}" for n in range(4000))


def _store(database_url: str, rows: int, command_line: str) -> None:
    with psycopg.connect(database_url) as conn:
        make_partitions(conn, _AT)
        conn.execute(
            """INSERT INTO processes (command_id, line_number, machine_id, observed_at, pid,
                                      process_name, command_line)
               SELECT 1, n, 'm1', %s, n, 'name', %s FROM generate_series(1, %s) AS n""",
            (_AT, command_line, rows),
        )
        conn.commit()


def test_an_empty_table_costs_nothing_per_row() -> None:
    with migrated_database("procmon_test_storage") as url:
        assert process_row_bytes(url)["total"] == 0.0


def test_the_parts_add_up_and_each_index_is_named() -> None:
    with migrated_database("procmon_test_storage") as url:
        _store(url, 2000, "short")
        measured = process_row_bytes(url)
        indexes = {part for part in measured if part.startswith("index ")}
        assert indexes == {
            "index processes_pkey",
            "index processes_name_observed_idx",
            "index processes_machine_observed_idx",
        }
        assert measured["indexes"] == sum(measured[part] for part in indexes)
        assert measured["total"] == measured["heap"] + measured["toast"] + measured["indexes"]
        # 2,000 narrow rows fill a few heap pages: tens of bytes each, not thousands.
        assert 20 < measured["heap"] < 200


def test_long_command_lines_are_counted_in_toast() -> None:
    with (
        migrated_database("procmon_test_storage") as short,
        migrated_database("procmon_test_storage") as long,
    ):
        _store(short, 50, "short")
        _store(long, 50, _LONG_LINE)
        assert process_row_bytes(long)["toast"] > process_row_bytes(short)["toast"] + 10_000
