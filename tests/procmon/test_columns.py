"""procmon.columns against what it declares: the parser's row, the migrated database's
catalog, the served GraphQL schema, the export's header and the client's frame."""

from __future__ import annotations

import psycopg
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    parse,
    validate,
)
from psycopg import sql as psql

from graphql_api import sql
from graphql_api.domain import CHANGE_FIELDS
from graphql_api.schema import schema
from parsers.rows import ProcessRow
from procmon.client import _TIME_COLUMNS, PROCESS_COLUMNS, PROCESSES_QUERY
from procmon.columns import (
    API_COLUMNS,
    COLUMNS,
    COPY_COLUMNS,
    EXPORT_COLUMNS,
    FILTER_COLUMNS,
    HISTORY_COLUMNS,
    SORT_COLUMNS,
    Kind,
    SqlType,
)

# format_type's names of the COPY type names.
_CATALOG_TYPES = {
    "integer": SqlType.INT4,
    "bigint": SqlType.INT8,
    "real": SqlType.FLOAT4,
    "double precision": SqlType.FLOAT8,
    "text": SqlType.TEXT,
    "timestamp with time zone": SqlType.TIMESTAMPTZ,
    "text[]": SqlType.TEXT_ARRAY,
}
# ProcessFilter's fields that are the snapshot's columns, or combine filters.
_SNAPSHOT_FILTERS = ["machineName", "osType", "labels", "and", "or", "not"]
# The fields of Process worked out from its columns and its snapshot's, after the columns.
_DERIVED_FIELDS = ["intervalCpuPercentOfMachine"]


def _object(name: str) -> GraphQLObjectType:
    graphql_type = schema._schema.get_type(name)
    assert isinstance(graphql_type, GraphQLObjectType)
    return graphql_type


def _input(name: str) -> GraphQLInputObjectType:
    graphql_type = schema._schema.get_type(name)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    return graphql_type


def test_every_row_field_is_declared_and_every_data_column_is_a_row_field() -> None:
    from_snapshot = {column.name for column in COLUMNS if column.snapshot_value is not None}
    history = [column.name for column in HISTORY_COLUMNS]
    assert {column.name for column in COLUMNS} - from_snapshot - set(history) == set(
        ProcessRow._fields
    )
    copied = [c.name for c in COPY_COLUMNS]
    assert copied[len(from_snapshot) : len(copied) - len(history)] == list(ProcessRow._fields)
    assert copied[len(copied) - len(history) :] == [
        "process_key",
        "interval_seconds",
        "interval_cpu_percent",
    ]


def test_the_declaration_is_the_catalog_of_a_migrated_database(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull"
            " FROM pg_attribute WHERE attrelid = 'processes'::regclass"
            " AND attnum > 0 AND NOT attisdropped"
        ).fetchall()
    catalog = {name: (_CATALOG_TYPES[type_name], nullable) for name, type_name, nullable in rows}
    # A list stored as NULL when empty is nullable in the table, never in the API.
    declared = {
        column.name: (column.sql_type, column.nullable or column.empty_as_null)
        for column in COLUMNS
    }
    assert declared == catalog


def test_the_process_type_has_a_field_per_api_column_typed_and_described_as_declared() -> None:
    fields = _object("Process").fields
    assert list(fields) == [column.graphql_name for column in API_COLUMNS] + _DERIVED_FIELDS
    for column in API_COLUMNS:
        assert column.kind is not None
        base = "[String!]" if column.kind is Kind.STRING_LIST else str(column.kind)
        expected = base if column.nullable else f"{base}!"
        field = fields[column.graphql_name]
        assert (str(field.type), field.description) == (expected, column.description)


def test_the_process_filter_has_a_field_per_filter_column_then_the_snapshots() -> None:
    fields = _input("ProcessFilter").fields
    assert list(fields) == [c.graphql_name for c in FILTER_COLUMNS] + _SNAPSHOT_FILTERS
    process_fields = _object("Process").fields
    for column in FILTER_COLUMNS:
        operators = fields[column.graphql_name].type
        assert isinstance(operators, GraphQLInputObjectType)
        # Each operator takes the field's own values; a snapshot's id is given as its number.
        value_type = str(operators.fields["equalTo"].type)
        shown_type = str(process_fields[column.graphql_name].type).rstrip("!")
        assert value_type == ("BigInt" if shown_type == "ID" else shown_type)


def test_process_order_by_lists_each_sort_column_in_its_declared_directions() -> None:
    enum = schema._schema.get_type("ProcessOrderBy")
    assert isinstance(enum, GraphQLEnumType)
    expected = ["LISTING_ORDER"] + [
        f"{column.name}_{direction}".upper()
        for column in SORT_COLUMNS
        for direction in column.sort_directions
    ]
    assert list(enum.values) == expected
    assert {c.name for c in SORT_COLUMNS} <= {c.name for c in API_COLUMNS}


def test_the_export_header_is_the_declared_export_columns(database_url: str) -> None:
    statement = psql.SQL(sql.EXPORT_PROCESSES).format(join=psql.SQL(""), where=psql.SQL("FALSE"))
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(statement)
        header = [column.name for column in cursor.description or ()]
    assert header == [column.field_name for column in EXPORT_COLUMNS]
    assert header[:4] == ["machine_id", "snapshot_id", "observed_at", "line_number"]


def test_the_client_frame_asks_for_fields_the_schema_has_and_converts_its_times() -> None:
    fields = _object("Process").fields
    assert set(PROCESS_COLUMNS) <= set(fields)
    times = [name for name in PROCESS_COLUMNS if str(fields[name].type).startswith("DateTime")]
    assert list(_TIME_COLUMNS) == times
    assert validate(schema._schema, parse(PROCESSES_QUERY)) == []


def test_snapshot_diff_compares_process_fields() -> None:
    assert set(CHANGE_FIELDS) <= set(_object("Process").fields)
    assert "cpuTimeSeconds" not in CHANGE_FIELDS
