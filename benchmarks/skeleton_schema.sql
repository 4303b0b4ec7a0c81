-- The schema as the walking skeleton left it (commit 87de8bb), for the ingest benchmark's
-- comparison: its keys, indexes and storage, plus the columns the worker has written since
-- (format, metadata, memory_usage_bytes, truncated_fields, process history's columns and
-- tables, the snapshot's labels and CPU count, and the machines table) and where it writes
-- the listing's text (raw_outputs), so that the same worker runs on it.

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
    metadata        jsonb       NOT NULL DEFAULT '{}',
    received_at     timestamptz NOT NULL DEFAULT now(),
    history_revision integer    NOT NULL DEFAULT 0,
    rolled_up_at    timestamptz,
    labels          jsonb       NOT NULL DEFAULT '{}',
    cpu_count       integer,
    -- The dedupe key; its leading (machine_id, "timestamp") also serves per-machine time ranges.
    CONSTRAINT commands_snapshot_key UNIQUE (machine_id, "timestamp", content_hash)
);

CREATE INDEX IF NOT EXISTS commands_timestamp_idx ON commands ("timestamp");

-- The listing's text, which the skeleton kept in commands.raw_output (compressed alike).
CREATE TABLE IF NOT EXISTS raw_outputs (
    command_id  bigint      NOT NULL,
    "timestamp" timestamptz NOT NULL,
    raw_output  text        NOT NULL
);

-- One row per process of a snapshot, in normalized units.
CREATE TABLE IF NOT EXISTS processes (
    command_id        bigint      NOT NULL REFERENCES commands (id) ON DELETE CASCADE,
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
    start_time_precision real,
    process_key       bigint,
    interval_seconds  real,
    interval_cpu_percent real,
    -- The key is also the processes(command_id) index: a snapshot's rows, in listing order.
    CONSTRAINT processes_pkey PRIMARY KEY (command_id, line_number)
);

CREATE INDEX IF NOT EXISTS processes_pid_name_idx ON processes (pid, process_name);
CREATE INDEX IF NOT EXISTS processes_user_idx ON processes ("user");
CREATE INDEX IF NOT EXISTS processes_machine_observed_idx ON processes (machine_id, observed_at);

-- Process history's tables, which the worker writes (where each process was first seen) and
-- its rollup rounds (the counted days), as procmon/migrations/0002_process_history.sql has them.
CREATE TABLE IF NOT EXISTS process_keys (
    process_key bigint      NOT NULL,
    machine_id  text        NOT NULL,
    first_seen  timestamptz NOT NULL,
    CONSTRAINT process_keys_pkey PRIMARY KEY (process_key)
);

CREATE TABLE IF NOT EXISTS process_days (
    machine_id               text             NOT NULL,
    day                      date             NOT NULL,
    process_key              bigint           NOT NULL,
    pid                      integer          NOT NULL,
    process_name             text             NOT NULL,
    "user"                   text,
    command_line             text,
    start_time               timestamptz,
    first_seen               timestamptz      NOT NULL,
    last_seen                timestamptz      NOT NULL,
    snapshot_count           integer          NOT NULL,
    cpu_seconds              double precision NOT NULL,
    interval_seconds         double precision NOT NULL,
    max_interval_cpu_percent real,
    max_rss_bytes            bigint,
    CONSTRAINT process_days_pkey PRIMARY KEY (machine_id, day, process_key)
);

-- The machines the worker keeps, as procmon/migrations/0004_machines.sql has them.
CREATE TABLE IF NOT EXISTS machines (
    machine_id          text        NOT NULL,
    machine_name        text        NOT NULL,
    os_type             text        NOT NULL,
    os_version          text        NOT NULL,
    labels              jsonb       NOT NULL,
    cpu_count           integer,
    first_seen          timestamptz NOT NULL,
    last_seen           timestamptz NOT NULL,
    latest_snapshot_id  bigint      NOT NULL,
    latest_content_hash text        NOT NULL,
    snapshot_count      bigint      NOT NULL,
    CONSTRAINT machines_pkey PRIMARY KEY (machine_id)
);

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
    -- A redelivered bad message is recorded once.
    CONSTRAINT ingest_errors_message_key UNIQUE (topic, "partition", "offset")
);

-- The walking skeleton's tables are not partitioned: the worker's call for the partitions of
-- a batch's days (procmon/migrations/0006_partitions.sql) has nothing to create.
CREATE OR REPLACE FUNCTION procmon_ensure_partitions(moments timestamptz[], width_days integer)
RETURNS SETOF text LANGUAGE sql AS 'SELECT NULL::text WHERE false';
