"""What the numeric columns of a ``Get-Process`` table hold, and how their cells read.

Memory is in KiB (``(K)``) or MiB (``(M)``, with two decimals in PowerShell 7), CPU(s) in
seconds with two decimals; both decimal forms are printed in the host culture's digits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from parsers.values import integer, read_column
from parsers.windows_locale import windows_number

__all__ = ["NUMERIC_COLUMNS", "Column", "cell_value", "fast_reader", "hundredths", "is_localized"]

_KIB, _MIB = 1024, 1024 * 1024


class Column(NamedTuple):
    """What a label's values mean: the row field (None: read, not kept) and their unit."""

    field: str | None
    unit: int | None


# Memory in KiB (``(K)``) or MiB (``(M)``, with decimals in PowerShell 7); CPU(s) in seconds.
# Working set is Windows' "memory usage"; NPM, PM, Handles and SI have no field in the row.
NUMERIC_COLUMNS = {
    "Handles": Column(None, None),
    "NPM(K)": Column(None, _KIB),
    "NPM(M)": Column(None, _MIB),
    "PM(K)": Column(None, _KIB),
    "PM(M)": Column(None, _MIB),
    "WS(K)": Column("memory_usage_bytes", _KIB),
    "WS(M)": Column("memory_usage_bytes", _MIB),
    "VM(K)": Column("vsz_bytes", _KIB),
    "VM(M)": Column("vsz_bytes", _MIB),
    "CPU(s)": Column("cpu_time_seconds", None),
    "Id": Column("pid", None),
    "SI": Column(None, None),
}


def hundredths(text: str) -> int:
    """A number of "N"/"N2" format in hundredths: ``1,234.56``, ``1.234,56``, ``6.48``, ``12``.

    The integer part is grouped or not by the culture's separator, and then come two decimals
    after its decimal point; grouped digits without decimals (``1,234``: 1234, or 1.234 in a
    culture with three decimals?) are refused rather than guessed.
    """
    whole, point, fraction = text, "", "00"
    if len(text) > 3 and text[-3] in ".,":
        whole, point, fraction = text[:-3], text[-3], text[-2:]
    if not (fraction.isascii() and fraction.isdigit()) or (
        point in whole if point else not whole.isdigit()
    ):
        raise ValueError(f"{text!r} is not a number with two decimals")
    return windows_number(whole) * 100 + int(fraction)


def cell_value(label: str, text: str) -> float:
    """A numeric cell in the row's units: bytes, seconds or a plain count."""
    column = NUMERIC_COLUMNS[label]
    if column.field == "cpu_time_seconds":
        return read_column(label, hundredths, text) / 100
    if column.unit == _MIB:
        return round(read_column(label, hundredths, text) * _MIB / 100)
    return read_column(label, integer, text) * (column.unit or 1)


def fast_reader(label: str) -> Callable[[str], float]:
    """How to read a cell the fast pattern matched: its digits are already checked."""
    unit = NUMERIC_COLUMNS[label].unit
    return partial(cell_value, label) if is_localized(label) else partial(_times, unit or 1)


def _times(unit: int, digits: str) -> int:
    """Checked digits times their unit."""
    return int(digits) * unit


def is_localized(label: str) -> bool:
    """Whether a column's values are printed with the culture's separators."""
    column = NUMERIC_COLUMNS[label]
    return column.field == "cpu_time_seconds" or column.unit == _MIB
