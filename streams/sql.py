"""Every SQL statement the worker runs, and the machines summary made again from stored
snapshots (:data:`SUMMARIZE_MACHINES`). Values are always bound parameters."""

from __future__ import annotations

from collections.abc import Sequence

from procmon.columns import COLUMNS_BY_NAME, COPY_COLUMNS

__all__ = [
    "BUMP_HISTORY_REVISIONS",
    "COPY_PROCESSES",
    "COPY_UNTRUNCATED_PROCESSES",
    "COUNT_PICKED",
    "COUNT_PICKED_STATS",
    "DELETE_MACHINE_DAYS",
    "INSERT_COMMANDS",
    "INSERT_INGEST_ERRORS",
    "INSERT_PROCESS_KEYS",
    "LATEST_SNAPSHOTS",
    "LIST_DEAD_LETTERS",
    "LOCK_MACHINES",
    "LOCK_MACHINE_DAYS",
    "MACHINE_IDS",
    "MACHINE_SNAPSHOTS",
    "MARK_COUNTED",
    "MARK_REPLAYED",
    "NEXT_SNAPSHOT",
    "PICK_PENDING",
    "PREVIOUS_SNAPSHOT",
    "PROCESS_COLUMNS",
    "PROCESS_COLUMN_TYPES",
    "RELABEL_CHAINS",
    "ROLLUP_SETTINGS",
    "SELECT_FOR_REPLAY",
    "SNAPSHOT_HISTORY_ROWS",
    "STATS_ROLLUPS",
    "SUMMARIZE_MACHINES",
    "UNCOUNT_MACHINE_DAYS",
    "UNTRUNCATED_COLUMN_TYPES",
    "UPDATE_HISTORY",
    "UPSERT_MACHINES",
    "as_columns",
]


def as_columns(rows: Sequence[tuple[object, ...]]) -> list[list[object]]:
    """Transpose rows into the per-column arrays an ``unnest`` statement takes."""
    return [list(column) for column in zip(*rows, strict=True)]


# Snapshot rows of a batch in one statement, with their listings' texts (raw_outputs); an
# already stored key is skipped, and only newly stored snapshots come back (and have their
# text stored), so their processes are written and the others are not.
# The arrays go in binary (%b): as text, quoting and escaping a batch's raw outputs cost the
# worker a microsecond per process row.
_SNAPSHOT_COLUMNS = """machine_id, machine_name, os_type, os_version, command_type, "timestamp",
    content_hash, schema_version, format, process_count, metadata, labels, cpu_count"""
INSERT_COMMANDS = f"""
WITH listing AS (
    SELECT * FROM unnest(
        %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[],
        %b::text[], %b::smallint[], %b::text[], %b::integer[], %b::jsonb[], %b::jsonb[],
        %b::integer[], %b::text[]
    ) AS listing ({_SNAPSHOT_COLUMNS}, raw_output)
), stored AS (
    INSERT INTO commands ({_SNAPSHOT_COLUMNS})
    SELECT {_SNAPSHOT_COLUMNS} FROM listing
    ON CONFLICT ON CONSTRAINT commands_snapshot_key DO NOTHING
    RETURNING id, machine_id, "timestamp", content_hash
), texts AS (
    INSERT INTO raw_outputs (command_id, "timestamp", raw_output)
    SELECT stored.id, stored."timestamp", listing.raw_output
    FROM stored JOIN listing USING (machine_id, "timestamp", content_hash)
)
SELECT id, machine_id, "timestamp", content_hash FROM stored
"""

