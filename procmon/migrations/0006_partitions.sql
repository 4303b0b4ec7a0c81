-- Time partitions (README "Partitions and retention"): commands and raw_outputs (the
-- listings' text, moved out of commands) by "timestamp", processes by observed_at,
-- process_days by day and the stats_* rollups by bucket_start, in ranges of whole UTC days,
-- so that a question over a time range reads the partitions of that range only and retention drops whole partitions, never rows.
-- The tables are made again as partitioned tables and every row is copied into them (ids
-- kept), in one-day partitions for the days they hold; `procmon migrate` then creates the
-- partitions ahead of time, PROCMON_PARTITION_DAYS wide, and the worker those of the days it
-- is given. No DEFAULT partition: a partition created later for days a DEFAULT partition holds
-- rows of would fail, and one that holds none would still be scanned under an exclusive lock.

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

-- The tables as they were step aside, with their indexes and the identity's sequence, so that
-- the partitioned tables take their names.
ALTER TABLE commands RENAME TO commands_unpartitioned;
ALTER INDEX commands_pkey RENAME TO commands_unpartitioned_pkey;
ALTER INDEX commands_snapshot_key RENAME TO commands_unpartitioned_snapshot_key;
ALTER INDEX commands_timestamp_idx RENAME TO commands_unpartitioned_timestamp_idx;
ALTER INDEX commands_unrolled_idx RENAME TO commands_unpartitioned_unrolled_idx;
ALTER INDEX commands_labels_idx RENAME TO commands_unpartitioned_labels_idx;
ALTER SEQUENCE commands_id_seq RENAME TO commands_unpartitioned_id_seq;
ALTER TABLE processes RENAME TO processes_unpartitioned;
ALTER INDEX processes_pkey RENAME TO processes_unpartitioned_pkey;
ALTER INDEX processes_name_observed_idx RENAME TO processes_unpartitioned_name_observed_idx;
ALTER INDEX processes_machine_observed_idx RENAME TO processes_unpartitioned_machine_observed_idx;
ALTER TABLE process_days RENAME TO process_days_unpartitioned;
ALTER INDEX process_days_pkey RENAME TO process_days_unpartitioned_pkey;
ALTER INDEX process_days_day_cpu_idx RENAME TO process_days_unpartitioned_day_cpu_idx;

-- A key of a partitioned table includes its partition key: the id is unique with its
-- timestamp (an id is never given twice all the same), the dedupe key had it already.
CREATE TABLE commands (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    machine_id      text        NOT NULL,
    machine_name    text        NOT NULL,
    os_type         text        NOT NULL,
    os_version      text        NOT NULL,
    command_type    text        NOT NULL,
    "timestamp"     timestamptz NOT NULL,
    content_hash    text        NOT NULL
        CONSTRAINT commands_content_hash_check CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    schema_version  smallint    NOT NULL,
    format          text        NOT NULL,
    process_count   integer     NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}',
    received_at     timestamptz NOT NULL DEFAULT now(),
    history_revision integer    NOT NULL DEFAULT 0,
    rolled_up_at    timestamptz,
    labels          jsonb       NOT NULL DEFAULT '{}',
    cpu_count       integer,
    CONSTRAINT commands_pkey PRIMARY KEY (id, "timestamp"),
    CONSTRAINT commands_snapshot_key UNIQUE (machine_id, "timestamp", content_hash)
) PARTITION BY RANGE ("timestamp");

CREATE INDEX commands_timestamp_idx ON commands ("timestamp");
CREATE INDEX commands_unrolled_idx ON commands ("timestamp") WHERE rolled_up_at IS NULL;
CREATE INDEX commands_labels_idx ON commands USING gin (labels);

-- A listing's text, apart from its snapshot's row and in partitions of its own, so that
-- PROCMON_RAW_OUTPUT_RETENTION_DAYS drops the texts of days whose snapshots stay.
CREATE TABLE raw_outputs (
    command_id  bigint      NOT NULL,
    "timestamp" timestamptz NOT NULL,
    raw_output  text        NOT NULL,
    CONSTRAINT raw_outputs_pkey PRIMARY KEY (command_id, "timestamp")
) PARTITION BY RANGE ("timestamp");

-- As 0001 did for commands, where the server has lz4; each partition takes its parent's
-- method (LIKE ... INCLUDING COMPRESSION in procmon_ensure_partitions).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE raw_outputs ALTER COLUMN raw_output SET COMPRESSION lz4;
    END IF;
END
$$;

-- observed_at is the snapshot's "timestamp": a snapshot's rows are in the partition of its
-- commands row's day, and a question about a snapshot's rows names both.
CREATE TABLE processes (
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
    start_time_precision real,
    process_key       bigint,
    interval_seconds  real,
    interval_cpu_percent real,
    CONSTRAINT processes_pkey PRIMARY KEY (command_id, line_number, observed_at)
) PARTITION BY RANGE (observed_at);

CREATE INDEX processes_name_observed_idx ON processes (process_name, observed_at);
CREATE INDEX processes_machine_observed_idx ON processes (machine_id, observed_at)
    INCLUDE (process_key);

-- The daily rollup by day, so that PROCMON_ROLLUP_RETENTION_DAYS drops whole days of it. LIKE
-- keeps its columns as they are, in their order.
CREATE TABLE process_days (
    LIKE process_days_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE,
    CONSTRAINT process_days_pkey PRIMARY KEY (machine_id, day, process_key)
) PARTITION BY RANGE (day);

CREATE INDEX process_days_day_cpu_idx ON process_days (day, cpu_seconds DESC);

