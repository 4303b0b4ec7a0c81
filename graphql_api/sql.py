"""Every SQL statement of the API, as constants; values are always passed as parameters.

Queries name their columns rather than ``SELECT *`` so that ``commands.raw_output``, the
whole listing, is never read by the API. Result columns keep the tables' column names,
which the ``from_row`` constructors of :mod:`graphql_api.types` and
:mod:`graphql_api.process` read.
"""

from __future__ import annotations

from procmon.columns import COLUMNS, EXPORT_COLUMNS

__all__ = [
    "COMMANDS_JOIN",
    "CPU_COUNTS",
    "EXPORT_PROCESSES",
    "HEALTH_CHECK",
    "LATEST_PREFIX",
    "LATEST_SNAPSHOTS",
    "LIFETIME_COUNT",
    "LIFETIME_DAY_PAGE",
    "LIFETIME_MACHINE",
    "LIFETIME_PAGE",
    "LIFETIME_SIGHTING",
    "LIFETIME_TOTALS",
    "MACHINES",
    "MACHINES_BY_IDS",
    "MACHINES_RUNNING",
    "MACHINE_WITH_LATEST_SNAPSHOT",
    "PROCESSES_OF_SNAPSHOTS",
    "PROCESS_COUNT",
    "PROCESS_PAGE",
    "PROCESS_PAGES_OF_SNAPSHOTS",
    "PROCESS_STATS",
    "PROCESS_STATS_ROLLUP",
    "RAW_OUTPUTS",
    "RAW_OUTPUT_SIZES",
    "SET_UTC",
    "SNAPSHOTS_BY_IDS",
    "SNAPSHOT_BY_ID",
    "SNAPSHOT_COUNT",
    "SNAPSHOT_NAMES",
    "SNAPSHOT_PAGE",
    "SNAPSHOT_PAGE_TOTAL",
]

# Timestamps leave the database in UTC whatever the server's TimeZone setting, so the
# API's answers do not depend on how PostgreSQL is configured.
SET_UTC = "SET TIME ZONE 'UTC'"

HEALTH_CHECK = "SELECT 1"

# The columns of a snapshot, as Snapshot.from_row reads them (of ``c`` in pages).
_SNAPSHOT_NAMES = (
    "id", "machine_id", "machine_name", "os_type", "os_version", "command_type", '"timestamp"',
    "content_hash", "format", "process_count", "metadata", "received_at", "labels", "cpu_count",
)  # fmt: skip
_SNAPSHOT_FIELDS = ", ".join(_SNAPSHOT_NAMES)
_SNAPSHOT_COLUMNS = ", ".join(f"c.{name}" for name in _SNAPSHOT_NAMES)

# The machines table, which the worker keeps as it stores each batch: name, OS and labels are
# those of each machine's latest snapshot (a machine renamed, upgraded or given another role
# shows what it is now, not what it was when first seen).
_MACHINE_FIELDS = (
    "machine_id, machine_name, os_type, os_version, labels, first_seen, last_seen, snapshot_count"
)
MACHINES = "SELECT " + _MACHINE_FIELDS + " FROM machines ORDER BY machine_name, machine_id"

SNAPSHOT_BY_ID = "SELECT " + _SNAPSHOT_FIELDS + " FROM commands WHERE id = %(id)s"

SNAPSHOTS_BY_IDS = "SELECT " + _SNAPSHOT_FIELDS + " FROM commands WHERE id = ANY(%(ids)s::bigint[])"

# Each machine's newest snapshot, found by its key in commands (commands_snapshot_key), which
# the machines table holds.
LATEST_SNAPSHOTS = (
    "SELECT "
    + _SNAPSHOT_COLUMNS
    + """
FROM machines AS m
JOIN commands AS c ON c.machine_id = m.machine_id AND c."timestamp" = m.last_seen
                  AND c.content_hash = m.latest_content_hash
WHERE m.machine_id = ANY(%(machine_ids)s::text[])
"""
)

