"""Hypothesis strategies shared by the parsers' fuzz tests."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

from hypothesis import strategies as st

__all__ = ["LINES", "SNAPSHOT_TIMES"]

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
