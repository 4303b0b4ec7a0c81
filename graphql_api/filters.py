"""Compiling filter inputs into parameterized SQL conditions: the one place that does (the
``labels`` conditions in :mod:`graphql_api.label_filters`, which it calls).

Columns come from fixed maps (``p`` is ``processes``, ``c`` the ``commands`` row joined on
``c.id = p.command_id``), operators from a fixed table, and every value a client gives
becomes a named parameter: no value is ever written into the SQL text.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from psycopg import sql as psql

from graphql_api.arguments import check_offset, text
from graphql_api.errors import UserInputError
from graphql_api.filter_inputs import LifetimeFilter, ProcessFilter, SnapshotFilter
from graphql_api.label_filters import label_conditions
from procmon.columns import FILTER_COLUMNS, SqlType

__all__ = [
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_LIST",
    "MAX_PATTERN",
    "ROLLUP_FIELDS",
    "Condition",
    "LifetimeCondition",
    "QueryParams",
    "filter_fields",
    "lifetime_condition",
    "process_condition",
    "rollup_condition",
    "snapshot_condition",
]

MAX_DEPTH = 8
# Each condition costs a parameter, and PostgreSQL takes at most 65535 per statement.
MAX_CONDITIONS = 1000
MAX_LIST = 1000
MAX_PATTERN = 500

_COMPARISONS: dict[str, LiteralString] = {
    "equal_to": "=",
    "not_equal_to": "<>",
    "less_than": "<",
    "less_than_or_equal_to": "<=",
    "greater_than": ">",
    "greater_than_or_equal_to": ">=",
    "like": "LIKE",
}
_GRAPHQL_NAMES = {"in_": "in", "and_": "and", "or_": "or", "not_": "not"}
# Values compared with a `real` column are cast to it: 0.1 as a double is not 0.1 as a real.
_REAL_COLUMNS = frozenset(c.name for c in FILTER_COLUMNS if c.sql_type is SqlType.FLOAT4)

# GraphQL field (Python name) -> (table alias, column): procmon.columns' filter columns, and
# the snapshot's, of the `commands` row.
_PROCESS_COLUMNS: dict[str, tuple[LiteralString, LiteralString]] = {
    column.field_name: ("p", column.name) for column in FILTER_COLUMNS
} | {
    "machine_name": ("c", "machine_name"),
    "os_type": ("c", "os_type"),
}
_SNAPSHOT_COLUMNS: dict[str, tuple[LiteralString, LiteralString]] = {
    name: ("c", name)
    for name in (
        "machine_id", "machine_name", "os_type", "os_version", "command_type", "format",
        "timestamp", "process_count",
    )
}  # fmt: skip
# A lifetime (``l``), its last sighting in the range (``s``) and its machine as of its latest
# snapshot (``m``); and the columns that never change along one process key, which can
# therefore be asked of each of its rows (``r``) before they are added up.
_LIFETIME_COLUMNS: dict[str, tuple[LiteralString, LiteralString]] = {
    "machine_id": ("l", "machine_id"),
    **{name: ("s", name) for name in ("process_name", "user", "pid", "command_line")},
    "machine_name": ("m", "machine_name"),
    "os_type": ("m", "os_type"),
}
# The columns of the processStats rollups (``r``): the dimensions they are kept by.
_ROLLUP_COLUMNS: dict[str, tuple[LiteralString, LiteralString]] = {
    name: ("r", name) for name in ("machine_id", "process_name", "user", "os_type", "labels")
}
ROLLUP_FIELDS = frozenset(_ROLLUP_COLUMNS)
_KEY_CONSTANT_COLUMNS: dict[str, tuple[LiteralString, LiteralString]] = {
    "machine_id": ("r", "machine_id"),
    "pid": ("r", "pid"),
}


class QueryParams:
    """The named parameters of one statement, named ``v0``, ``v1``... as they are added."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: object) -> psql.Placeholder:
        """A placeholder standing for ``value``."""
        name = f"v{len(self.values)}"
        self.values[name] = value
        return psql.Placeholder(name)


@dataclass(slots=True)
class _Walk:
    """What compiling one filter has seen so far: table aliases read, conditions made."""

    aliases: set[str] = dataclasses.field(default_factory=set)
    conditions: int = 0


@dataclass(frozen=True, slots=True)
class Condition:
    """A WHERE condition, and whether it reads the snapshot's columns (``c``)."""

    sql: psql.Composable
    needs_snapshots: bool


def _graphql_name(name: str) -> str:
    head, *rest = _GRAPHQL_NAMES.get(name, name).split("_")
    return head + "".join(part.title() for part in rest)