# One machine's summary with its newest snapshot, in one statement where both are asked
# (machine { latestSnapshot }): the snapshot's columns named latest_<column>, None without one.
LATEST_PREFIX = "latest_"
SNAPSHOT_NAMES = tuple(name.strip('"') for name in _SNAPSHOT_NAMES)
MACHINE_WITH_LATEST_SNAPSHOT = (
    "SELECT "
    + ", ".join(f"m.{name}" for name in _MACHINE_FIELDS.split(", "))
    + ", "
    + ", ".join(
        f'c.{quoted} AS "{LATEST_PREFIX}{name}"'
        for quoted, name in zip(_SNAPSHOT_NAMES, SNAPSHOT_NAMES, strict=True)
    )
    + """
FROM machines AS m
LEFT JOIN commands AS c ON c.machine_id = m.machine_id AND c."timestamp" = m.last_seen
                       AND c.content_hash = m.latest_content_hash
WHERE m.machine_id = %(machine_id)s
"""
)

# The MACHINES summary of some machines only.
MACHINES_BY_IDS = (
    "SELECT " + _MACHINE_FIELDS + " FROM machines WHERE machine_id = ANY(%(machine_ids)s::text[])"
)

# Served by processes_name_observed_idx: the program's rows in the range, whatever the fleet.
MACHINES_RUNNING = """
SELECT machine_id, min(observed_at) AS first_seen, max(observed_at) AS last_seen,
       count(DISTINCT command_id) AS snapshot_count, max(cpu_percent) AS max_cpu_percent
FROM processes
WHERE process_name = %(process_name)s
  AND observed_at >= %(from)s
  AND observed_at < %(to)s
GROUP BY machine_id
ORDER BY machine_id
"""

# Every column of a process row (procmon.columns declares them), as Process.from_row reads
# them.
_PROCESS_COLUMNS = ", ".join(column.select_sql("p") for column in COLUMNS)

# One statement for a whole batch of snapshots; LATERAL applies the limit per snapshot
# while walking the primary key (command_id, line_number) in listing order. A NULL limit
# is no limit. Each snapshot's timestamp is its rows' observed_at: the scan of each reads
# the one partition that holds them (pruned as it runs).
PROCESSES_OF_SNAPSHOTS = (
    "SELECT "
    + _PROCESS_COLUMNS
    + """
FROM unnest(%(snapshot_ids)s::bigint[], %(times)s::timestamptz[]) AS wanted (id, observed_at)
CROSS JOIN LATERAL (
    SELECT *
    FROM processes
    WHERE processes.command_id = wanted.id AND processes.observed_at = wanted.observed_at
    ORDER BY line_number
    LIMIT %(limit)s
) AS p
ORDER BY p.command_id, p.line_number
"""
)

# The templates of pages: {where} is a condition of graphql_api.filters, {keys} and {order}
# the sort key of graphql_api.orders, {join} empty or COMMANDS_JOIN; values are parameters.
# The snapshot's timestamp is its rows' observed_at: said, the join reads one partition of
# commands for each of processes.
COMMANDS_JOIN = 'JOIN commands AS c ON c.id = p.command_id AND c."timestamp" = p.observed_at'

# {columns}: the columns the request selects (graphql_api.selection), and the sort key.
PROCESS_PAGE = """SELECT {columns}
FROM processes AS p {join}
WHERE {where}
ORDER BY {order}
LIMIT {limit}"""

# One statement for the same page of many snapshots' processes, each (as above) read from
# the partition of its timestamp; {columns} as in PROCESS_PAGE, the snapshot's id among them.
PROCESS_PAGES_OF_SNAPSHOTS = """SELECT page.*
FROM unnest({ids}::bigint[], {times}::timestamptz[]) AS wanted (id, observed_at)
CROSS JOIN LATERAL (
    SELECT {columns}
    FROM processes AS p {join}
    WHERE p.command_id = wanted.id AND p.observed_at = wanted.observed_at AND {where}
    ORDER BY {order}
    LIMIT {limit}
) AS page"""

PROCESS_COUNT = "SELECT count(*) AS total FROM processes AS p {join} WHERE {where}"

# {total}: empty, or SNAPSHOT_PAGE_TOTAL when totalCount is asked with the page: the count of
# the whole list ({where} without the cursor's condition), computed once in the same statement.
SNAPSHOT_PAGE = (
    "SELECT "
    + _SNAPSHOT_COLUMNS
    + """, {keys}{total}
FROM commands AS c
WHERE {where}
ORDER BY {order}
LIMIT {limit}"""
)

