"""The encodings of ``/export/processes``: CSV, NDJSON and Parquet, each written as it goes.

An encoder turns the batches of rows a server-side cursor yields into the bytes to send next:
:meth:`ExportEncoder.start` once with the column names, :meth:`ExportEncoder.encode` per
batch, :meth:`ExportEncoder.finish` at the end. None keeps more than a bounded number of rows:
CSV and NDJSON encode each batch whole, Parquet gathers rows into row groups of
:data:`PARQUET_ROW_GROUP_ROWS` and sends each group once written, the file's footer last.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from procmon.columns import EXPORT_COLUMNS

__all__ = [
    "ENCODERS",
    "PARQUET_ROW_GROUP_ROWS",
    "CsvEncoder",
    "ExportEncoder",
    "NdjsonEncoder",
    "ParquetEncoder",
]

PARQUET_ROW_GROUP_ROWS = 20_000

Rows = Sequence[tuple[Any, ...]]


class ExportEncoder(Protocol):
    """What the export stream asks of an encoding."""

    media_type: str

    def start(self, columns: list[str]) -> bytes:
        """The bytes before any row (a header), given the result's column names."""

    def encode(self, rows: Rows) -> bytes:
        """The bytes of a batch of rows; may be empty while rows are gathered."""

    def finish(self) -> bytes:
        """The bytes after the last row (rows still gathered, a footer)."""


def _text_value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


class CsvEncoder:
    """CSV with a header line; lists (``truncated_fields``) joined by ``|``, times ISO 8601."""

    media_type = "text/csv; charset=utf-8"

    def start(self, columns: list[str]) -> bytes:
        """The header line."""
        return (",".join(columns) + "\n").encode()

    def encode(self, rows: Rows) -> bytes:
        """One line per row."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in rows:
            writer.writerow("|".join(v) if isinstance(v, list) else _text_value(v) for v in row)
        return out.getvalue().encode()

    def finish(self) -> bytes:
        """Nothing: CSV has no footer."""
        return b""


class NdjsonEncoder:
    """One JSON object per line, keyed by column name; times ISO 8601."""

    media_type = "application/x-ndjson"

    def __init__(self) -> None:
        self._columns: list[str] = []

    def start(self, columns: list[str]) -> bytes:
        """Nothing: every line names its columns."""
        self._columns = columns
        return b""

    def encode(self, rows: Rows) -> bytes:
        """One line per row."""
        lines = (
            json.dumps(
                {c: _text_value(v) for c, v in zip(self._columns, row, strict=True)},
                ensure_ascii=False,
            )
            + "\n"
            for row in rows
        )
        return "".join(lines).encode()

    def finish(self) -> bytes:
        """Nothing: NDJSON has no footer."""
        return b""


# The pyarrow type of each Arrow type name procmon.columns gives.
_ARROW_TYPES: dict[str, pa.DataType] = {
    str(data_type): data_type
    for data_type in (
        pa.int32(),
        pa.int64(),
        pa.float32(),
        pa.float64(),
        pa.string(),
        pa.timestamp("us", tz="UTC"),
        pa.list_(pa.string()),
    )
}
# The Parquet type of each column of graphql_api.sql.EXPORT_PROCESSES, as PostgreSQL has it.
_PARQUET_TYPES = {column.field_name: _ARROW_TYPES[column.arrow_type] for column in EXPORT_COLUMNS}


class _Drained(io.RawIOBase):
    """A write-only file whose written bytes are taken away as the response sends them.

    It counts every byte ever written, so the Parquet writer's offsets stay right.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        """Yes: the writer only writes."""
        return True

    def write(self, data: Any) -> int:
        """Keep ``data`` until :meth:`take`."""
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        """Bytes written so far, taken or not."""
        return self._position

    def take(self) -> bytes:
        """The bytes written since the last call."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class ParquetEncoder:
    """A Parquet file, zstd-compressed, one row group per :data:`PARQUET_ROW_GROUP_ROWS` rows."""

    media_type = "application/vnd.apache.parquet"

    def __init__(self) -> None:
        self._sink = _Drained()
        self._pending: list[tuple[Any, ...]] = []
        self._schema = pa.schema([])
        self._writer: pq.ParquetWriter | None = None

    def start(self, columns: list[str]) -> bytes:
        """Nothing yet: the magic bytes go out with the first row group."""
        self._schema = pa.schema([(column, _PARQUET_TYPES[column]) for column in columns])
        self._writer = pq.ParquetWriter(self._sink, self._schema, compression="zstd")
        return b""

    def encode(self, rows: Rows) -> bytes:
        """The row groups that ``rows`` complete, if any."""
        self._pending.extend(rows)
        out = b""
        while len(self._pending) >= PARQUET_ROW_GROUP_ROWS:
            out += self._write(self._pending[:PARQUET_ROW_GROUP_ROWS])
            del self._pending[:PARQUET_ROW_GROUP_ROWS]
        return out

    def finish(self) -> bytes:
        """The last row group and the footer."""
        out = self._write(self._pending) if self._pending else b""
        self._pending = []
        if self._writer is not None:
            self._writer.close()
        return out + self._sink.take()

    def _write(self, rows: Rows) -> bytes:
        assert self._writer is not None, "start() comes first"
        columns = zip(*rows, strict=True)
        arrays = [
            pa.array(values, type=field.type)
            for values, field in zip(columns, self._schema, strict=True)
        ]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))
        return self._sink.take()


ENCODERS: dict[str, Callable[[], ExportEncoder]] = {
    "csv": CsvEncoder,
    "ndjson": NdjsonEncoder,
    "parquet": ParquetEncoder,
}
