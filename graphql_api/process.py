"""The GraphQL type of a process: one row of ``processes``, its fields as procmon.columns
declares them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar

import strawberry

from graphql_api.scalars import BigInt
from procmon.columns import API_COLUMNS, Kind, ProcessColumn

__all__ = ["Process", "with_columns"]

_Class = TypeVar("_Class", bound=type)

# The Python type strawberry reads as each kind of GraphQL value.
_VALUE_TYPES: dict[Kind, Any] = {
    Kind.INT: int,
    Kind.BIG_INT: BigInt,
    Kind.FLOAT: float,
    Kind.STRING: str,
    Kind.DATE_TIME: datetime,
    Kind.STRING_LIST: list[str],
    Kind.ID: strawberry.ID,
}


def with_columns(
    columns: tuple[ProcessColumn, ...],
    annotation: Callable[[ProcessColumn], Any],
    field: Callable[[ProcessColumn], Any],
) -> Callable[[_Class], _Class]:
    """A class decorator giving a strawberry type, before ``strawberry.type`` reads it, one
    field per column, typed by ``annotation`` and made by ``field``, ahead of the fields the
    class declares itself."""

    def add_fields(cls: _Class) -> _Class:
        declared = {column.field_name: annotation(column) for column in columns}
        cls.__annotations__ = declared | inspect.get_annotations(cls)
        for column in columns:
            setattr(cls, column.field_name, field(column))
        return cls

    return add_fields


def _value_type(column: ProcessColumn) -> Any:
    assert column.kind is not None, "API_COLUMNS are in the API"
    value_type = _VALUE_TYPES[column.kind]
    return value_type | None if column.nullable else value_type


# The fields read from a row unchanged, and the ID, which GraphQL sends as text.
_COPIED = tuple((c.field_name, c.name) for c in API_COLUMNS if c.kind is not Kind.ID)
_IDS = tuple((c.field_name, c.name) for c in API_COLUMNS if c.kind is Kind.ID)


async def _interval_cpu_percent_of_machine(root: Process, info: strawberry.Info) -> float | None:
    """Its interval CPU over its machine's CPU count, loaded through the request's loader."""
    # Typed loosely: graphql_api.context imports this module (through the filters' inputs).
    if root.interval_cpu_percent is None:
        return None
    cpu_count: int | None = await info.context.cpu_counts.load(int(root.snapshot_id))
    return None if cpu_count is None else float(root.interval_cpu_percent) / cpu_count


@strawberry.type(description="One process of one snapshot, in normalized units.")
@with_columns(API_COLUMNS, _value_type, lambda c: strawberry.field(description=c.description))
class Process:
    """A row of ``processes``; its fields are procmon.columns' API columns."""

    if TYPE_CHECKING:
        # The type checker does not see the fields the decorator adds.
        def __init__(self, **fields: Any) -> None: ...

        interval_cpu_percent: float | None
        snapshot_id: strawberry.ID

    interval_cpu_percent_of_machine: float | None = strawberry.field(
        resolver=_interval_cpu_percent_of_machine,
        description=(
            "intervalCpuPercent over the machine's CPU count (its snapshot's cpuCount): percent"
            " of the whole machine, where 100 is every CPU busy (as Windows' Task Manager"
            " counts). Null where either is null."
        ),
    )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """Build a process from a row of ``PROCESSES_OF_SNAPSHOTS`` or ``PROCESS_PAGE``; a
        column the statement did not read (the request does not select it) is None."""
        fields = {field: row.get(column) for field, column in _COPIED}
        for field, column in _IDS:
            value = row.get(column)
            fields[field] = None if value is None else strawberry.ID(str(value))
        return cls(**fields)
