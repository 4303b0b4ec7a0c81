"""The domain questions: which machines ran a program, what changed between two snapshots,
and a snapshot's process tree.

Each is one or two SQL statements; matching and tree building happen here, in Python, over
the rows of one or two snapshots (thousands of rows at most).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import strawberry
from psycopg.rows import DictRow

from graphql_api import sql
from graphql_api.arguments import snapshot_id, text, time_range
from graphql_api.context import Info
from graphql_api.errors import UserInputError
from graphql_api.process import Process
from graphql_api.types import Machine, Snapshot
from procmon.columns import COMPARED_COLUMNS

__all__ = [
    "CHANGE_FIELDS",
    "MachineRun",
    "ProcessChange",
    "ProcessTreeNode",
    "SnapshotDiff",
    "machines_running",
    "process_tree",
    "snapshot_diff",
]

# What makes "the same process" in two snapshots: a pid is reused, a start time and a name
# together rarely are. Windows listings have no start time: pid and name then decide.
_IDENTITY = ("pid", "start_time", "process_name")
# The columns compared between two sightings of one process (procmon.columns' compared
# ones), by their GraphQL names.
CHANGE_FIELDS = {column.graphql_name: column.name for column in COMPARED_COLUMNS}


async def _machine_of(root: MachineRun, info: Info) -> Machine:
    """Load the machine through the request's batching loader."""
    return Machine.from_row(await info.context.machines.load(root.machine_id))


@strawberry.type(description="A machine that ran a program in a time range, and when.")
class MachineRun:
    """One row of ``machinesRunning``."""

    machine_id: str
    first_seen: datetime = strawberry.field(description="The first snapshot showing it.")
    last_seen: datetime = strawberry.field(description="The last snapshot showing it.")
    snapshot_count: int = strawberry.field(description="Snapshots of the range showing it.")
    max_cpu_percent: float | None = strawberry.field(description="Its highest CPU percent seen.")
    machine: Machine = strawberry.field(
        resolver=_machine_of, description="The machine, as of its latest snapshot."
    )


@strawberry.type(description="A process seen in both snapshots whose state differs.")
class ProcessChange:
    """One process of ``snapshotDiff.changed``."""

    before: Process
    after: Process
    changed_fields: list[str] = strawberry.field(
        description=f"Which of {', '.join(CHANGE_FIELDS)} differ."
    )


@strawberry.type(
    description=(
        "Processes started, stopped and changed from snapshot `before` to `after` of one"
        " machine, matched by pid, start time and name."
    )
)
class SnapshotDiff:
    """The answer of ``snapshotDiff``."""

    before: Snapshot
    after: Snapshot
    started: list[Process] = strawberry.field(description="In `after` only, by pid.")
    stopped: list[Process] = strawberry.field(description="In `before` only, by pid.")
    changed: list[ProcessChange] = strawberry.field(description="In both, changed, by pid.")


@strawberry.type(description="A process in its snapshot's tree, listed depth first.")
class ProcessTreeNode:
    """One row of ``processTree``."""

    process: Process
    depth: int = strawberry.field(description="0 for a root: a process whose parent is absent.")
    parent_pid: int | None = strawberry.field(
        description="The parent's pid when the parent is in the snapshot, else null."
    )
    child_pids: list[int] = strawberry.field(description="Its children's pids, ascending.")