def _given(value: object) -> list[tuple[str, Any]]:
    return [
        (field.name, getattr(value, field.name))
        for field in dataclasses.fields(value)  # type: ignore[arg-type]
        if getattr(value, field.name) is not None
    ]


def _check_value(path: str, value: object, real: bool) -> None:
    # Each check stands for an error PostgreSQL would raise, which the client would see as an
    # internal one: text it cannot hold, a double that a real cannot hold.
    if isinstance(value, str):
        text(path, "text", value)
    if real and isinstance(value, float) and not _fits_real(value):
        raise UserInputError(
            f"{path}: {value!r} is outside the range of the column (a 4-byte real: magnitudes"
            f" from about 1.2e-38 to 3.4e38, or 0)"
        )
    if isinstance(value, datetime):
        check_offset(path, value)
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise UserInputError(
            f"{path}: needs a UTC offset, e.g. 2024-05-01T12:00:00Z; got {value.isoformat()}"
        )


def _fits_real(value: float) -> bool:
    """Whether PostgreSQL's cast of a double to real keeps ``value`` (no overflow, no
    underflow to zero)."""
    try:
        (as_real,) = struct.unpack("f", struct.pack("f", value))
    except OverflowError:
        return False
    return math.isfinite(as_real) and (as_real != 0.0 or value == 0.0)


def _check_pattern(path: str, pattern: str) -> None:
    if len(pattern) > MAX_PATTERN:
        raise UserInputError(f"{path}: a pattern of at most {MAX_PATTERN} characters")
    # An odd run of backslashes at the end escapes nothing; PostgreSQL refuses such a pattern.
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise UserInputError(
            f"{path}: the pattern ends with an escaping backslash; write \\\\ for a backslash"
        )


def _operators(
    path: str, column: psql.Identifier, real: bool, operators: object, params: QueryParams
) -> list[psql.Composable]:
    def value_of(value: object) -> psql.Composable:
        placeholder = params.add(value)
        if not real:
            return placeholder
        cast = psql.SQL("{}::real[]" if isinstance(value, list) else "{}::real")
        return cast.format(placeholder)

    parts: list[psql.Composable] = []
    for name, value in _given(operators):
        where = f"{path}.{_graphql_name(name)}"
        if name == "is_null":
            parts.append(psql.SQL("{} IS NULL" if value else "{} IS NOT NULL").format(column))
        elif name in ("in_", "not_in"):
            if len(value) > MAX_LIST:
                raise UserInputError(f"{where}: at most {MAX_LIST} values, got {len(value)}")
            for item in value:
                _check_value(where, item, real)
            if not value:
                # In nothing: no row; in none of nothing: every row, with or without a value.
                parts.append(psql.SQL("FALSE" if name == "in_" else "TRUE"))
                continue
            template: LiteralString = "{} = ANY({})" if name == "in_" else "{} <> ALL({})"
            parts.append(psql.SQL(template).format(column, value_of(list(value))))
        else:
            _check_value(where, value, real)
            if name == "like":
                _check_pattern(where, value)
            operator = psql.SQL(_COMPARISONS[name])
            parts.append(psql.SQL("{} {} {}").format(column, operator, value_of(value)))
    if not parts:
        raise UserInputError(f"{path}: give at least one operator, e.g. {{equalTo: ...}}")
    return parts


def _compile(
    path: str,
    value: object,
    columns: dict[str, tuple[LiteralString, LiteralString]],
    params: QueryParams,
    depth: int,
    walk: _Walk,
) -> psql.Composable:
    if depth > MAX_DEPTH:
        raise UserInputError(
            f"{path}: filters nested more than {MAX_DEPTH} deep (the whole filter is the first)"
        )
    parts: list[psql.Composable] = []
    for name, given in _given(value):
        where = f"{path}.{_graphql_name(name)}"
        if name in ("and_", "or_"):
            inner = [
                _compile(f"{where}[{i}]", item, columns, params, depth + 1, walk)
                for i, item in enumerate(given)
            ]
            empty = psql.SQL("TRUE" if name == "and_" else "FALSE")
            joiner = psql.SQL(" AND " if name == "and_" else " OR ")
            parts.append(psql.SQL("({})").format(joiner.join(inner)) if inner else empty)
        elif name == "not_":
            inner_sql = _compile(where, given, columns, params, depth + 1, walk)
            # NOT of an unknown (a NULL compared) is unknown: such rows match neither way.
            parts.append(psql.SQL("NOT ({})").format(inner_sql))
        else:
            walk.conditions += len(given) if name == "labels" else 1
            if walk.conditions > MAX_CONDITIONS:
                raise UserInputError(f"{where}: a filter holds at most {MAX_CONDITIONS} fields")
            if name == "labels":
                alias, column = columns.get("labels", ("c", "labels"))
                walk.aliases.add(alias)
                labels = psql.Identifier(alias, column)
                parts.extend(label_conditions(where, given, params.add, MAX_LIST, column=labels))
                continue
            alias, column = columns[name]
            walk.aliases.add(alias)
            identifier = psql.Identifier(alias, column)
            parts.extend(_operators(where, identifier, column in _REAL_COLUMNS, given, params))
    return psql.SQL("({})").format(psql.SQL(" AND ").join(parts)) if parts else psql.SQL("TRUE")


