"""The compiled row linker gives what the Python one gives, value for value, on any rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from history import linking
from history.linking import Sighting, link_rows_python
from streams.stored_history import StoredRow

# Rows as the worker reads them back, which relinking links: its fields after others, as a
# parser's rows have theirs.
_Row = StoredRow


_T0 = datetime(2026, 11, 1, tzinfo=UTC)
# Names equal, a prefix cut short, a 15-character comm of a longer name, and others.
_NAMES = st.sampled_from(["nginx", "ngi", "kworker/0:1", "systemd-journal", "systemd-journald"])
_STARTS = st.one_of(
    st.none(), st.sampled_from([_T0, _T0 + timedelta(seconds=1), _T0 + timedelta(minutes=2)])
)
_PRECISIONS = st.sampled_from([None, 1.0, 60.0, 86400.0])
_CPU = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 3.0, 10.0, 10.25]), st.integers(0, 20))
_TRUNCATED = st.sampled_from([[], ["process_name"], ["command_line"]])
_PIDS = st.integers(1, 6)


@st.composite
def _rows(draw: st.DrawFn) -> list[_Row]:
    count = draw(st.integers(0, 12))
    return [
        _Row(
            command_id=1,
            line_number=line,
            pid=draw(_PIDS),
            process_name=draw(_NAMES),
            start_time=draw(_STARTS),
            start_time_precision=draw(_PRECISIONS),
            cpu_time_seconds=draw(_CPU),
            truncated_fields=draw(_TRUNCATED),
            process_key=None,
            interval_seconds=None,
            interval_cpu_percent=None,
        )
        for line in range(count)
    ]


@st.composite
def _sightings(draw: st.DrawFn) -> dict[int, Sighting]:
    pids = draw(st.sets(_PIDS))
    return {
        pid: Sighting(
            draw(_NAMES),
            draw(_STARTS),
            draw(_PRECISIONS),
            draw(_CPU),
            draw(st.booleans()),
            1000 + pid,
        )
        for pid in pids
    }


def _compiled() -> Any:
    """The compiled twin itself."""
    from history._linking import link_rows

    return link_rows


def _new_key(pid: int) -> int:
    return 10_000 + pid


@given(
    rows=_rows(),
    earlier=_sightings(),
    interval=st.one_of(st.none(), st.sampled_from([0.5, 60.0, 3600.0])),
)
def test_the_twins_link_alike(
    rows: list[_Row], earlier: dict[int, Sighting], interval: float | None
) -> None:
    positions = linking._positions_of(_Row)
    assert positions is not None
    compiled = _compiled()(
        rows,
        positions,
        earlier,
        interval,
        _new_key,
        Sighting,
        linking._names_agree,
        linking._starts_agree,
    )
    values, sightings, new_keys = link_rows_python(rows, earlier, interval, _new_key)
    assert compiled[0] == values
    assert compiled[1] == sightings
    assert all(type(sighting) is Sighting for sighting in compiled[1].values())
    assert compiled[2] == new_keys


def test_rows_of_another_type_are_refused_not_misread() -> None:
    positions = linking._positions_of(_Row)
    row = _Row(1, 0, 1, "a", None, None, None, [], None, None, None)
    with pytest.raises(TypeError, match="row 1 is not a row tuple"):
        _compiled()(
            [row, tuple(row)],
            positions,
            {},
            None,
            _new_key,
            Sighting,
            linking._names_agree,
            linking._starts_agree,
        )


def test_the_compiled_linker_is_in_use() -> None:
    # make install compiles it; the Python twin is for machines without a C compiler.
    assert linking.LINKER == "c"


def test_rows_that_are_not_named_tuples_of_the_fields_go_the_python_way() -> None:
    assert linking._positions_of(_Row) == (2, 3, 4, 5, 6, 7)
    assert linking._positions_of(tuple) is None
    assert linking._positions_of(Sighting) is None