SNAPSHOT_COUNT = "SELECT count(*) AS total FROM commands AS c WHERE {where}"
SNAPSHOT_PAGE_TOTAL = ", (" + SNAPSHOT_COUNT + ") AS total"

# Every column a researcher may want, in the export's order, named as it names them.
EXPORT_PROCESSES = (
    "SELECT "
    + ", ".join(column.select_sql("p", column.field_name) for column in EXPORT_COLUMNS)
    + """
FROM processes AS p {join}
WHERE {where}
ORDER BY p.command_id, p.line_number
"""
)

# processStats in two steps: per group and snapshot (or per group and rollup row), then per
# group. Counting the snapshots is then a sum, not a count(DISTINCT ...) that sorts every row:
# a third faster. The parts give the same columns: sums, counts and highest values, which add
# up exactly to any coarser group.
_PROCESS_STATS = """
SELECT machine_id, "user", process_name, status, os_type, label, bucket_start,
       sum(n)::bigint AS process_count, sum(snapshots)::bigint AS snapshot_count,
       sum(cpu_sum) / nullif(sum(cpu_n), 0) AS avg_cpu_percent, max(cpu_max) AS max_cpu_percent,
       sum(memory_sum) / nullif(sum(memory_n), 0) AS avg_memory_percent,
       max(memory_max) AS max_memory_percent, sum(rss_sum)::bigint AS sum_rss_bytes,
       max(rss_max) AS max_rss_bytes, sum(cpu_seconds) AS cpu_seconds,
       100 * sum(cpu_seconds) / nullif(sum(interval_sum), 0) AS avg_interval_cpu_percent,
       max(interval_cpu_max) AS max_interval_cpu_percent
FROM ({parts}) AS parts
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5, 6, 7
LIMIT {{limit}}
"""
_STATS_OF_ROWS = """
    SELECT {selected}, count(*) AS n, 1 AS snapshots,
           sum(p.cpu_percent::float8) AS cpu_sum, count(p.cpu_percent) AS cpu_n,
           max(p.cpu_percent) AS cpu_max, sum(p.memory_percent::float8) AS memory_sum,
           count(p.memory_percent) AS memory_n, max(p.memory_percent) AS memory_max,
           sum(p.rss_bytes) AS rss_sum, max(p.rss_bytes) AS rss_max,
           sum(p.interval_cpu_percent::float8 * p.interval_seconds / 100) AS cpu_seconds,
           sum(p.interval_seconds::float8) FILTER (WHERE p.interval_cpu_percent IS NOT NULL)
               AS interval_sum,
           max(p.interval_cpu_percent) AS interval_cpu_max
    FROM processes AS p {join}
    WHERE {where}
    GROUP BY {group}
"""
PROCESS_STATS = _PROCESS_STATS.format(parts=_STATS_OF_ROWS)

# processStats from a rollup ({table}, streams.sql.STATS_ROLLUPS) for the whole buckets of the
# range that the rollup counted ({rollup_where}), and from the rows of the rest: the partial
# buckets at the range's ends, and the snapshots of the whole buckets not yet counted (the
# partial index commands_unrolled_idx finds them). {snapshots} is the rollup's column that
# counts each snapshot once in the groups asked for. {raw_where} selects the rows, and
# {first}, {last} are the range's whole buckets' bounds (NULL: unbounded), {start}, {end} the
# range's, which the snapshots' rows are also held to so that only the range's partitions of
# commands are read.
PROCESS_STATS_ROLLUP = _PROCESS_STATS.format(
    parts="""
    SELECT {selected_rollup}, sum(r.process_count) AS n, sum(r.{snapshots}) AS snapshots,
           sum(r.cpu_sum) AS cpu_sum, sum(r.cpu_count) AS cpu_n, max(r.cpu_max) AS cpu_max,
           sum(r.memory_sum) AS memory_sum, sum(r.memory_count) AS memory_n,
           max(r.memory_max) AS memory_max, sum(r.rss_sum) AS rss_sum, max(r.rss_max) AS rss_max,
           sum(r.cpu_seconds) AS cpu_seconds, sum(r.interval_seconds) AS interval_sum,
           max(r.interval_cpu_max) AS interval_cpu_max
    FROM {table} AS r
    WHERE r.bucket_start >= coalesce({first}::timestamptz, '-infinity')
      AND r.bucket_start < coalesce({last}::timestamptz, 'infinity') AND {rollup_where}
    GROUP BY {group_rollup}
    UNION ALL"""
    + _STATS_OF_ROWS.format(
        selected="{selected}",
        join=COMMANDS_JOIN,
        where="""{where}
        AND c."timestamp" >= coalesce({start}::timestamptz, '-infinity')
        AND c."timestamp" < coalesce({end}::timestamptz, 'infinity') AND c.id IN (
        SELECT id FROM commands
        WHERE "timestamp" >= {start}::timestamptz AND "timestamp" < {first}::timestamptz
        UNION ALL
        SELECT id FROM commands
        WHERE "timestamp" >= {last}::timestamptz
          AND "timestamp" < coalesce({end}::timestamptz, 'infinity')
        UNION ALL
        SELECT id FROM commands
        WHERE rolled_up_at IS NULL
          AND "timestamp" >= coalesce({first}::timestamptz, '-infinity')
          AND "timestamp" < coalesce({last}::timestamptz, 'infinity'))""",
        group="{group}",
    )
)