# The machines table (README "The worker and delivery"): a batch's machines in one statement, each
# row made in Python from the snapshots the batch stored now (a duplicate is not among them, so
# it is never counted twice). The latest snapshot is the greatest ("timestamp", content_hash)
# whatever order snapshots arrive in. Rows are locked in machine id order, so two writers
# cannot deadlock on them.
_MACHINE_COLUMNS = (
    "machine_id", "machine_name", "os_type", "os_version", "labels", "cpu_count", "first_seen",
    "last_seen", "latest_snapshot_id", "latest_content_hash", "snapshot_count",
)  # fmt: skip
# What the latest snapshot says, and its time and key.
_OF_LATEST = tuple(
    column
    for column in _MACHINE_COLUMNS
    if column not in ("machine_id", "first_seen", "snapshot_count")
)
_IF_LATER = (
    "CASE WHEN (excluded.last_seen, excluded.latest_content_hash)"
    " > (m.last_seen, m.latest_content_hash) THEN excluded.{0} ELSE m.{0} END"
)
UPSERT_MACHINES = f"""
INSERT INTO machines AS m ({", ".join(_MACHINE_COLUMNS)})
SELECT * FROM unnest(
    %b::text[], %b::text[], %b::text[], %b::text[], %b::jsonb[], %b::integer[],
    %b::timestamptz[], %b::timestamptz[], %b::bigint[], %b::text[], %b::bigint[]
) AS v ({", ".join(_MACHINE_COLUMNS)})
ORDER BY v.machine_id
ON CONFLICT ON CONSTRAINT machines_pkey DO UPDATE SET
    {", ".join(f"{column} = {_IF_LATER.format(column)}" for column in _OF_LATEST)},
    first_seen = least(m.first_seen, excluded.first_seen),
    snapshot_count = m.snapshot_count + excluded.snapshot_count
"""
# Every machine's row made again from all its stored snapshots, as migration 0004 first filled
# the table: for snapshots stored other than by the worker (the API benchmark's fleet,
# generated in SQL; tests' fixtures).
SUMMARIZE_MACHINES = f"""
INSERT INTO machines AS m ({", ".join(_MACHINE_COLUMNS)})
SELECT stats.machine_id, latest.machine_name, latest.os_type, latest.os_version, latest.labels,
       latest.cpu_count, stats.first_seen, latest."timestamp", latest.id, latest.content_hash,
       stats.snapshot_count
FROM (
    SELECT machine_id, min("timestamp") AS first_seen, count(*) AS snapshot_count
    FROM commands
    GROUP BY machine_id
) AS stats
CROSS JOIN LATERAL (
    SELECT id, machine_name, os_type, os_version, labels, cpu_count, "timestamp", content_hash
    FROM commands
    WHERE commands.machine_id = stats.machine_id
    ORDER BY "timestamp" DESC, content_hash DESC
    LIMIT 1
) AS latest
ORDER BY stats.machine_id
ON CONFLICT ON CONSTRAINT machines_pkey DO UPDATE SET
    {", ".join(f"{column} = excluded.{column}" for column in _MACHINE_COLUMNS[1:])}
"""

# The columns each COPY row carries, in order, with their types (procmon.columns declares
# them): COPY is binary, which spares both Python and PostgreSQL the text formatting and
# parsing of every value. The snapshot's three come first, then a ProcessRow's fields in its
# own order, then the row's history, so that a row is written as the snapshot's values, the
# row itself, unpacked by no one, and its history.
PROCESS_COLUMNS = tuple(column.name for column in COPY_COLUMNS)
PROCESS_COLUMN_TYPES = tuple(str(column.sql_type) for column in COPY_COLUMNS)

_COPY = "COPY processes ({}) FROM STDIN (FORMAT binary)"
COPY_PROCESSES = _COPY.format(", ".join(column.sql_name for column in COPY_COLUMNS))
# Every column but truncated_fields, which is then NULL: no field was cut (procmon.columns).
_UNTRUNCATED = tuple(column for column in COPY_COLUMNS if column.name != "truncated_fields")
UNTRUNCATED_COLUMN_TYPES = tuple(str(column.sql_type) for column in _UNTRUNCATED)
COPY_UNTRUNCATED_PROCESSES = _COPY.format(", ".join(column.sql_name for column in _UNTRUNCATED))

