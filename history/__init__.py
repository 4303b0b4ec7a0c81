"""Process history: one identity per process across a machine's snapshots, and the CPU it used
between them.

Pure functions, no I/O: the worker (:mod:`streams.history`) feeds them the rows of each
snapshot and of the snapshot before it, in the machine's time order, and stores what they
return. The rule, and what it cannot tell apart, is in the README ("Process history").
"""

from history.keys import process_key_of
from history.linking import (
    HistoryValues,
    Linkable,
    LinkedSnapshot,
    Sighting,
    SnapshotPlace,
    link_snapshot,
    same_process,
)

__all__ = [
    "HistoryValues",
    "Linkable",
    "LinkedSnapshot",
    "Sighting",
    "SnapshotPlace",
    "link_snapshot",
    "process_key_of",
    "same_process",
]
