"""The filter inputs of the API, in PostGraphile's shape: one operator input per value type.

``filter: {cpuPercent: {greaterThan: 50}, user: {in: ["root"]}, or: [...], not: {...}}``.
Every operator given in one input must hold (AND); :mod:`graphql_api.filters` compiles them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from graphql_api.process import with_columns
from graphql_api.scalars import BigInt
from procmon.columns import FILTER_COLUMNS, Kind, ProcessColumn

__all__ = [
    "BigIntFilter",
    "DatetimeFilter",
    "FloatFilter",
    "IntFilter",
    "LabelCondition",
    "LifetimeFilter",
    "ProcessFilter",
    "SnapshotFilter",
    "StringFilter",
]

_NULL = "True: the field has no value; false: it has one."
_IN = "Equal to one of these (at most 1000)."
_NOT_IN = "Equal to none of these (at most 1000); rows without a value do not match."


@strawberry.input(description="Conditions on an Int field; every one given must hold.")
class IntFilter:
    """Operators on an integer column."""

    equal_to: int | None = None
    not_equal_to: int | None = None
    in_: list[int] | None = strawberry.field(name="in", default=None, description=_IN)
    not_in: list[int] | None = strawberry.field(default=None, description=_NOT_IN)
    less_than: int | None = None
    less_than_or_equal_to: int | None = None
    greater_than: int | None = None
    greater_than_or_equal_to: int | None = None
    is_null: bool | None = strawberry.field(default=None, description=_NULL)


@strawberry.input(description="Conditions on a BigInt field (bytes); every one given must hold.")
class BigIntFilter:
    """Operators on a bigint column."""

    equal_to: BigInt | None = None
    not_equal_to: BigInt | None = None
    in_: list[BigInt] | None = strawberry.field(name="in", default=None, description=_IN)
    not_in: list[BigInt] | None = strawberry.field(default=None, description=_NOT_IN)
    less_than: BigInt | None = None
    less_than_or_equal_to: BigInt | None = None
    greater_than: BigInt | None = None
    greater_than_or_equal_to: BigInt | None = None
    is_null: bool | None = strawberry.field(default=None, description=_NULL)


@strawberry.input(description="Conditions on a Float field; every one given must hold.")
class FloatFilter:
    """Operators on a real or double column."""

    equal_to: float | None = None
    not_equal_to: float | None = None
    in_: list[float] | None = strawberry.field(name="in", default=None, description=_IN)
    not_in: list[float] | None = strawberry.field(default=None, description=_NOT_IN)
    less_than: float | None = None
    less_than_or_equal_to: float | None = None
    greater_than: float | None = None
    greater_than_or_equal_to: float | None = None
    is_null: bool | None = strawberry.field(default=None, description=_NULL)


@strawberry.input(description="Conditions on a String field; every one given must hold.")
class StringFilter:
    """Operators on a text column."""

    equal_to: str | None = None
    not_equal_to: str | None = None
    in_: list[str] | None = strawberry.field(name="in", default=None, description=_IN)
    not_in: list[str] | None = strawberry.field(default=None, description=_NOT_IN)
    less_than: str | None = None
    less_than_or_equal_to: str | None = None
    greater_than: str | None = None
    greater_than_or_equal_to: str | None = None
    like: str | None = strawberry.field(
        default=None, description="SQL LIKE: `%` any text, `_` one character, `\\` escapes."
    )
    is_null: bool | None = strawberry.field(default=None, description=_NULL)


@strawberry.input(
    description="Conditions on a DateTime field (with a UTC offset); every one given must hold."
)
class DatetimeFilter:
    """Operators on a timestamptz column."""

    equal_to: datetime | None = None
    not_equal_to: datetime | None = None
    in_: list[datetime] | None = strawberry.field(name="in", default=None, description=_IN)
    not_in: list[datetime] | None = strawberry.field(default=None, description=_NOT_IN)
    less_than: datetime | None = None
    less_than_or_equal_to: datetime | None = None
    greater_than: datetime | None = None
    greater_than_or_equal_to: datetime | None = None
    is_null: bool | None = strawberry.field(default=None, description=_NULL)


@strawberry.input(
    description=(
        "A condition on one label of the machine, as its snapshot says: every operator given"
        " must hold."
    )
)
class LabelCondition:
    """Operators on the value of the label ``name`` of a snapshot's ``labels``."""

    name: str = strawberry.field(description="The label's name, e.g. role.")
    equal_to: str | None = None
    in_: list[str] | None = strawberry.field(name="in", default=None, description=_IN)
    exists: bool | None = strawberry.field(
        default=None, description="True: the machine has the label; false: it has not."
    )


