"""The GraphQL object types of the API.

Each type is built from a row of :mod:`graphql_api.sql` by its ``from_row`` constructor.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry.scalars import JSON

from graphql_api.context import Info
from graphql_api.process_connection import ProcessConnection, snapshot_processes

__all__ = ["Machine", "Snapshot"]

_LABELS = (
    "What the machine is for, as its collector said (PROCMON_LABELS, --label): an object of"
    ' label names to values, e.g. {"role": "web", "site": "eu"}; {} without labels.'
)


async def _raw_output_of(root: Snapshot, info: Info) -> str | None:
    """Load the whole listing, only when asked, through the request's batching loader; None
    once retention removed the texts of its day.

    Its size is charged to the answer first, for each field asking (aliases of one snapshot
    load it once but send it each time), so a listing too large for the answer is not read.
    """
    key = (root.command_id, root.timestamp)
    size = await info.context.raw_output_sizes.load(key)
    info.context.budget.charge_bytes("rawOutput", size)
    return await info.context.raw_outputs.load(key)


@strawberry.type(description="One raw listing received from a machine.")
class Snapshot:
    """A row of ``commands``, without the raw output."""

    id: strawberry.ID
    machine_id: str
    machine_name: str
    os_type: str
    os_version: str
    command_type: str
    timestamp: datetime = strawberry.field(description="When the machine took the listing.")
    content_hash: str
    format: str = strawberry.field(description="The listing format detected, e.g. `ps aux`.")
    process_count: int
    metadata: JSON = strawberry.field(
        description="Snapshot-wide facts the format prints (top's load, tasks, CPU, memory)."
    )
    received_at: datetime = strawberry.field(description="When procmon stored it.")
    labels: JSON = strawberry.field(description=_LABELS)
    cpu_count: int | None = strawberry.field(
        description="The machine's logical CPUs, as its collector said; null where it did not"
        " (envelope version 1)."
    )
    raw_output: str | None = strawberry.field(
        resolver=_raw_output_of,
        description="The listing exactly as the machine sent it; read only when selected. Null"
        " once retention removed the listings of its day (PROCMON_RAW_OUTPUT_RETENTION_DAYS).",
    )
    processes: ProcessConnection = strawberry.field(
        resolver=snapshot_processes,
        description="Its processes, in listing order unless `orderBy` says otherwise.",
    )
    command_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build a snapshot from a row of a query of ``commands`` in :mod:`graphql_api.sql`."""
        return cls(
            id=strawberry.ID(str(row["id"])),
            machine_id=row["machine_id"],
            machine_name=row["machine_name"],
            os_type=row["os_type"],
            os_version=row["os_version"],
            command_type=row["command_type"],
            timestamp=row["timestamp"],
            content_hash=row["content_hash"],
            format=row["format"],
            process_count=row["process_count"],
            metadata=row["metadata"],
            received_at=row["received_at"],
            labels=row["labels"],
            cpu_count=row["cpu_count"],
            command_id=row["id"],
        )


async def _latest_snapshot_of(root: Machine, info: Info) -> Snapshot | None:
    """Load a machine's newest snapshot through the request's batching loader."""
    row = await info.context.latest_snapshots.load(root.machine_id)
    return None if row is None else Snapshot.from_row(row)


@strawberry.type(description="A machine that has sent at least one snapshot.")
class Machine:
    """A machine, summarized from its snapshots."""

    machine_id: str
    machine_name: str = strawberry.field(description="As of the latest snapshot.")
    os_type: str = strawberry.field(description="As of the latest snapshot.")
    os_version: str = strawberry.field(description="As of the latest snapshot.")
    labels: JSON = strawberry.field(description=f"{_LABELS} As of the latest snapshot.")
    first_seen: datetime = strawberry.field(description="Time of the earliest snapshot.")
    last_seen: datetime = strawberry.field(description="Time of the latest snapshot.")
    snapshot_count: int

    latest_snapshot: Snapshot | None = strawberry.field(
        resolver=_latest_snapshot_of, description="Its newest snapshot."
    )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build a machine from a row of ``MACHINES`` or ``MACHINES_BY_IDS``."""
        return cls(
            machine_id=row["machine_id"],
            machine_name=row["machine_name"],
            os_type=row["os_type"],
            os_version=row["os_version"],
            labels=row["labels"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            snapshot_count=row["snapshot_count"],
        )