# processLifetimes: the totals of each process key seen in the range, added up from two
# parts. The range's whole UTC days ({days}: a condition on r.day) are read from process_days,
# which holds the snapshots the rollup counted; the rest of the range's snapshots ({raw}: the
# partial days at its ends, and the whole days' snapshots not yet counted, a condition on c)
# from their rows, first per process and snapshot (threads share their process's key), as the
# rollup counts them. {rows} narrows the rows of both parts (a condition on r.machine_id and
# r.pid). Only numbers and times are added up: the names are read for the rows of the page.
LIFETIME_TOTALS = """
WITH parts AS (
    SELECT r.machine_id, r.process_key, r.first_seen, r.last_seen,
           r.snapshot_count::bigint AS snapshot_count, r.cpu_seconds, r.interval_seconds,
           r.max_interval_cpu_percent, r.max_rss_bytes
    FROM process_days AS r
    WHERE {days} AND {rows}
    UNION ALL
    SELECT r.machine_id, r.process_key, r.observed_at, r.observed_at, 1,
           coalesce(sum(r.interval_cpu_percent::float8 * r.interval_seconds / 100), 0),
           coalesce(sum(r.interval_seconds::float8)
                    FILTER (WHERE r.interval_cpu_percent IS NOT NULL), 0),
           max(r.interval_cpu_percent), max(r.rss_bytes)
    FROM commands AS c
    -- The machine ids and times are equal anyway; said, a machine asked of r is asked of c
    -- too, and each snapshot's rows are read from the partition of its timestamp.
    JOIN processes AS r
      ON r.command_id = c.id AND r.machine_id = c.machine_id AND r.observed_at = c."timestamp"
    WHERE ({raw}) AND r.process_key IS NOT NULL AND {rows}
    GROUP BY r.machine_id, r.process_key, r.command_id, r.observed_at
), counted_day AS (
    -- A range of one whole day whose snapshots were all counted ({one_day}: r.day = that
    -- day, else FALSE): its process_days rows are the totals, in the index's order.
    SELECT r.machine_id, r.process_key, r.first_seen, r.last_seen,
           r.snapshot_count::bigint AS snapshot_count, r.cpu_seconds, r.interval_seconds,
           r.max_interval_cpu_percent, r.max_rss_bytes
    FROM process_days AS r
    WHERE {one_day} AND {rows} AND NOT EXISTS (SELECT FROM commands AS c WHERE {raw})
), added_up AS (
    -- Any other range ({added}: TRUE, or for one day, "a snapshot is not counted yet").
    SELECT machine_id, process_key, min(first_seen) AS first_seen, max(last_seen) AS last_seen,
           sum(snapshot_count)::bigint AS snapshot_count, sum(cpu_seconds) AS cpu_seconds,
           sum(interval_seconds) AS interval_seconds,
           max(max_interval_cpu_percent) AS max_interval_cpu_percent,
           max(max_rss_bytes) AS max_rss_bytes
    FROM parts
    WHERE {added}
    GROUP BY machine_id, process_key
)
"""

