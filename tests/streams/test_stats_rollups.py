"""The processStats rollups against real PostgreSQL and the worker's writer: after late,
out-of-order, replayed and re-imported deliveries, with rollup rounds between them, each
rollup table holds what a fresh GROUP BY of the stored rows gives."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import psycopg
import pytest

from streams.rollup import count_all
from tests.streams.stats_fleet import (
    assert_same_rows,
    fleet_envelopes,
    fresh_rollup,
    stored_rollup,
    write,
)

# Each check: the rollup table, its grouping columns, the same of the rows, and its column
# that counts each snapshot once at that grouping.
_CHECKS = [
    ('os_type, labels::text, process_name, "user"',
     'c.os_type, c.labels::text, p.process_name, p."user"', "snapshot_count", "stats_{}s"),
    ("os_type, labels::text, process_name", "c.os_type, c.labels::text, p.process_name",
     "name_snapshot_count", "stats_{}s"),
    ('os_type, labels::text, "user"', 'c.os_type, c.labels::text, p."user"', "user_snapshot_count",
     "stats_{}s"),
    ("os_type, labels::text", "c.os_type, c.labels::text", "snapshot_count", "stats_machine_{}s"),
]  # fmt: skip


def _assert_rollups_match_the_rows(database_url: str) -> None:
    for unit in ("hour", "day"):
        for keys, row_keys, snapshots, table in _CHECKS:
            assert_same_rows(
                stored_rollup(database_url, table.format(unit), keys, snapshots),
                fresh_rollup(database_url, unit, row_keys),
            )


async def _roll_up(database_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        return await count_all(conn, limit=7)


async def test_in_order_deliveries_roll_up_to_the_rows(clean_database: str, tmp_path: Path) -> None:
    envelopes = sorted(fleet_envelopes(), key=lambda e: e.timestamp)
    await write(clean_database, tmp_path, [envelopes[:30]])
    assert await _roll_up(clean_database) == 30
    await write(clean_database, tmp_path, [envelopes[30:]])
    assert await _roll_up(clean_database) == len(envelopes) - 30
    _assert_rollups_match_the_rows(clean_database)
    # The fleet holds what the checks are for: a program of two users in one snapshot, a
    # machine whose labels changed, CPU measured over intervals, hours and a midnight.
    with psycopg.connect(clean_database) as conn:
        facts: Any = conn.execute(
            """SELECT max(snapshot_count - name_snapshot_count),
                      count(DISTINCT labels), count(cpu_seconds), count(DISTINCT bucket_start)
               FROM stats_days"""
        ).fetchone()
    two_users_at_once, labels, measured, days = facts
    assert two_users_at_once > 0
    assert (labels, days) == (3, 2)
    assert measured > 0


@pytest.mark.parametrize("seed", [1, 2])
async def test_late_out_of_order_replayed_and_reimported_deliveries_roll_up_to_the_rows(
    clean_database: str, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    envelopes = fleet_envelopes()
    shuffled = rng.sample(envelopes, len(envelopes))
    # Late and out of order, in batches of a few, each followed by a rollup round so that
    # later deliveries rewrite the history of snapshots already counted; then some delivered
    # again (a replay), and the whole fleet once more (a re-import).
    batches = [shuffled[n : n + rng.randint(1, 9)] for n in range(0, len(shuffled), 9)]
    for batch in batches:
        await write(clean_database, tmp_path, [batch])
        await _roll_up(clean_database)
        _assert_rollups_match_the_rows(clean_database)
    await write(clean_database, tmp_path, [rng.sample(envelopes, 12), envelopes])
    await _roll_up(clean_database)
    _assert_rollups_match_the_rows(clean_database)
    with psycopg.connect(clean_database) as conn:
        rewritten: Any = conn.execute(
            "SELECT count(*) FILTER (WHERE history_revision > 0), count(*) FROM commands"
        ).fetchone()
    relinked, snapshots = rewritten
    assert relinked > 0
    assert snapshots == len(envelopes)