# Process history (streams.history). A machine's snapshots are in the order of
# ("timestamp", content_hash), which the dedupe key's index serves.
# The latest snapshot of each machine, those of the batch being written left out.
LATEST_SNAPSHOTS = """
SELECT m.machine_id, c.id, c.history_revision, c."timestamp", c.content_hash
FROM unnest(%(machines)s::text[]) AS m(machine_id)
CROSS JOIN LATERAL (
    SELECT id, history_revision, "timestamp", content_hash FROM commands
    WHERE commands.machine_id = m.machine_id AND id <> ALL(%(exclude)s::bigint[])
    ORDER BY "timestamp" DESC, content_hash DESC
    LIMIT 1
) AS c
"""
PREVIOUS_SNAPSHOT = """
SELECT id, "timestamp", content_hash FROM commands
WHERE machine_id = %s AND ("timestamp", content_hash) < (%s::timestamptz, %s::text)
ORDER BY "timestamp" DESC, content_hash DESC
LIMIT 1
"""
NEXT_SNAPSHOT = """
SELECT id, "timestamp", content_hash FROM commands
WHERE machine_id = %s AND ("timestamp", content_hash) > (%s::timestamptz, %s::text)
ORDER BY "timestamp", content_hash
LIMIT 1
"""
# Every machine, and one machine's snapshots in its order (procmon relink).
MACHINE_IDS = "SELECT machine_id FROM machines ORDER BY machine_id"
MACHINE_SNAPSHOTS = """
SELECT id, "timestamp", content_hash FROM commands WHERE machine_id = %s
ORDER BY "timestamp", content_hash
"""
# What linking reads of stored rows (streams.history.StoredRow's fields, in order). Here and
# below, a snapshot's rows are named by its id and its timestamp (their observed_at), so that
# only the partitions of those times are read.
_HISTORY_READ = (
    "command_id", "line_number", "pid", "process_name", "start_time", "start_time_precision",
    "cpu_time_seconds", "truncated_fields", "process_key", "interval_seconds",
    "interval_cpu_percent",
)  # fmt: skip
SNAPSHOT_HISTORY_ROWS = f"""
SELECT {", ".join(COLUMNS_BY_NAME[name].select_sql("processes") for name in _HISTORY_READ)}
FROM processes WHERE command_id = ANY(%s::bigint[]) AND observed_at = ANY(%s::timestamptz[])
ORDER BY command_id, line_number
"""
# Writers of one machine take turns (the machines in sorted order: no deadlock). The
# two-key form keeps these locks apart from the migrations' one-key locks.
LOCK_MACHINES = """
SELECT pg_advisory_xact_lock(1751, hashtext(machine_id)) FROM unnest(%s::text[]) AS m(machine_id)
"""
UPDATE_HISTORY = """
UPDATE processes AS p
SET process_key = v.process_key, interval_seconds = v.interval_seconds,
    interval_cpu_percent = v.interval_cpu_percent
FROM unnest(%s::integer[], %s::bigint[], %s::real[], %s::real[])
     AS v(line_number, process_key, interval_seconds, interval_cpu_percent)
WHERE p.command_id = %s AND p.observed_at = %s AND p.line_number = v.line_number
"""
# A key that changed in one snapshot changes in the rest of its chain: the machine's rows
# after that snapshot (in the machine's order) that carry the old key.
RELABEL_CHAINS = """
UPDATE processes AS p SET process_key = r.new_key
FROM unnest(%(old)s::bigint[], %(new)s::bigint[]) AS r(old_key, new_key)
WHERE p.process_key = r.old_key AND p.machine_id = %(machine_id)s
  AND p.observed_at >= %(timestamp)s AND p.command_id <> ALL(%(skip)s::bigint[])
  AND (p.observed_at > %(timestamp)s OR p.command_id IN (
      SELECT id FROM commands WHERE machine_id = %(machine_id)s
        AND "timestamp" = %(timestamp)s AND content_hash > %(content_hash)s))
RETURNING p.command_id, p.observed_at
"""
# Where processes were first seen; a key a relink leaves unused keeps its row (it names no
# rows, and a process seen first there again gets it back).
INSERT_PROCESS_KEYS = """
INSERT INTO process_keys (process_key, machine_id, first_seen)
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[])
ON CONFLICT ON CONSTRAINT process_keys_pkey DO NOTHING
"""
# Snapshots whose rows' history was rewritten: their UTC day, and whether the rollup counted it.
BUMP_HISTORY_REVISIONS = """
UPDATE commands SET history_revision = history_revision + 1
WHERE id = ANY(%s::bigint[]) AND "timestamp" = ANY(%s::timestamptz[])
RETURNING ("timestamp" AT TIME ZONE 'UTC')::date, rolled_up_at IS NOT NULL
"""

# A redelivered bad message is recorded once.
INSERT_INGEST_ERRORS = """
INSERT INTO ingest_errors (
    topic, "partition", "offset", message_key, raw_message, error_class, reason,
    line_number, machine_id, content_hash
)
SELECT * FROM unnest(
    %s::text[], %s::integer[], %s::bigint[], %s::bytea[], %s::bytea[], %s::text[], %s::text[],
    %s::integer[], %s::text[], %s::text[]
)
ON CONFLICT ON CONSTRAINT ingest_errors_message_key DO NOTHING
"""