-- The rollups of processStats (migration 0005) by their bucket's start, so that
-- PROCMON_ROLLUP_RETENTION_DAYS drops their days as it drops process_days'. The tables as they
-- were step aside with their indexes, renamed so that the new tables' indexes take their names.
ALTER TABLE stats_hours RENAME TO stats_hours_unpartitioned;
ALTER TABLE stats_days RENAME TO stats_days_unpartitioned;
ALTER TABLE stats_machine_hours RENAME TO stats_machine_hours_unpartitioned;
ALTER TABLE stats_machine_days RENAME TO stats_machine_days_unpartitioned;
DO $$
DECLARE
    old record;
BEGIN
    FOR old IN
        SELECT i.indexrelid::regclass::text AS name, i.indexrelid AS oid
        FROM pg_index AS i
        WHERE i.indrelid IN ('stats_hours_unpartitioned'::regclass,
                             'stats_days_unpartitioned'::regclass,
                             'stats_machine_hours_unpartitioned'::regclass,
                             'stats_machine_days_unpartitioned'::regclass)
    LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', old.name, 'stats_unpartitioned_' || old.oid);
    END LOOP;
END
$$;

CREATE TABLE stats_hours (
    LIKE stats_hours_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE,
    CONSTRAINT stats_hours_key UNIQUE NULLS NOT DISTINCT
        (machine_id, bucket_start, os_type, labels, process_name, "user")
) PARTITION BY RANGE (bucket_start);
CREATE INDEX stats_hours_bucket_start_idx ON stats_hours (bucket_start);
CREATE TABLE stats_days (LIKE stats_hours INCLUDING ALL) PARTITION BY RANGE (bucket_start);

CREATE TABLE stats_machine_hours (
    LIKE stats_machine_hours_unpartitioned
        INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE,
    CONSTRAINT stats_machine_hours_key UNIQUE (machine_id, bucket_start, os_type, labels)
) PARTITION BY RANGE (bucket_start);
CREATE INDEX stats_machine_hours_bucket_start_idx ON stats_machine_hours (bucket_start);
CREATE TABLE stats_machine_days (LIKE stats_machine_hours INCLUDING ALL)
    PARTITION BY RANGE (bucket_start);

-- A partition for every day the rows are of, then the rows, ids and all.
SELECT count(*) FROM procmon_ensure_partitions(
    array(SELECT DISTINCT date_trunc('day', "timestamp", 'UTC') FROM commands_unpartitioned
          UNION
          SELECT DISTINCT date_trunc('day', observed_at, 'UTC') FROM processes_unpartitioned
          UNION
          SELECT DISTINCT day::timestamp AT TIME ZONE 'UTC' FROM process_days_unpartitioned
          UNION
          SELECT DISTINCT date_trunc('day', bucket_start, 'UTC') FROM stats_hours_unpartitioned
          UNION
          SELECT DISTINCT date_trunc('day', bucket_start, 'UTC') FROM stats_days_unpartitioned
          UNION
          SELECT DISTINCT date_trunc('day', bucket_start, 'UTC')
          FROM stats_machine_hours_unpartitioned
          UNION
          SELECT DISTINCT date_trunc('day', bucket_start, 'UTC')
          FROM stats_machine_days_unpartitioned),
    1);

INSERT INTO commands (
    id, machine_id, machine_name, os_type, os_version, command_type, "timestamp", content_hash,
    schema_version, format, process_count, metadata, received_at, history_revision,
    rolled_up_at, labels, cpu_count
)
OVERRIDING SYSTEM VALUE
SELECT id, machine_id, machine_name, os_type, os_version, command_type, "timestamp",
       content_hash, schema_version, format, process_count, metadata, received_at,
       history_revision, rolled_up_at, labels, cpu_count
FROM commands_unpartitioned;
INSERT INTO raw_outputs (command_id, "timestamp", raw_output)
SELECT id, "timestamp", raw_output FROM commands_unpartitioned;
-- The next id is the one the table before would have given.
SELECT setval(pg_get_serial_sequence('commands', 'id'), last_value, is_called)
FROM commands_unpartitioned_id_seq;

INSERT INTO processes (
    command_id, line_number, machine_id, observed_at, pid, ppid, "user", process_name,
    command_line, cpu_percent, memory_percent, rss_bytes, vsz_bytes, memory_usage_bytes, status,
    status_raw, start_time, cpu_time_seconds, tty, threads, nice, priority, truncated_fields,
    start_time_precision, process_key, interval_seconds, interval_cpu_percent
)
SELECT command_id, line_number, machine_id, observed_at, pid, ppid, "user", process_name,
       command_line, cpu_percent, memory_percent, rss_bytes, vsz_bytes, memory_usage_bytes,
       status, status_raw, start_time, cpu_time_seconds, tty, threads, nice, priority,
       truncated_fields, start_time_precision, process_key, interval_seconds,
       interval_cpu_percent
FROM processes_unpartitioned;

INSERT INTO process_days SELECT * FROM process_days_unpartitioned;
INSERT INTO stats_hours SELECT * FROM stats_hours_unpartitioned;
INSERT INTO stats_days SELECT * FROM stats_days_unpartitioned;
INSERT INTO stats_machine_hours SELECT * FROM stats_machine_hours_unpartitioned;
INSERT INTO stats_machine_days SELECT * FROM stats_machine_days_unpartitioned;

DROP TABLE commands_unpartitioned;
DROP TABLE processes_unpartitioned;
DROP TABLE process_days_unpartitioned;
DROP TABLE stats_hours_unpartitioned;
DROP TABLE stats_days_unpartitioned;
DROP TABLE stats_machine_hours_unpartitioned;
DROP TABLE stats_machine_days_unpartitioned;
