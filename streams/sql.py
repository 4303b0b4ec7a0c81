"""Every SQL statement the worker runs. Values are always bound parameters."""

from __future__ import annotations

from procmon.columns import COPY_COLUMNS

__all__ = [
    "COPY_PROCESSES",
    "COPY_UNTRUNCATED_PROCESSES",
    "INSERT_COMMANDS",
    "INSERT_INGEST_ERRORS",
    "LIST_DEAD_LETTERS",
    "MARK_REPLAYED",
    "PROCESS_COLUMNS",
    "PROCESS_COLUMN_TYPES",
    "SELECT_FOR_REPLAY",
]

# Snapshot rows of a batch in one statement; an already stored key is skipped, and only
# newly stored snapshots come back, so their processes are written and the others are not.
# The arrays go in binary (%b): as text, quoting and escaping a batch's raw outputs cost the
# worker a microsecond per process row.
INSERT_COMMANDS = """
INSERT INTO commands (
    machine_id, machine_name, os_type, os_version, command_type, "timestamp",
    content_hash, schema_version, format, process_count, metadata, raw_output
)
SELECT * FROM unnest(
    %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[],
    %b::text[], %b::smallint[], %b::text[], %b::integer[], %b::jsonb[], %b::text[]
)
ON CONFLICT ON CONSTRAINT commands_snapshot_key DO NOTHING
RETURNING id, machine_id, "timestamp", content_hash
"""

# The columns each COPY row carries, in order, with their types (procmon.columns declares
# them): COPY is binary, which spares both Python and PostgreSQL the text formatting and
# parsing of every value. The snapshot's three come first, then a ProcessRow's fields in its
# own order, so that a row is written as the snapshot's values and the row itself, unpacked
# by no one.
PROCESS_COLUMNS = tuple(column.name for column in COPY_COLUMNS)
PROCESS_COLUMN_TYPES = tuple(str(column.sql_type) for column in COPY_COLUMNS)

_COPY = "COPY processes ({}) FROM STDIN (FORMAT binary)"
COPY_PROCESSES = _COPY.format(", ".join(column.sql_name for column in COPY_COLUMNS))
# Every column but the last, truncated_fields, which then takes its default, '{}'.
COPY_UNTRUNCATED_PROCESSES = _COPY.format(
    ", ".join(column.sql_name for column in COPY_COLUMNS[:-1])
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