_LABELS = "Conditions on the machine's labels in the snapshot, every one of which must hold."

# The operators of each kind of value; a snapshot's id is a bigint.
_OPERATOR_INPUTS: dict[Kind, type] = {
    Kind.INT: IntFilter,
    Kind.BIG_INT: BigIntFilter,
    Kind.ID: BigIntFilter,
    Kind.FLOAT: FloatFilter,
    Kind.STRING: StringFilter,
    Kind.DATE_TIME: DatetimeFilter,
}


def _operator_input(column: ProcessColumn) -> Any:
    assert column.kind is not None, "FILTER_COLUMNS are in the API"
    return _OPERATOR_INPUTS[column.kind] | None


@strawberry.input(description="Which processes: every field given must hold.")
@with_columns(FILTER_COLUMNS, _operator_input, lambda _: strawberry.field(default=None))
class ProcessFilter:
    """Conditions on processes (procmon.columns' filter columns), and on the snapshot each
    was seen in."""

    if TYPE_CHECKING:
        # The type checker does not see the fields the decorator adds.
        def __init__(self, **conditions: Any) -> None: ...

    machine_name: StringFilter | None = strawberry.field(
        default=None, description="The machine's name in the snapshot."
    )
    os_type: StringFilter | None = strawberry.field(
        default=None, description="linux, macos, freebsd, openbsd, netbsd or windows."
    )
    labels: list[LabelCondition] | None = strawberry.field(default=None, description=_LABELS)
    and_: list[ProcessFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ProcessFilter] | None = strawberry.field(name="or", default=None)
    not_: ProcessFilter | None = strawberry.field(name="not", default=None)


@strawberry.input(description="Which snapshots: every field given must hold.")
class SnapshotFilter:
    """Conditions on snapshots (``commands`` rows)."""

    machine_id: StringFilter | None = None
    machine_name: StringFilter | None = None
    os_type: StringFilter | None = None
    os_version: StringFilter | None = None
    command_type: StringFilter | None = None
    format: StringFilter | None = None
    timestamp: DatetimeFilter | None = None
    process_count: IntFilter | None = None
    labels: list[LabelCondition] | None = strawberry.field(default=None, description=_LABELS)
    and_: list[SnapshotFilter] | None = strawberry.field(name="and", default=None)
    or_: list[SnapshotFilter] | None = strawberry.field(name="or", default=None)
    not_: SnapshotFilter | None = strawberry.field(name="not", default=None)


@strawberry.input(
    description=(
        "Which process lifetimes: every field given must hold. The machine's name and OS are"
        " those of its latest snapshot; pid, name, user and command line those of the process's"
        " last sighting in the range."
    )
)
class LifetimeFilter:
    """Conditions on the lifetimes of ``processLifetimes``."""

    machine_id: StringFilter | None = None
    machine_name: StringFilter | None = None
    os_type: StringFilter | None = None
    process_name: StringFilter | None = None
    user: StringFilter | None = None
    pid: IntFilter | None = None
    command_line: StringFilter | None = None
    and_: list[LifetimeFilter] | None = strawberry.field(name="and", default=None)
    or_: list[LifetimeFilter] | None = strawberry.field(name="or", default=None)
    not_: LifetimeFilter | None = strawberry.field(name="not", default=None)
