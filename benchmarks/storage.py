"""What one stored process row costs on disk: heap, TOAST and indexes, per row.

Summed over every partition of ``processes``, as PostgreSQL reports their sizes (whole 8 kB
pages, free space included: what the disk holds). Measure after ``VACUUM ANALYZE``, as the
benchmarks do once their fleet is loaded, so that no dead version is counted.
"""

from __future__ import annotations

import psycopg

__all__ = ["process_row_bytes"]

# The partitions of processes (relkind 'r'; the parent itself holds nothing) with their sizes:
# the heap's main fork with its free-space and visibility maps, the TOAST table with its
# index, and each index by the name of the parent index it is a partition of.
_SIZES = """
WITH parts AS (
    SELECT c.oid, c.reltoastrelid
    FROM pg_inherits AS i
    JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'processes'::regclass AND c.relkind = 'r'
)
SELECT 'heap', sum(pg_table_size(oid)
                   - CASE WHEN reltoastrelid = 0 THEN 0
                          ELSE pg_total_relation_size(reltoastrelid) END)
FROM parts
UNION ALL
SELECT 'toast', sum(CASE WHEN reltoastrelid = 0 THEN 0
                         ELSE pg_total_relation_size(reltoastrelid) END)
FROM parts
UNION ALL
SELECT 'index ' || parent.relname, sum(pg_relation_size(x.indexrelid))
FROM parts
JOIN pg_index AS x ON x.indrelid = parts.oid
JOIN pg_inherits AS ii ON ii.inhrelid = x.indexrelid
JOIN pg_class AS parent ON parent.oid = ii.inhparent
GROUP BY parent.relname
"""


def process_row_bytes(database_url: str) -> dict[str, float]:
    """Bytes per process row of the database at ``database_url``: ``heap``, ``toast``,
    ``index <name>`` for each index of ``processes``, ``indexes`` (their sum) and ``total``;
    all zero when it holds no row."""
    with psycopg.connect(database_url) as conn:
        counted = conn.execute("SELECT count(*) FROM processes").fetchone()
        sizes = {str(part): float(size or 0) for part, size in conn.execute(_SIZES).fetchall()}
    rows = int(counted[0]) if counted else 0
    per_row = {part: size / rows if rows else 0.0 for part, size in sizes.items()}
    indexes = sum(size for part, size in per_row.items() if part.startswith("index "))
    return {
        **per_row,
        "indexes": indexes,
        "total": per_row.get("heap", 0.0) + per_row.get("toast", 0.0) + indexes,
    }
