"""The columns of ``processes``, each declared once, and the orders the code reads them in.

A process column is a field of :class:`parsers.rows.ProcessRow` or a placement column, which
says where a row belongs (its snapshot's id, machine and time, its line). Its declaration
holds what every component needs to know of it: the SQL type and nullability (the worker's
COPY, the integer limits it checks), the API's field, filter and orders, what snapshotDiff
compares, the export's name and Arrow type, and the notebook client's frame. The components
derive their lists from the tuples below; a column is written out by name elsewhere only
where logic needs that very column.

Dependency-free (the standard library and :mod:`parsers.rows`): the notebook client imports
it, and must not pull in the server's libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import LiteralString

from parsers.rows import ProcessRow, ProcessStatus

__all__ = [
    "API_COLUMNS",
    "COLUMNS",
    "COLUMNS_BY_NAME",
    "COMPARED_COLUMNS",
    "COPY_COLUMNS",
    "EXPORT_COLUMNS",
    "FILTER_COLUMNS",
    "FRAME_COLUMNS",
    "HISTORY_COLUMNS",
    "SORT_COLUMNS",
    "Kind",
    "ProcessColumn",
    "Sort",
    "SqlType",
]


class SqlType(StrEnum):
    """A column's PostgreSQL type, by the name binary COPY gives it."""

    INT4 = "int4"
    INT8 = "int8"
    FLOAT4 = "float4"
    FLOAT8 = "float8"
    TEXT = "text"
    TIMESTAMPTZ = "timestamptz"
    TEXT_ARRAY = "text[]"


class Kind(StrEnum):
    """The GraphQL type of a column's values."""

    INT = "Int"
    BIG_INT = "BigInt"
    FLOAT = "Float"
    STRING = "String"
    DATE_TIME = "DateTime"
    STRING_LIST = "[String]"
    ID = "ID"


# The export's Parquet type of each SQL type, by Arrow's own names
# (graphql_api.export_encoders maps them to pyarrow types).
_ARROW_TYPES = {
    SqlType.INT4: "int32",
    SqlType.INT8: "int64",
    SqlType.FLOAT4: "float",
    SqlType.FLOAT8: "double",
    SqlType.TEXT: "string",
    SqlType.TIMESTAMPTZ: "timestamp[us, tz=UTC]",
    SqlType.TEXT_ARRAY: "list<item: string>",
}


@dataclass(frozen=True, slots=True)
class Sort:
    """How a column orders processes: its place among ``ProcessOrderBy``'s columns (after
    the listing's order), and whether its descending order is listed before its ascending."""

    position: int
    descending_first: bool


@dataclass(frozen=True, slots=True)
class ProcessColumn:
    """One column of ``processes`` and how each component shows it.

    ``kind`` None keeps the column out of the API, and so out of its filter, its orders,
    snapshotDiff and the client's frame. ``public_name`` is what the API and the export call
    the column when that is not its own name. ``snapshot_value`` places a column the worker
    takes from the snapshot, not from a ProcessRow, among the values it writes before each
    row's fields; ``history_value`` places a column of process history, which the worker
    works out for each row (:mod:`streams.history`), among the values it writes after them;
    ``export_lead`` places a column among those the export begins with. ``empty_as_null``
    marks a list column whose empty value is stored as NULL (an empty array costs every row
    13 bytes, NULL one bit): :meth:`read_sql` gives it back as the empty list.
    """

    name: LiteralString
    sql_type: SqlType
    kind: Kind | None
    nullable: bool = True
    description: str | None = None
    public_name: LiteralString | None = None
    filtered: bool = True
    sort: Sort | None = None
    compared: bool = False
    in_frame: bool = True
    snapshot_value: int | None = None
    history_value: int | None = None
    export_lead: int | None = None
    empty_as_null: bool = False

    def __post_init__(self) -> None:
        if self.empty_as_null and self.sql_type is not SqlType.TEXT_ARRAY:
            raise ValueError(f"{self.name}: only a list's empty value is stored as NULL")
        if self.kind is None and (self.filtered or self.sort or self.compared or self.in_frame):
            raise ValueError(
                f"{self.name}: a column outside the API has no filter, order, comparison or"
                " place in the client's frame"
            )

    @property
    def sql_name(self) -> LiteralString:
        """The column as an SQL identifier, quoted (``user`` is a reserved word)."""
        return f'"{self.name}"'

    def read_sql(self, table: LiteralString) -> LiteralString:
        """The column's value as read from ``table`` (a name or an alias): a list stored as
        NULL when empty is read as the empty list."""
        if self.empty_as_null:
            # Not '{}': the API's statements are templates whose braces are placeholders.
            return f"coalesce({table}.{self.sql_name}, ARRAY[]::text[])"
        return f"{table}.{self.sql_name}"

    def select_sql(self, table: LiteralString, name: LiteralString | None = None) -> LiteralString:
        """The column as a select list item of ``table``'s rows, named ``name`` (the
        column's own name when None)."""
        value = self.read_sql(table)
        if not self.empty_as_null and name in (None, self.name):
            return value
        return f'{value} AS "{name or self.name}"'

    @property
    def field_name(self) -> LiteralString:
        """Its name in the API (snake case: the GraphQL name is its camel case) and the export."""
        return self.public_name or self.name

    @property
    def graphql_name(self) -> str:
        """Its GraphQL field's name, camel-cased as strawberry does."""
        head, *rest = self.field_name.split("_")
        return head + "".join(part.capitalize() for part in rest)

    @property
    def sort_directions(self) -> tuple[str, ...]:
        """Its directions in ProcessOrderBy (``desc``, ``asc``) as the enum lists them; none
        when it does not sort."""
        if self.sort is None:
            return ()
        return ("desc", "asc") if self.sort.descending_first else ("asc", "desc")

    @property
    def arrow_type(self) -> str:
        """Its type in the export's Parquet, by Arrow's name."""
        return _ARROW_TYPES[self.sql_type]

    @property
    def is_time(self) -> bool:
        """Whether its values are times (the client makes them UTC timestamps)."""
        return self.kind is Kind.DATE_TIME


