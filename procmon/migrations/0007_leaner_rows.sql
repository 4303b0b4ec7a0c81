-- Leaner process rows (issue 16, README "Partitions and retention", Sizing). processes is made
-- again with the same columns in another order and every row copied into it:
-- - 8-byte columns first, then 4-byte ones, then texts, so that no value waits for an
--   alignment boundary (a row of the benchmark's fleet lost 17 bytes of padding);
-- - truncated_fields NULL where no field was cut (an empty array costs a row 13 bytes, NULL
--   one bit of the null bitmap); the API and the export read it as the empty list
--   (procmon.columns declares it);
-- - processes_machine_observed_idx without INCLUDE (process_key): an index with included
--   columns is never deduplicated, and a snapshot's rows share (machine_id, observed_at), so
--   that one tuple of the index now lists a snapshot's rows. With the key included it cost 80
--   bytes a row on the benchmark's fleet (a machine's entries are inserted in the middle of
--   the index, whose pages then split half full), without it 13.
-- Each partition is made again with the bounds it had, so that PROCMON_PARTITION_DAYS of any
-- width is kept; the indexes are built after the rows are in, sorted.

-- The table as it was steps aside, its partitions and their indexes renamed so that the new
-- table's take their names.
ALTER TABLE processes RENAME TO processes_before_0007;
ALTER INDEX processes_pkey RENAME TO processes_before_0007_pkey;
ALTER INDEX processes_name_observed_idx RENAME TO processes_before_0007_name_observed_idx;
ALTER INDEX processes_machine_observed_idx RENAME TO processes_before_0007_machine_observed_idx;

CREATE TABLE processes (
    command_id        bigint      NOT NULL,
    observed_at       timestamptz NOT NULL,
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
    truncated_fields  text[]
) PARTITION BY RANGE (observed_at);

DO $$
DECLARE
    old record;
    old_index record;
BEGIN
    FOR old IN
        SELECT c.oid, c.relname::text AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'processes_before_0007'::regclass
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', old.name, 'processes_before_0007_' || old.oid);
        FOR old_index IN
            SELECT c.oid, c.relname::text AS name
            FROM pg_index AS x JOIN pg_class AS c ON c.oid = x.indexrelid
            WHERE x.indrelid = old.oid
        LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', old_index.name,
                           'processes_before_0007_' || old_index.oid);
        END LOOP;
        EXECUTE format('CREATE TABLE %I (LIKE processes INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                       ' INCLUDING STORAGE INCLUDING COMPRESSION)', old.name);
        EXECUTE format('ALTER TABLE processes ATTACH PARTITION %I %s', old.name, old.bound);
    END LOOP;
END
$$;

INSERT INTO processes (
    command_id, observed_at, process_key, rss_bytes, vsz_bytes, memory_usage_bytes, start_time,
    cpu_time_seconds, line_number, pid, ppid, threads, nice, priority, cpu_percent,
    memory_percent, start_time_precision, interval_seconds, interval_cpu_percent, machine_id,
    process_name, "user", command_line, status, status_raw, tty, truncated_fields
)
SELECT command_id, observed_at, process_key, rss_bytes, vsz_bytes, memory_usage_bytes,
       start_time, cpu_time_seconds, line_number, pid, ppid, threads, nice, priority,
       cpu_percent, memory_percent, start_time_precision, interval_seconds,
       interval_cpu_percent, machine_id, process_name, "user", command_line, status,
       status_raw, tty, nullif(truncated_fields, '{}')
FROM processes_before_0007;

DROP TABLE processes_before_0007;

ALTER TABLE processes
    ADD CONSTRAINT processes_pkey PRIMARY KEY (command_id, line_number, observed_at);
CREATE INDEX processes_name_observed_idx ON processes (process_name, observed_at);
CREATE INDEX processes_machine_observed_idx ON processes (machine_id, observed_at);
