-- One row per machine, kept by the worker as it stores each batch (README "Schema and
-- indexes"), so that the API's machines summary reads one row a machine instead of grouping
-- every snapshot on every request.

-- No foreign key to commands: its rows are to be partitioned by time and dropped by the day.
CREATE TABLE machines (
    machine_id          text        NOT NULL,
    -- As the latest snapshot says: a machine renamed, upgraded or given another role shows
    -- what it is now.
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

-- The machines of the snapshots stored so far, as the API summarized them before.
INSERT INTO machines (
    machine_id, machine_name, os_type, os_version, labels, cpu_count, first_seen, last_seen,
    latest_snapshot_id, latest_content_hash, snapshot_count
)
SELECT stats.machine_id, latest.machine_name, latest.os_type, latest.os_version, latest.labels,
       latest.cpu_count, stats.first_seen, latest."timestamp", latest.id, latest.content_hash,
       stats.snapshot_count
FROM (
    SELECT machine_id, min("timestamp") AS first_seen, count(*) AS snapshot_count
    FROM commands
    GROUP BY machine_id
) AS stats
CROSS JOIN LATERAL (
    SELECT id, machine_name, os_type, os_version, labels, cpu_count, "timestamp", content_hash
    FROM commands
    WHERE commands.machine_id = stats.machine_id
    ORDER BY "timestamp" DESC, content_hash DESC
    LIMIT 1
) AS latest;