# Newest first; a NULL filter means "any".
LIST_DEAD_LETTERS = """
SELECT id, received_at, topic, "partition", "offset", machine_id, error_class, reason,
       line_number, replayed_at
FROM ingest_errors
WHERE received_at >= COALESCE(%(since)s::timestamptz, '-infinity')
ORDER BY id DESC
LIMIT %(limit)s
"""

# Not yet replayed, by id or received since a time; locked so two replays don't race.
SELECT_FOR_REPLAY = """
SELECT id, message_key, raw_message
FROM ingest_errors
WHERE replayed_at IS NULL
  AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))
  AND received_at >= COALESCE(%(since)s::timestamptz, '-infinity')
ORDER BY id
FOR UPDATE SKIP LOCKED
"""

MARK_REPLAYED = "UPDATE ingest_errors SET replayed_at = now() WHERE id = ANY(%s::bigint[])"

# The daily rollup (streams.rollup). A machine's process_days rows are added to under a shared
# advisory lock on the machine and forgotten under an exclusive one: a rollup that counted
# some of a machine's snapshots while a relink forgot its days would otherwise leave counts in
# process_days for snapshots marked to be counted again. The rollup only tries the lock (a
# machine being relinked waits for the next round), so it never waits on a writer.
_ROLLUP_LOCK = "1886547811, hashtext({})"  # 1886547811 is 'proc' in ASCII

# For the round's transaction: a round's plan is costed over the process rows of its snapshots,
# high enough for JIT, which then took longer to compile than the statement took to run; and
# its sorts keep to memory.
ROLLUP_SETTINGS = "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"

# The oldest pending snapshots of the machines whose lock could be had, locked themselves so
# that rollups running at once share the work.
PICK_PENDING = f"""
WITH oldest AS (
    SELECT machine_id FROM commands WHERE rolled_up_at IS NULL
    ORDER BY "timestamp" LIMIT %(limit)s
), counted_machines AS (
    SELECT machine_id FROM (SELECT DISTINCT machine_id FROM oldest) AS machines
    WHERE pg_try_advisory_xact_lock_shared({_ROLLUP_LOCK.format("machine_id")})
)
SELECT id, "timestamp" FROM commands
WHERE rolled_up_at IS NULL AND machine_id IN (SELECT machine_id FROM counted_machines)
ORDER BY "timestamp" LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""

# Rows of the picked snapshots added to their machine-days. A later statement than the pick,
# so that it reads the rows as any relink committed before the pick left them. Upserted in
# key order: two rollups adding to the same rows lock them in the same order.
_LAST = "(array_agg(p.{} ORDER BY p.observed_at DESC, p.command_id, p.line_number))[1]"
_LATER = "CASE WHEN excluded.last_seen >= d.last_seen THEN excluded.{0} ELSE d.{0} END"
_SIGHTING = ("pid", "process_name", '"user"', "command_line", "start_time")
COUNT_PICKED = f"""
INSERT INTO process_days AS d (
    machine_id, day, process_key, {", ".join(_SIGHTING)}, first_seen, last_seen,
    snapshot_count, cpu_seconds, interval_seconds, max_interval_cpu_percent, max_rss_bytes
)
SELECT p.machine_id, (p.observed_at AT TIME ZONE 'UTC')::date, p.process_key,
       {", ".join(_LAST.format(column) for column in _SIGHTING)},
       min(p.observed_at), max(p.observed_at), count(DISTINCT p.command_id),
       coalesce(sum(p.interval_cpu_percent::float8 * p.interval_seconds / 100), 0),
       coalesce(sum(p.interval_seconds::float8)
                FILTER (WHERE p.interval_cpu_percent IS NOT NULL), 0),
       max(p.interval_cpu_percent), max(p.rss_bytes)
FROM processes AS p
WHERE p.command_id = ANY(%(ids)s::bigint[]) AND p.observed_at = ANY(%(times)s::timestamptz[])
  AND p.process_key IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT ON CONSTRAINT process_days_pkey DO UPDATE SET
    {", ".join(f"{column} = {_LATER.format(column)}" for column in _SIGHTING)},
    first_seen = least(d.first_seen, excluded.first_seen),
    last_seen = greatest(d.last_seen, excluded.last_seen),
    snapshot_count = d.snapshot_count + excluded.snapshot_count,
    cpu_seconds = d.cpu_seconds + excluded.cpu_seconds,
    interval_seconds = d.interval_seconds + excluded.interval_seconds,
    max_interval_cpu_percent = greatest(d.max_interval_cpu_percent,
                                        excluded.max_interval_cpu_percent),
    max_rss_bytes = greatest(d.max_rss_bytes, excluded.max_rss_bytes)
