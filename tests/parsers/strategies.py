"""Hypothesis strategies shared by the parsers' fuzz tests."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any, NamedTuple

from hypothesis import strategies as st

__all__ = ["LINES", "SNAPSHOT_TIMES", "TOP_FIELDS", "TOP_TABLES", "TopTable"]

# Values each column can take, so that fuzzing reaches every column's reading, not only the split.
_PLAUSIBLE_COLUMNS = (
    ("root", "1000", "systemd+"),
    ("1", "4801"),
    ("0.0", "800.0"),
    ("0.1", "100"),
    ("0", "128068"),
    ("0", "6676"),
    ("?", "??", "-", "pts/0"),
    ("Ss", "R+", "Z", "U", "W"),
    (
        *("-", "23:59", "0:00", "12:00PM", "Oct25", "Feb29", "Dec31", "2019", "9999", "0001"),
        *("Mon03PM", "Sun23", "1Jan70", "31Dec69"),
    ),
    ("0:03", "00:00:03", "1-02:03:04", "0:10.58"),
    ("/usr/bin/x --y", "[kworker/0:1]", "[sh] <defunct>", "[", "/"),
)


def _spoil(row: tuple[str, ...], junk: tuple[int, str] | None) -> str:
    """The row as ps prints it, with the column ``junk`` names replaced by its text."""
    columns = list(row)
    if junk is not None:
        columns[junk[0]] = junk[1]
    return " ".join(columns)


_ROWS = st.builds(
    _spoil,
    st.tuples(*(st.sampled_from(values) for values in _PLAUSIBLE_COLUMNS)),
    st.none() | st.tuples(st.integers(0, len(_PLAUSIBLE_COLUMNS) - 1), st.text(max_size=8)),
)

# Lines of a listing: shaped like ps's rows, or anything at all.
LINES = st.one_of(_ROWS, st.text(max_size=80))
# Any moment of the calendar, so resolving start times meets its ends.
SNAPSHOT_TIMES = st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=14))])
)


# procps top fields as top -b lays them out: width (None: variable, drawn per table) and
# whether left-aligned; widths are those of top's field table (procps-ng 4.x).
TOP_FIELDS: dict[str, tuple[int | None, bool]] = {
    **{"PID": (5, False), "PPID": (5, False), "UID": (5, False), "USER": (8, True)},
    **{"RUSER": (8, True), "TTY": (8, True), "PR": (3, False), "NI": (3, False)},
    **{"nTH": (3, False), "P": (2, False), "%CPU": (5, False), "TIME": (6, False)},
    **{"TIME+": (9, False), "%MEM": (5, False), "VIRT": (7, False), "RES": (6, False)},
    **{"SHR": (6, False), "nMin": (4, False), "S": (1, True), "WCHAN": (10, True)},
    **{"Flags": (8, True), "COMMAND": (None, True), "ENVIRON": (None, True)},
    **{"EXE": (None, True), "CGROUPS": (None, True)},
}
_WORD = st.text("abcdefghijklmnopqrstuvwxyz_-./:=()0123456789", min_size=1, max_size=12)
# Text that may hold spaces, but not at its ends, never a "+" (top's cut mark) nor brackets.
_SPACED_TEXT = st.lists(_WORD, min_size=1, max_size=5).map(" ".join)
_TOP_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "PID": st.integers(1, 99_999),
    "PPID": st.integers(0, 99_999),
    "UID": st.integers(0, 99_999),
    "USER": st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
    "RUSER": st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
    "TTY": st.sampled_from(["?", "pts/0", "pts/12", "tty1"]),
    "PR": st.integers(-99, 39) | st.just("rt"),  # top shows -100 as rt
    "NI": st.integers(-20, 19),
    "nTH": st.integers(1, 5000),
    "P": st.integers(0, 63),
    "%CPU": st.integers(0, 9999),  # tenths
    "TIME": st.integers(0, 999 * 60 + 59),  # seconds
    "TIME+": st.integers(0, 999 * 6000 + 5999),  # hundredths, up to 999:59.99
    "%MEM": st.integers(0, 1000),  # tenths
    "VIRT": st.integers(0, 9_999_999),  # KiB
    "RES": st.integers(0, 999_999),  # KiB
    "SHR": st.integers(0, 999_999),
    "nMin": st.integers(0, 9999),
    "S": st.sampled_from("RSDITtZ"),
    "WCHAN": _WORD | st.just("-"),
    "Flags": st.sampled_from(["..4.....", "..4..1..", "..2.8.4."]),
    "COMMAND": _SPACED_TEXT,
    "ENVIRON": _SPACED_TEXT | st.just("-"),
    "EXE": _SPACED_TEXT | st.just("-"),
    "CGROUPS": _SPACED_TEXT | st.just("-"),
}


class TopTable(NamedTuple):
    """A top table to render: fields in order, variable fields' widths, processes' values."""

    fields: list[str]
    widths: dict[str, int]
    zero_suppress: bool
    processes: list[dict[str, Any]]


@st.composite
def _top_tables(draw: st.DrawFn) -> TopTable:
    others = draw(st.lists(st.sampled_from(sorted(set(TOP_FIELDS) - {"PID", "COMMAND"}))))
    fields = draw(st.permutations(["PID", "COMMAND", *dict.fromkeys(others)]))
    widths = {
        name: width if width is not None else draw(st.integers(7, 40))
        for name, (width, _) in TOP_FIELDS.items()
    }
    processes = draw(
        st.lists(st.fixed_dictionaries({name: _TOP_VALUES[name] for name in fields}), max_size=8)
    )
    return TopTable(fields, widths, draw(st.booleans()), processes)


# Tables of top -b in any set and order of fields, as a toprc can ask for.
TOP_TABLES = _top_tables()
