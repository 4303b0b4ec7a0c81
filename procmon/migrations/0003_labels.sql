-- Machine labels and CPU count, from version 2 of the envelope (README "Message envelope").
-- Both are constant defaults: adding them rewrites no row.

-- What the machine is for (role, site...), as the snapshot's envelope said: an object of
-- strings, empty for a version 1 envelope or a machine without labels.
ALTER TABLE commands ADD COLUMN labels jsonb NOT NULL DEFAULT '{}';
-- The machine's logical CPUs; NULL where the envelope did not say (version 1).
ALTER TABLE commands ADD COLUMN cpu_count integer;

-- The labels conditions of the API's filters: containment (@>) for a value or one of several,
-- key existence (?) for a label that exists. jsonb_ops, not jsonb_path_ops: only it serves ?.
CREATE INDEX commands_labels_idx ON commands USING gin (labels);
