-- Hourly and daily rollups of processStats (README "Rollups"): what it adds up over long
-- ranges, read from here for the snapshots the rollup counted and from the rows for the rest.

-- What processStats adds up, per UTC hour and per UTC day, of the snapshots the rollup counted
-- (commands.rolled_up_at): per machine, process name and user in stats_hours and stats_days,
-- per machine alone in stats_machine_hours and stats_machine_days. The snapshot's OS type and
-- labels are part of each key, so that a question grouped or filtered by them is answered
-- exactly even across a machine's change of labels. Sums and counts are kept, never means,
-- so that rows add up to any coarser group. No foreign keys: commands and processes are to be
-- partitioned by time.
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
);
-- The fleet over a time range.
CREATE INDEX stats_hours_bucket_start_idx ON stats_hours (bucket_start);

CREATE TABLE stats_days (LIKE stats_hours INCLUDING ALL);

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
);
CREATE INDEX stats_machine_hours_bucket_start_idx ON stats_machine_hours (bucket_start);

CREATE TABLE stats_machine_days (LIKE stats_machine_hours INCLUDING ALL);
