"""Every SQL statement the worker runs. Values are always bound parameters."""

from __future__ import annotations

from collections.abc import Sequence

from procmon.columns import COPY_COLUMNS

__all__ = [
    "BUMP_HISTORY_REVISIONS",
    "COPY_PROCESSES",
    "COPY_UNTRUNCATED_PROCESSES",
    "COUNT_PICKED",
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
    "UNCOUNT_MACHINE_DAYS",
    "UNTRUNCATED_COLUMN_TYPES",
    "UPDATE_HISTORY",
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

# The columns each COPY row carries, in order, with their types (procmon.columns declares
# them): COPY is binary, which spares both Python and PostgreSQL the text formatting and
# parsing of every value. The snapshot's three come first, then a ProcessRow's fields in its
# own order, then the row's history, so that a row is written as the snapshot's values, the
# row itself, unpacked by no one, and its history.
PROCESS_COLUMNS = tuple(column.name for column in COPY_COLUMNS)
PROCESS_COLUMN_TYPES = tuple(str(column.sql_type) for column in COPY_COLUMNS)

_COPY = "COPY processes ({}) FROM STDIN (FORMAT binary)"
COPY_PROCESSES = _COPY.format(", ".join(column.sql_name for column in COPY_COLUMNS))
# Every column but truncated_fields, which then takes its default, '{}'.
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
MACHINE_IDS = "SELECT DISTINCT machine_id FROM commands ORDER BY machine_id"
MACHINE_SNAPSHOTS = """
SELECT id, "timestamp", content_hash FROM commands WHERE machine_id = %s
ORDER BY "timestamp", content_hash
"""
# What linking reads of stored rows (streams.history.StoredRow's fields, in order). Here and
# below, a snapshot's rows are named by its id and its timestamp (their observed_at), so that
# only the partitions of those times are read.
SNAPSHOT_HISTORY_ROWS = """
SELECT command_id, line_number, pid, process_name, start_time, start_time_precision,
       cpu_time_seconds, truncated_fields, process_key, interval_seconds, interval_cpu_percent
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

# Forgetting a machine's days waits for the rollups counting the machine to commit.
LOCK_MACHINE_DAYS = f"SELECT pg_advisory_xact_lock({_ROLLUP_LOCK.format('%(machine)s')})"
DELETE_MACHINE_DAYS = """
DELETE FROM process_days WHERE machine_id = %(machine)s AND day = ANY(%(days)s::date[])
"""
UNCOUNT_MACHINE_DAYS = """
UPDATE commands AS c SET rolled_up_at = NULL
FROM unnest(%(days)s::date[]) AS days(day)
WHERE c.machine_id = %(machine)s AND c.rolled_up_at IS NOT NULL
  AND c."timestamp" >= days.day::timestamp AT TIME ZONE 'UTC'
  AND c."timestamp" < (days.day + 1)::timestamp AT TIME ZONE 'UTC'
"""