def _time_bounds(
    column: psql.Composable, start: datetime | None, end: datetime | None, params: QueryParams
) -> list[psql.Composable]:
    bounds: list[psql.Composable] = []
    if start is not None:
        bounds.append(psql.SQL("{} >= {}").format(column, params.add(start)))
    if end is not None:
        bounds.append(psql.SQL("{} < {}").format(column, params.add(end)))
    return bounds


def process_condition(
    filter: ProcessFilter | None,
    params: QueryParams,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Condition:
    """The condition selecting the processes of ``filter`` seen in [start, end)."""
    walk = _Walk()
    parts = _time_bounds(psql.Identifier("p", "observed_at"), start, end, params)
    if filter is not None:
        parts.append(_compile("filter", filter, _PROCESS_COLUMNS, params, 1, walk))
    where = psql.SQL(" AND ").join(parts) if parts else psql.SQL("TRUE")
    return Condition(sql=where, needs_snapshots="c" in walk.aliases)


def filter_fields(filter: object) -> set[str]:
    """The fields a filter's conditions name, at any depth (``and``, ``or``, ``not`` are not
    fields: the conditions inside them are)."""
    if filter is None:
        return set()
    fields: set[str] = set()
    for name, given in _given(filter):
        if name in ("and_", "or_"):
            for item in given:
                fields |= filter_fields(item)
        elif name == "not_":
            fields |= filter_fields(given)
        else:
            fields.add(name)
    return fields


def rollup_condition(filter: ProcessFilter | None, params: QueryParams) -> psql.Composable:
    """The condition of ``filter`` on the rows of a processStats rollup (``r``): the same SQL
    as on the rows themselves, of a filter that names only :data:`ROLLUP_FIELDS`."""
    if filter is None:
        return psql.SQL("TRUE")
    return _compile("filter", filter, _ROLLUP_COLUMNS, params, 1, _Walk())


def snapshot_condition(
    filter: SnapshotFilter | None,
    params: QueryParams,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Condition:
    """The condition selecting the snapshots of ``filter`` taken in [start, end)."""
    parts = _time_bounds(psql.Identifier("c", "timestamp"), start, end, params)
    if filter is not None:
        parts.append(_compile("filter", filter, _SNAPSHOT_COLUMNS, params, 1, _Walk()))
    where = psql.SQL(" AND ").join(parts) if parts else psql.SQL("TRUE")
    return Condition(sql=where, needs_snapshots=True)


@dataclass(frozen=True, slots=True)
class LifetimeCondition:
    """The WHERE condition of lifetimes (``sql``), which of the lifetime's machine (``m``) and
    last sighting (``s``) it reads, and the part of it that holds for each row (``r``) of the
    lifetimes it selects (``rows``)."""

    sql: psql.Composable
    rows: psql.Composable
    needs_machine: bool
    needs_sighting: bool


def lifetime_condition(filter: LifetimeFilter | None, params: QueryParams) -> LifetimeCondition:
    """The condition selecting the lifetimes of ``filter``.

    The fields given at the top of a filter must all hold, and a machine id or pid is the same
    in every row of a process key: their conditions narrow the rows read, exactly.
    """
    if filter is None:
        return LifetimeCondition(psql.SQL("TRUE"), psql.SQL("TRUE"), False, False)
    walk = _Walk()
    where = _compile("filter", filter, _LIFETIME_COLUMNS, params, 1, walk)
    constant = LifetimeFilter(machine_id=filter.machine_id, pid=filter.pid)
    rows = _compile("filter", constant, _KEY_CONSTANT_COLUMNS, params, 1, _Walk())
    return LifetimeCondition(where, rows, "m" in walk.aliases, "s" in walk.aliases)
