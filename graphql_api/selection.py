"""What a request selects below a field, so that its statements read only that: the process
columns of a page, and whether a machine's newest snapshot is asked with it.

A page of 100 processes asked for four fields read every one of the 27 columns of each row,
and psycopg and ``Process.from_row`` built them all: on the benchmark's question (b) most of
the API's time. A connection's selection (its ``nodes`` and ``edges { node }``, through
fragments) names the fields; each is read from the columns below. Directives are not
evaluated: a field under ``@skip`` is read all the same (more than needed, never less), and a
field this map does not know reads every column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import SelectedField, Selection

from procmon.columns import API_COLUMNS, COLUMNS_BY_NAME, ProcessColumn

__all__ = ["selected_process_columns", "selects"]

# What each field of Process reads; its own resolver's inputs for a field that has one.
_READS: dict[str, tuple[ProcessColumn, ...]] = {
    column.graphql_name: (column,) for column in API_COLUMNS
} | {
    "intervalCpuPercentOfMachine": (
        COLUMNS_BY_NAME["interval_cpu_percent"],
        COLUMNS_BY_NAME["command_id"],
    ),
    "__typename": (),
}


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of ``selections``, those of their fragments included."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def selects(selected: Iterable[Selection], name: str) -> bool:
    """Whether the fields ``selected`` (a resolver's ``info.selected_fields``) select a field
    ``name`` of their own."""
    return any(
        field.name == name for parent in _fields(selected) for field in _fields(parent.selections)
    )


def selected_process_columns(selected: Iterable[Selection]) -> tuple[ProcessColumn, ...]:
    """The API columns that the processes of a ProcessConnection are asked for, in
    ``API_COLUMNS`` order; ``selected`` is the connection field's (its resolver's
    ``info.selected_fields``)."""
    nodes: list[SelectedField] = []
    for connection in _fields(selected):
        for field in _fields(connection.selections):
            if field.name == "nodes":
                nodes.append(field)
            elif field.name == "edges":
                nodes.extend(node for node in _fields(field.selections) if node.name == "node")
    read: set[ProcessColumn] = set()
    for node in nodes:
        for field in _fields(node.selections):
            columns = _READS.get(field.name)
            if columns is None:
                return API_COLUMNS
            read.update(columns)
    return tuple(column for column in API_COLUMNS if column in read)
