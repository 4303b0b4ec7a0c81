"""Every SQL statement the worker runs. Values are always bound parameters."""

from __future__ import annotations

__all__ = [
    "COPY_PROCESSES",
    "INSERT_COMMANDS",
    "INSERT_INGEST_ERRORS",
    "LIST_DEAD_LETTERS",
    "MARK_REPLAYED",
    "PROCESS_COLUMNS",
    "SELECT_FOR_REPLAY",
]

# Snapshot rows of a batch in one statement; an already stored key is skipped, and only
# newly stored snapshots come back, so their processes are written and the others are not.
INSERT_COMMANDS = """
INSERT INTO commands (
    machine_id, machine_name, os_type, os_version, command_type, "timestamp",
    content_hash, schema_version, format, process_count, metadata, raw_output
)
SELECT * FROM unnest(
    %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[],
    %s::text[], %s::smallint[], %s::text[], %s::integer[], %s::jsonb[], %s::text[]
)
ON CONFLICT ON CONSTRAINT commands_snapshot_key DO NOTHING
RETURNING id, machine_id, "timestamp", content_hash
"""

# The order of the values each COPY row carries.
PROCESS_COLUMNS: tuple[str, ...] = (
    "command_id",
    "line_number",
    "machine_id",
    "observed_at",
    "pid",
    "ppid",
    "user",
    "process_name",
    "command_line",
    "cpu_percent",
    "memory_percent",
    "rss_bytes",
    "vsz_bytes",
    "memory_usage_bytes",
    "status",
    "status_raw",
    "start_time",
    "cpu_time_seconds",
    "tty",
    "threads",
    "nice",
    "priority",
    "truncated_fields",
)

COPY_PROCESSES = "COPY processes ({}) FROM STDIN".format(
    ", ".join(f'"{column}"' for column in PROCESS_COLUMNS)
)

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