async def machines_running(
    info: Info,
    process_name: str,
    from_: Annotated[datetime, strawberry.argument(name="from")],
    to: datetime,
) -> list[MachineRun]:
    """The machines whose snapshots in [from, to) show a process named ``process_name``."""
    start, end = time_range("machinesRunning", from_, to)
    params = {
        "process_name": text("machinesRunning", "processName", process_name),
        "from": start,
        "to": end,
    }
    rows = await info.context.fetch(sql.MACHINES_RUNNING, params)
    return [
        MachineRun(
            machine_id=row["machine_id"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            snapshot_count=row["snapshot_count"],
            max_cpu_percent=row["max_cpu_percent"],
        )
        for row in rows
    ]


async def _snapshot_rows(info: Info, field: str, *ids: strawberry.ID) -> list[DictRow]:
    """The snapshots' rows in the order asked, refusing an id that names none."""
    wanted = [snapshot_id(field, value) for value in ids]
    rows = await info.context.fetch(sql.SNAPSHOTS_BY_IDS, {"ids": wanted})
    by_id = {row["id"]: row for row in rows}
    for value, number in zip(ids, wanted, strict=True):
        if number not in by_id:
            raise UserInputError(f"{field}: no snapshot has id {value!r}")
    return [by_id[number] for number in wanted]


async def _all_processes(info: Info, snapshots: list[DictRow]) -> dict[int, list[DictRow]]:
    """Every process of each snapshot (rows of ``commands``), in listing order."""
    snapshot_ids = [row["id"] for row in snapshots]
    params = {
        "snapshot_ids": snapshot_ids,
        "times": [row["timestamp"] for row in snapshots],
        "limit": None,
    }
    rows = await info.context.fetch(sql.PROCESSES_OF_SNAPSHOTS, params)
    by_snapshot: dict[int, list[DictRow]] = {number: [] for number in snapshot_ids}
    for row in rows:
        by_snapshot[row["command_id"]].append(row)
    return by_snapshot


def _identity(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row[name] for name in _IDENTITY)


async def snapshot_diff(info: Info, before: strawberry.ID, after: strawberry.ID) -> SnapshotDiff:
    """Compare two snapshots of one machine."""
    before_row, after_row = await _snapshot_rows(info, "snapshotDiff", before, after)
    if before_row["machine_id"] != after_row["machine_id"]:
        raise UserInputError(
            "snapshotDiff: both snapshots must be of one machine; got "
            f"{before_row['machine_id']!r} and {after_row['machine_id']!r}"
        )
    processes = await _all_processes(info, [before_row, after_row])
    old = {_identity(row): row for row in processes[before_row["id"]]}
    new = {_identity(row): row for row in processes[after_row["id"]]}
    changed = []
    for key in sorted(old.keys() & new.keys(), key=lambda key: key[0]):
        fields = [
            name for name, column in CHANGE_FIELDS.items() if old[key][column] != new[key][column]
        ]
        if fields:
            changed.append(
                ProcessChange(
                    before=Process.from_row(old[key]),
                    after=Process.from_row(new[key]),
                    changed_fields=fields,
                )
            )
    return SnapshotDiff(
        before=Snapshot.from_row(before_row),
        after=Snapshot.from_row(after_row),
        started=[Process.from_row(new[k]) for k in sorted(new.keys() - old.keys(), key=_pid)],
        stopped=[Process.from_row(old[k]) for k in sorted(old.keys() - new.keys(), key=_pid)],
        changed=changed,
    )


def _pid(key: tuple[Any, ...]) -> int:
    pid: int = key[0]
    return pid


async def process_tree(
    info: Info, snapshot_id: Annotated[strawberry.ID, strawberry.argument(name="snapshotId")]
) -> list[ProcessTreeNode]:
    """A snapshot's processes as a tree by ppid, depth first, siblings by pid."""
    (row,) = await _snapshot_rows(info, "processTree", snapshot_id)
    rows = (await _all_processes(info, [row]))[row["id"]]
    pids = {process["pid"] for process in rows}
    children: dict[int, list[DictRow]] = {}
    ordered = sorted(rows, key=lambda process: (process["pid"], process["line_number"]))
    for process in ordered:
        parent = process["ppid"]
        # Some listings show pid 0 as its own parent: a loop to itself is a root, not a child.
        if parent is not None and parent != process["pid"] and parent in pids:
            children.setdefault(parent, []).append(process)
    nodes: list[ProcessTreeNode] = []
    seen: set[int] = set()
    # Roots first; then whatever a ppid cycle (a broken listing) left unreached, as roots too.
    for root in [p for p in ordered if p["ppid"] not in pids or p["ppid"] == p["pid"]] + ordered:
        stack = [(root, 0)]
        while stack:
            process, depth = stack.pop()
            if process["line_number"] in seen:
                continue
            seen.add(process["line_number"])
            kids = children.get(process["pid"], [])
            nodes.append(
                ProcessTreeNode(
                    process=Process.from_row(process),
                    depth=depth,
                    parent_pid=None if depth == 0 else process["ppid"],
                    child_pids=[kid["pid"] for kid in kids],
                )
            )
            stack.extend((kid, depth + 1) for kid in reversed(kids))
    return nodes