# A lifetime's last sighting in the range (s): the first row of its latest snapshot, as the
# rollup takes pid, names, user, command line and start time. Where the rollup counted that
# snapshot, its day's row of process_days holds them (one probe of its primary key); else one
# probe of processes_machine_observed_idx (its machine's rows of that moment: one snapshot's).
# The Append under LIMIT 1 reads the second only when the first has no row.
LIFETIME_SIGHTING = """CROSS JOIN LATERAL (
    SELECT * FROM (
        SELECT counted.pid, counted.process_name, counted."user", counted.command_line,
               counted.start_time
        FROM process_days AS counted
        WHERE counted.machine_id = l.machine_id
          AND counted.day = (l.last_seen AT TIME ZONE 'UTC')::date
          AND counted.process_key = l.process_key AND counted.last_seen = l.last_seen
        UNION ALL
        (SELECT sighted.pid, sighted.process_name, sighted."user", sighted.command_line,
                sighted.start_time
         FROM processes AS sighted
         WHERE sighted.process_key = l.process_key AND sighted.observed_at = l.last_seen
           AND sighted.machine_id = l.machine_id
         ORDER BY sighted.command_id, sighted.line_number
         LIMIT 1)
    ) AS sightings
    LIMIT 1
) AS s"""

# The machine of a lifetime (m, its row of machines), when the filter asks about it.
LIFETIME_MACHINE = "JOIN machines AS m ON m.machine_id = l.machine_id"

# The page: the totals the filter selects, in order, and then the sightings of the page's
# rows only. {joins} are what the filter reads: the machine, the sighting (read again for the
# page, where it is one probe a row). One of the two totals is empty; each is paged apart, so
# that one day's rows are read in the order of process_days_day_cpu_idx, 21 of them.
_LIFETIME_PAGE_OF = """(
    SELECT l.*, {{keys}}
    FROM {totals} AS l {{joins}}
    WHERE {{where}}
    ORDER BY {{order}}
    LIMIT {{limit}}
)"""
_LIFETIME_ROWS = """SELECT l.*, s.*,
       100 * l.cpu_seconds / nullif(l.interval_seconds, 0) AS avg_interval_cpu_percent
FROM ({pages}) AS l
{sighting}
ORDER BY {{order}}"""
LIFETIME_PAGE = LIFETIME_TOTALS + _LIFETIME_ROWS.format(
    pages=_LIFETIME_PAGE_OF.format(totals="counted_day")
    + "\nUNION ALL\n"
    + _LIFETIME_PAGE_OF.format(totals="added_up"),
    sighting=LIFETIME_SIGHTING,
)
# One whole day's page from its rows of process_days alone (none while a snapshot of the day
# is not counted): PostgreSQL plans no part of a WITH query that nothing reads, so this costs
# a fraction of LIFETIME_PAGE's planning (2 of its 2.5 ms on the benchmark fleet).
LIFETIME_DAY_PAGE = LIFETIME_TOTALS + _LIFETIME_ROWS.format(
    pages=_LIFETIME_PAGE_OF.format(totals="counted_day"), sighting=LIFETIME_SIGHTING
)

LIFETIME_COUNT = (
    LIFETIME_TOTALS
    + """SELECT count(*) AS total
FROM (SELECT * FROM counted_day UNION ALL SELECT * FROM added_up) AS l {joins}
WHERE {where}"""
)

# The machine's CPU count of each snapshot, for the processes that divide by it.
CPU_COUNTS = "SELECT id, cpu_count FROM commands WHERE id = ANY(%(ids)s::bigint[])"

# The whole listings, only for the snapshots whose rawOutput a query selects: each looked up
# by its id and timestamp in the one partition of raw_outputs that holds it; NULL where
# retention dropped that partition.
_LISTINGS = """
SELECT wanted.id, {}
FROM unnest(%(ids)s::bigint[], %(times)s::timestamptz[]) AS wanted (id, "timestamp")
LEFT JOIN LATERAL (
    SELECT raw_output FROM raw_outputs AS r
    WHERE r.command_id = wanted.id AND r."timestamp" = wanted."timestamp"
) AS listing ON true
"""
RAW_OUTPUTS = _LISTINGS.format("listing.raw_output")

# A listing's size in bytes, read from its TOAST pointer: the text is not fetched or
# decompressed, so it can be charged to the request's answer before it is read.
RAW_OUTPUT_SIZES = _LISTINGS.format("octet_length(listing.raw_output) AS size")