"""

MARK_COUNTED = """
UPDATE commands SET rolled_up_at = now()
WHERE id = ANY(%(ids)s::bigint[]) AND "timestamp" = ANY(%(times)s::timestamptz[])
"""

# The rollups of processStats: each table, the UTC unit of its buckets, and whether it is kept
# per process name and user (else per machine alone). README "Rollups".
STATS_ROLLUPS = (
    ("stats_hours", "hour", True),
    ("stats_days", "day", True),
    ("stats_machine_hours", "hour", False),
    ("stats_machine_days", "day", False),
)
_STATS_KEY = ("machine_id", "bucket_start", "os_type", "labels")
_STATS_ROW_KEY = ("process_name", '"user"')
# Each aggregate: how a group's value is made of its snapshots' values, and how an upsert
# merges it into the stored one (sums that may be NULL stay NULL only when both are).
_STATS_SUMS = ("cpu_sum", "memory_sum", "rss_sum", "cpu_seconds", "interval_seconds")
_STATS_COUNTS = ("process_count", "cpu_count", "memory_count")
_STATS_MAXIMA = ("cpu_max", "memory_max", "rss_max", "interval_cpu_max")
_STATS_MERGE = (
    [f"{c} = coalesce(d.{c} + excluded.{c}, d.{c}, excluded.{c})" for c in _STATS_SUMS]
    + [f"{c} = d.{c} + excluded.{c}" for c in _STATS_COUNTS]
    + [f"{c} = greatest(d.{c}, excluded.{c})" for c in _STATS_MAXIMA]
)


def _stats_upsert(table: str, unit: str, per_name: bool) -> str:
    """The INSERT adding the picked snapshots (``per_name`` or ``per_snapshot``, below) to
    ``table``, in key order (two rollups adding to the same rows lock them in that order)."""
    key = _STATS_KEY + (_STATS_ROW_KEY if per_name else ())
    snapshots = ["snapshot_count"] + (
        ["name_snapshot_count", "user_snapshot_count"] if per_name else []
    )
    counted = (
        ["sum(snapshots)", "sum(name_snapshots)", "sum(user_snapshots)"]
        if per_name
        else ["count(*)"]
    )
    bucket = f"""date_trunc('{unit}', "timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"""
    selected = [bucket if column == "bucket_start" else column for column in key]
    columns = [*key, *snapshots, *_STATS_SUMS, *_STATS_COUNTS, *_STATS_MAXIMA]
    merged = _STATS_MERGE + [f"{c} = d.{c} + excluded.{c}" for c in snapshots]
    positions = ", ".join(str(n) for n in range(1, len(key) + 1))
    return f"""INSERT INTO {table} AS d ({", ".join(columns)})
SELECT {", ".join(selected)}, {", ".join(counted)},
       {", ".join(f"sum({c})" for c in _STATS_SUMS + _STATS_COUNTS)},
       {", ".join(f"max({c})" for c in _STATS_MAXIMA)}
FROM {"per_name" if per_name else "per_snapshot"}
GROUP BY {positions}
ORDER BY {positions}
ON CONFLICT ({", ".join(key)}) DO UPDATE SET {", ".join(merged)}"""


# The picked snapshots' rows added to every processStats rollup, in one statement that reads
# them once, in one hashed pass of four grouping sets: per snapshot, name and user; per
# snapshot and name, whose first user (min) is credited with the snapshot once for the name;
# per snapshot and user, whose first name is credited once for the user; and per snapshot.
# The credits are rows of their own, added up with the others per key (a join on the user,
# which may be NULL, could not be hashed), and the picked snapshots' columns are joined to the
# groups rather than carried through the grouping.
*_STATS_FIRST, _STATS_LAST = STATS_ROLLUPS
_STATS_WITH = ", ".join(f"{rollup[0]} AS ({_stats_upsert(*rollup)})" for rollup in _STATS_FIRST)
_SNAPSHOT_OF = 'c.machine_id, c."timestamp", c.os_type, c.labels'
_STATS_VALUES = ", ".join(f"s.{c}" for c in (*_STATS_SUMS, *_STATS_COUNTS, *_STATS_MAXIMA))
# A credit's aggregates: nothing to add, in the types of the others.
_TYPES = {"rss_sum": "bigint", "rss_max": "bigint"}
_NO_VALUES = ", ".join(
    [f"NULL::{_TYPES.get(c, 'float8')}" for c in _STATS_SUMS]
    + ["0::bigint" for _ in _STATS_COUNTS]
    + [f"NULL::{_TYPES.get(c, 'real')}" for c in _STATS_MAXIMA]
)
_BY_SNAPSHOT = "FROM sets AS s JOIN picked AS c ON c.id = s.command_id WHERE s.level"
COUNT_PICKED_STATS = f"""
WITH picked AS MATERIALIZED (
    SELECT id, machine_id, "timestamp", os_type, labels
    FROM commands
    WHERE id = ANY(%(ids)s::bigint[]) AND "timestamp" = ANY(%(times)s::timestamptz[])
), sets AS MATERIALIZED (
    SELECT p.command_id, p.process_name, p."user",
           GROUPING(p.process_name, p."user") AS level,
           min(p."user") AS first_user, min(p.process_name) AS first_name,
           sum(p.cpu_percent::float8) AS cpu_sum, sum(p.memory_percent::float8) AS memory_sum,
           sum(p.interval_cpu_percent::float8 * p.interval_seconds / 100) AS cpu_seconds,
           sum(p.interval_seconds::float8) FILTER (WHERE p.interval_cpu_percent IS NOT NULL)
               AS interval_seconds,
           sum(p.rss_bytes)::bigint AS rss_sum,
           count(*) AS process_count, count(p.cpu_percent) AS cpu_count,
           count(p.memory_percent) AS memory_count,
           max(p.cpu_percent) AS cpu_max, max(p.memory_percent) AS memory_max,
           max(p.rss_bytes) AS rss_max, max(p.interval_cpu_percent) AS interval_cpu_max
    FROM processes AS p
    WHERE p.command_id = ANY(%(ids)s::bigint[]) AND p.observed_at = ANY(%(times)s::timestamptz[])
    GROUP BY GROUPING SETS ((p.command_id, p.process_name, p."user"),
                            (p.command_id, p.process_name), (p.command_id, p."user"),
                            (p.command_id))
), per_name AS MATERIALIZED (
    SELECT {_SNAPSHOT_OF}, s.process_name, s."user", 1 AS snapshots, 0 AS name_snapshots,
           0 AS user_snapshots, {_STATS_VALUES}
    {_BY_SNAPSHOT} = 0
    UNION ALL
    SELECT {_SNAPSHOT_OF}, s.process_name, s.first_user, 0, 1, 0, {_NO_VALUES}
    {_BY_SNAPSHOT} = 1
    UNION ALL
    SELECT {_SNAPSHOT_OF}, s.first_name, s."user", 0, 0, 1, {_NO_VALUES}
    {_BY_SNAPSHOT} = 2
), per_snapshot AS (
    SELECT {_SNAPSHOT_OF}, {_STATS_VALUES} {_BY_SNAPSHOT} = 3
), {_STATS_WITH}
{_stats_upsert(*_STATS_LAST)}
"""

# Forgetting a machine's days waits for the rollups counting the machine to commit.
LOCK_MACHINE_DAYS = f"SELECT pg_advisory_xact_lock({_ROLLUP_LOCK.format('%(machine)s')})"
_DAYS_OF_MACHINE = (
    "machine_id = %(machine)s AND (bucket_start AT TIME ZONE 'UTC')::date = ANY(%(days)s::date[])"
)
DELETE_MACHINE_DAYS = f"""
WITH {
    ", ".join(
        f"{table} AS (DELETE FROM {table} WHERE {_DAYS_OF_MACHINE})"
        for table, _, _ in STATS_ROLLUPS
    )
}
DELETE FROM process_days WHERE machine_id = %(machine)s AND day = ANY(%(days)s::date[])
"""
UNCOUNT_MACHINE_DAYS = """
UPDATE commands AS c SET rolled_up_at = NULL
FROM unnest(%(days)s::date[]) AS days(day)
WHERE c.machine_id = %(machine)s AND c.rolled_up_at IS NOT NULL
  AND c."timestamp" >= days.day::timestamp AT TIME ZONE 'UTC'
  AND c."timestamp" < (days.day + 1)::timestamp AT TIME ZONE 'UTC'
"""
