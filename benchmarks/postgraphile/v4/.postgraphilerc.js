// Picked up automatically by the postgraphile CLI when run from this directory.
module.exports = {
  options: {
    // commands/processes (and the rollups) are now PARTITION BY RANGE: without this the CLI exposes
    // every daily partition as its own type and hides the partitioned parents (CLI flag
    // --use-partitioned-parent; the CLI merges rc options under command-line flags).
    usePartitionedParent: true,
    graphileBuildOptions: {
      connectionFilterRelations: true, // filter across FKs: processes(filter:{command:{...}}), commands(filter:{processes:{some:{...}}})
    },
  },
};
