-- Process history: one identity per process across a machine's snapshots, CPU measured
-- between snapshots, and the daily rollup that lifetimes over long ranges read.
-- README.md ("Process history") gives the rule and its limits.

-- The seconds a printed start time covers (ps aux's 14:03 covers 60), so that two sightings
-- whose start times were printed at different precisions can be compared; set by the parser.
ALTER TABLE processes ADD COLUMN start_time_precision real;
-- The process across snapshots: the same value in every snapshot of one machine it is in.
ALTER TABLE processes ADD COLUMN process_key bigint;
-- Wall time since the previous snapshot of the machine, when the process was in it.
ALTER TABLE processes ADD COLUMN interval_seconds real;
-- 100 x CPU-time delta / interval_seconds: percent of one CPU, as top counts it.
ALTER TABLE processes ADD COLUMN interval_cpu_percent real;

-- A machine's rows over time carry their key, so that one process's rows are found in the
-- index alone (processHistory, the worker relabelling a chain). An index led by the key
-- would take an insert at a place of its own for every live process of every snapshot:
-- it halved the COPY rate here, where this column costs about 7%.
DROP INDEX processes_machine_observed_idx;
CREATE INDEX processes_machine_observed_idx ON processes (machine_id, observed_at)
    INCLUDE (process_key);

-- Where each process was first seen: its machine, and the time from which its rows are.
-- One row per process, written when the worker first sees it.
CREATE TABLE process_keys (
    process_key bigint      NOT NULL,
    machine_id  text        NOT NULL,
    first_seen  timestamptz NOT NULL,
    CONSTRAINT process_keys_pkey PRIMARY KEY (process_key)
);

-- Bumped whenever the history of a snapshot's rows is rewritten after it was first stored (a
-- snapshot stored before it, out of order), so that a worker's memory of it is known stale.
ALTER TABLE commands ADD COLUMN history_revision integer NOT NULL DEFAULT 0;
-- When the daily rollup counted the snapshot's rows; NULL until then (the API reads the rows
-- themselves of a snapshot not yet counted).
ALTER TABLE commands ADD COLUMN rolled_up_at timestamptz;

-- The snapshots the rollup has still to count, by time.
CREATE INDEX commands_unrolled_idx ON commands ("timestamp") WHERE rolled_up_at IS NULL;

-- One row per process per machine per UTC day: what processLifetimes adds up for the whole
-- days of a range. The counted snapshots' rows only (commands.rolled_up_at).
CREATE TABLE process_days (
    machine_id               text             NOT NULL,
    day                      date             NOT NULL,
    process_key              bigint           NOT NULL,
    pid                      integer          NOT NULL,
    process_name             text             NOT NULL,
    -- The last of the day's sightings says these.
    "user"                   text,
    command_line             text,
    start_time               timestamptz,
    first_seen               timestamptz      NOT NULL,
    last_seen                timestamptz      NOT NULL,
    snapshot_count           integer          NOT NULL,
    -- The sum of the day's CPU-time deltas, and the wall seconds of the intervals they cover.
    cpu_seconds              double precision NOT NULL,
    interval_seconds         double precision NOT NULL,
    max_interval_cpu_percent real,
    max_rss_bytes            bigint,
    CONSTRAINT process_days_pkey PRIMARY KEY (machine_id, day, process_key)
);

-- The fleet's busiest processes of a day.
CREATE INDEX process_days_day_cpu_idx ON process_days (day, cpu_seconds DESC);