_INT4, _INT8, _TEXT = SqlType.INT4, SqlType.INT8, SqlType.TEXT
_FLOAT4, _FLOAT8, _TIME = SqlType.FLOAT4, SqlType.FLOAT8, SqlType.TIMESTAMPTZ

# In the order of the API's Process type, the placement columns last.
COLUMNS: tuple[ProcessColumn, ...] = (
    ProcessColumn(
        "process_key",
        _INT8,
        Kind.ID,
        description=(
            "The process across snapshots: the same in every snapshot of its machine that it"
            " is in, and never that of another process (a reused pid gets a new key)."
        ),
        history_value=0,
    ),
    ProcessColumn("pid", _INT4, Kind.INT, nullable=False, sort=Sort(6, descending_first=False)),
    ProcessColumn("ppid", _INT4, Kind.INT, compared=True),
    ProcessColumn("user", _TEXT, Kind.STRING, compared=True),
    ProcessColumn(
        "process_name",
        _TEXT,
        Kind.STRING,
        nullable=False,
        sort=Sort(7, descending_first=False),
    ),
    ProcessColumn("command_line", _TEXT, Kind.STRING, compared=True),
    ProcessColumn(
        "cpu_percent", _FLOAT4, Kind.FLOAT, sort=Sort(1, descending_first=True), compared=True
    ),
    ProcessColumn(
        "memory_percent",
        _FLOAT4,
        Kind.FLOAT,
        sort=Sort(2, descending_first=True),
        compared=True,
    ),
    ProcessColumn(
        "rss_bytes",
        _INT8,
        Kind.BIG_INT,
        description="Resident set size in bytes.",
        sort=Sort(3, descending_first=True),
        compared=True,
    ),
    ProcessColumn(
        "vsz_bytes",
        _INT8,
        Kind.BIG_INT,
        description="Virtual memory size in bytes.",
        compared=True,
    ),
    ProcessColumn(
        "memory_usage_bytes",
        _INT8,
        Kind.BIG_INT,
        description="What the tool itself calls memory usage (Windows' working set), in bytes.",
        compared=True,
    ),
    ProcessColumn(
        "status",
        _TEXT,
        Kind.STRING,
        description=f"Normalized state: one of {', '.join(ProcessStatus)}.",
        compared=True,
    ),
    ProcessColumn(
        "status_raw", _TEXT, Kind.STRING, description="The state as the listing wrote it."
    ),
    ProcessColumn("start_time", _TIME, Kind.DATE_TIME, sort=Sort(5, descending_first=True)),
    ProcessColumn(
        "start_time_precision",
        _FLOAT4,
        Kind.FLOAT,
        description=(
            "The seconds the printed start time covers: the start lies in [startTime,"
            " startTime + this). 60 for ps's 14:03, 86400 for Nov28, a year for 2025."
        ),
    ),
    # Not compared: CPU time always grows, so it would mark every running process as changed.
    ProcessColumn("cpu_time_seconds", _FLOAT8, Kind.FLOAT, sort=Sort(4, descending_first=True)),
    ProcessColumn(
        "interval_seconds",
        _FLOAT4,
        Kind.FLOAT,
        description=(
            "Wall seconds since the previous snapshot of the machine, when the process was in"
            " it; null on a first sighting."
        ),
        history_value=1,
    ),
    ProcessColumn(
        "interval_cpu_percent",
        _FLOAT4,
        Kind.FLOAT,
        description=(
            "CPU used since the previous snapshot, in percent of one CPU (as top counts it):"
            " 100 x CPU-time delta / intervalSeconds. Null on a first sighting, after a gap"
            " longer than the worker's PROCMON_HISTORY_MAX_GAP, or where CPU time is not"
            " printed."
        ),
        sort=Sort(8, descending_first=True),
        history_value=2,
    ),
    ProcessColumn("tty", _TEXT, Kind.STRING),
    ProcessColumn("threads", _INT4, Kind.INT, compared=True),
    ProcessColumn("nice", _INT4, Kind.INT, compared=True),
    ProcessColumn("priority", _INT4, Kind.INT, compared=True),
    ProcessColumn(
        "truncated_fields",
        SqlType.TEXT_ARRAY,
        Kind.STRING_LIST,
        nullable=False,
        description="Fields whose printed value the tool cut short; do not trust them as exact.",
        filtered=False,
        in_frame=False,
        empty_as_null=True,
    ),
    ProcessColumn(
        "observed_at",
        _TIME,
        Kind.DATE_TIME,
        nullable=False,
        description="Time of the snapshot it was seen in.",
        sort=Sort(0, descending_first=True),
        snapshot_value=2,
        export_lead=2,
    ),
    ProcessColumn(
        "machine_id", _TEXT, Kind.STRING, nullable=False, snapshot_value=1, export_lead=0
    ),
    ProcessColumn(
        "command_id",
        _INT8,
        Kind.ID,
        nullable=False,
        public_name="snapshot_id",
        snapshot_value=0,
        export_lead=1,
    ),
    ProcessColumn(
        "line_number",
        _INT4,
        None,
        nullable=False,
        filtered=False,
        in_frame=False,
        export_lead=3,
    ),
)
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}


