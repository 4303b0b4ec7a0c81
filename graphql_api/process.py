"""The GraphQL type of a process: one row of ``processes``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import strawberry

from graphql_api.scalars import BigInt
from parsers.rows import ProcessStatus

__all__ = ["Process"]


@strawberry.type(description="One process of one snapshot, in normalized units.")
class Process:
    """A row of ``processes``."""

    pid: int
    ppid: int | None
    user: str | None
    process_name: str
    command_line: str | None
    cpu_percent: float | None
    memory_percent: float | None
    rss_bytes: BigInt | None = strawberry.field(description="Resident set size in bytes.")
    vsz_bytes: BigInt | None = strawberry.field(description="Virtual memory size in bytes.")
    memory_usage_bytes: BigInt | None = strawberry.field(
        description="What the tool itself calls memory usage (Windows' working set), in bytes."
    )
    status: str | None = strawberry.field(
        description=f"Normalized state: one of {', '.join(ProcessStatus)}."
    )
    status_raw: str | None = strawberry.field(description="The state as the listing wrote it.")
    start_time: datetime | None
    cpu_time_seconds: float | None
    tty: str | None
    threads: int | None
    nice: int | None
    priority: int | None
    truncated_fields: list[str] = strawberry.field(
        description="Fields whose printed value the tool cut short; do not trust them as exact."
    )
    observed_at: datetime = strawberry.field(description="Time of the snapshot it was seen in.")
    machine_id: str
    snapshot_id: strawberry.ID

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build a process from a row of ``PROCESSES_OF_SNAPSHOTS``."""
        return cls(
            pid=row["pid"],
            ppid=row["ppid"],
            user=row["user"],
            process_name=row["process_name"],
            command_line=row["command_line"],
            cpu_percent=row["cpu_percent"],
            memory_percent=row["memory_percent"],
            rss_bytes=row["rss_bytes"],
            vsz_bytes=row["vsz_bytes"],
            status=row["status"],
            status_raw=row["status_raw"],
            start_time=row["start_time"],
            cpu_time_seconds=row["cpu_time_seconds"],
            tty=row["tty"],
            threads=row["threads"],
            nice=row["nice"],
            priority=row["priority"],
            memory_usage_bytes=row["memory_usage_bytes"],
            truncated_fields=row["truncated_fields"],
            observed_at=row["observed_at"],
            machine_id=row["machine_id"],
            snapshot_id=strawberry.ID(str(row["command_id"])),
        )