def _by_place(place: dict[str, int]) -> tuple[ProcessColumn, ...]:
    """The columns ``place`` names, in the order of their places."""
    return tuple(COLUMNS_BY_NAME[name] for name in sorted(place, key=place.__getitem__))


def _the_rest(
    columns: tuple[ProcessColumn, ...], leading: tuple[ProcessColumn, ...]
) -> tuple[ProcessColumn, ...]:
    names = {column.name for column in leading}
    return tuple(column for column in columns if column.name not in names)


_SNAPSHOT_VALUES = _by_place(
    {c.name: c.snapshot_value for c in COLUMNS if c.snapshot_value is not None}
)
_HISTORY_VALUES = _by_place(
    {c.name: c.history_value for c in COLUMNS if c.history_value is not None}
)
_EXPORT_LEAD = _by_place({c.name: c.export_lead for c in COLUMNS if c.export_lead is not None})

API_COLUMNS = tuple(column for column in COLUMNS if column.kind is not None)
"""The fields of the API's Process type, in its order."""
FILTER_COLUMNS = tuple(column for column in COLUMNS if column.filtered)
"""The fields of ProcessFilter (before those of the snapshot), in its order."""
SORT_COLUMNS = _by_place({c.name: c.sort.position for c in COLUMNS if c.sort is not None})
"""The columns of ProcessOrderBy (after the listing's order), in its order."""
COMPARED_COLUMNS = tuple(column for column in COLUMNS if column.compared)
"""What snapshotDiff compares between two sightings of a process."""
COPY_COLUMNS = (
    _SNAPSHOT_VALUES + tuple(COLUMNS_BY_NAME[name] for name in ProcessRow._fields) + _HISTORY_VALUES
)
"""The worker's COPY: the snapshot's values, a ProcessRow's fields in its own order, then the
row's history (:data:`HISTORY_COLUMNS`)."""
HISTORY_COLUMNS = _HISTORY_VALUES
"""The columns of process history the worker works out for each row, in the COPY's order."""
EXPORT_COLUMNS = _EXPORT_LEAD + _the_rest(COLUMNS, _EXPORT_LEAD)
"""The export's columns: where each row is from, then the others in declaration order."""
FRAME_COLUMNS = tuple(
    column for column in _SNAPSHOT_VALUES + _the_rest(COLUMNS, _SNAPSHOT_VALUES) if column.in_frame
)
"""The client's DataFrame: the snapshot's values first, as in the COPY, then the others."""
