"""Linking a snapshot to the one before it on its machine: who is the same process, and the CPU
each used in between.

A row continues a row of the previous snapshot when the pid is the same, the names agree,
the start times agree within the precision each was printed at, and the CPU time did not go
down. It then takes that row's key; otherwise it is a first sighting and gets a key of its
own (:func:`history.keys.process_key_of`). A continuing row measured within the longest gap
gets its interval and the CPU it used in it, as percent of one CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any, Final, NamedTuple, Protocol, cast

from history.keys import process_key_of

__all__ = [
    "LINKER",
    "HistoryValues",
    "Linkable",
    "LinkedSnapshot",
    "Sighting",
    "SnapshotPlace",
    "link_rows_python",
    "link_snapshot",
    "same_process",
]

# Linux keeps 15 characters of a process's name (TASK_COMM_LEN): a name that long may be the
# start of a longer one another format printed whole.
_COMM_LENGTH = 15
# Start times from boot time and ticks move by a second between listings, and a start time
# read from an elapsed time moves with the collector's delay.
_START_SLACK_SECONDS = 1.0
# ps and tasklist print CPU time in whole seconds, top in hundredths: a drop under a second
# between two formats is rounding, not a new process.
_CPU_SLACK_SECONDS = 1.0

HistoryValues = tuple[int, float | None, float | None]
"""What a row's history is: its process key, interval seconds and interval CPU percent."""


class Linkable(Protocol):
    """What linking reads of a row: a parser's ProcessRow, or a row read back from the database."""

    @property
    def pid(self) -> int: ...
    @property
    def process_name(self) -> str: ...
    @property
    def start_time(self) -> datetime | None: ...
    @property
    def start_time_precision(self) -> float | None: ...
    @property
    def cpu_time_seconds(self) -> float | None: ...
    @property
    def truncated_fields(self) -> tuple[str, ...] | list[str]: ...


class SnapshotPlace(NamedTuple):
    """Where a snapshot is: its machine, its time and its content hash (the dedupe key)."""

    machine_id: str
    observed_at: datetime
    content_hash: str


class Sighting(NamedTuple):
    """A process as one snapshot saw it: what the next snapshot's rows are compared with."""

    process_name: str
    start_time: datetime | None
    start_time_precision: float | None
    cpu_time_seconds: float | None
    name_truncated: bool
    process_key: int


class LinkedSnapshot(NamedTuple):
    """A snapshot as the next one of its machine is linked to: its time and its processes, and
    the keys of the processes first seen in it."""

    observed_at: datetime
    sightings: Mapping[int, Sighting]
    new_keys: tuple[int, ...] = ()

    @classmethod
    def of(
        cls, observed_at: datetime, rows: Iterable[tuple[Linkable, int | None]]
    ) -> LinkedSnapshot:
        """The snapshot of ``rows`` with their keys; the first row of a pid speaks for it, and a
        row without a key (stored before process history) links nothing."""
        sightings: dict[int, Sighting] = {}
        for row, key in rows:
            if key is not None and row.pid not in sightings:
                sightings[row.pid] = _sighting(row, key)
        return cls(observed_at, sightings)


# A Sighting of a tuple of its six values: the named tuple's own __new__ parses its arguments
# in Python, which cost a third of linking a row.
_new_sighting = cast(Callable[[tuple[Any, ...]], Sighting], partial(tuple.__new__, Sighting))


def _sighting(row: Linkable, key: int) -> Sighting:
    return _new_sighting(
        (
            row.process_name,
            row.start_time,
            row.start_time_precision,
            row.cpu_time_seconds,
            "process_name" in row.truncated_fields,
            key,
        )
    )


def _names_agree(earlier: Sighting, row: Linkable) -> bool:
    if earlier.process_name == row.process_name:
        return True
    shorter, longer, cut = (
        (earlier.process_name, row.process_name, earlier.name_truncated)
        if len(earlier.process_name) < len(row.process_name)
        else (row.process_name, earlier.process_name, "process_name" in row.truncated_fields)
    )
    return longer.startswith(shorter) and (cut or len(shorter) >= _COMM_LENGTH)


def _starts_agree(earlier: Sighting, row: Linkable) -> bool:
    if earlier.start_time is None or row.start_time is None or earlier.start_time == row.start_time:
        return True
    # Each printed start covers [start, start + precision]; a start without one is taken as
    # printed to the second.
    offset = (row.start_time - earlier.start_time).total_seconds()
    earlier_width = earlier.start_time_precision or 1.0
    width = row.start_time_precision or 1.0
    return -width - _START_SLACK_SECONDS <= offset <= earlier_width + _START_SLACK_SECONDS


def same_process(earlier: Sighting, row: Linkable) -> bool:
    """Whether ``row``, of the same pid in the next snapshot, is the process ``earlier`` saw."""
    if (
        earlier.cpu_time_seconds is not None
        and row.cpu_time_seconds is not None
        and row.cpu_time_seconds < earlier.cpu_time_seconds - _CPU_SLACK_SECONDS
    ):
        return False
    return _names_agree(earlier, row) and _starts_agree(earlier, row)


def link_snapshot(
    place: SnapshotPlace,
    rows: Iterable[Linkable],
    previous: LinkedSnapshot | None,
    *,
    max_gap_seconds: float,
) -> tuple[list[HistoryValues], LinkedSnapshot]:
    """Each row's history, in the order of ``rows``, and the snapshot as the next is linked to it.

    ``previous`` is the snapshot just before this one on its machine (None when there is none).
    A later row with a pid already seen in this snapshot (a thread, in listings of threads)
    shares the first one's key and has no interval of its own.
    """
    earlier_of: Mapping[int, Sighting] = previous.sightings if previous is not None else {}
    gap = (place.observed_at - previous.observed_at).total_seconds() if previous else 0.0
    interval = gap if 0.0 < gap <= max_gap_seconds else None
    new_key = partial(process_key_of, place.machine_id, place.observed_at, place.content_hash)
    # Any: the compiled twin reads a row by its positions in its type, not its protocol.
    listed: list[Any] = rows if isinstance(rows, list) else list(rows)
    positions = _positions_of(type(listed[0])) if listed else None
    if positions is not None and isinstance(earlier_of, dict):
        linked = _link_rows(
            listed,
            positions,
            earlier_of,
            interval,
            new_key,
            Sighting,
            _names_agree,
            _starts_agree,
        )
    else:
        linked = link_rows_python(listed, earlier_of, interval, new_key)
    values, sightings, new_keys = linked
    return values, LinkedSnapshot(place.observed_at, sightings, tuple(new_keys))


_LINKED_FIELDS = (
    "pid",
    "process_name",
    "start_time",
    "start_time_precision",
    "cpu_time_seconds",
    "truncated_fields",
)


_POSITIONS: dict[type[Any], tuple[int, ...] | None] = {}


def _positions_of(row_type: type[Any]) -> tuple[int, ...] | None:
    """Where a named tuple of ``row_type`` holds what linking reads, or None when it is not
    one: the compiled twin reads rows by position."""
    if row_type not in _POSITIONS:
        fields: tuple[str, ...] = getattr(row_type, "_fields", ())
        if issubclass(row_type, tuple) and all(name in fields for name in _LINKED_FIELDS):
            _POSITIONS[row_type] = tuple(fields.index(name) for name in _LINKED_FIELDS)
        else:
            _POSITIONS[row_type] = None
    return _POSITIONS[row_type]


def link_rows_python(
    rows: Iterable[Linkable],
    earlier_of: Mapping[int, Sighting],
    interval: float | None,
    new_key: Callable[[int], int],
) -> tuple[list[HistoryValues], dict[int, Sighting], list[int]]:
    """The rows' history, their sightings by pid and the keys first made, linked to the
    sightings ``earlier_of`` of the snapshot ``interval`` seconds before (None beyond the
    longest gap); ``new_key(pid)`` makes a first sighting's key. The compiled twin
    (``history/_linking.c``) does the same where it was built; :data:`LINKER` says which is
    used."""
    sightings: dict[int, Sighting] = {}
    values: list[HistoryValues] = []
    new_keys: list[int] = []
    for row in rows:
        pid = row.pid
        if pid in sightings:
            values.append((sightings[pid].process_key, None, None))
            continue
        name, start, cpu = row.process_name, row.start_time, row.cpu_time_seconds
        earlier = earlier_of.get(pid)
        # same_process, with its commonest answers (equal names and starts) taken inline:
        # linking runs once for every stored row.
        if earlier is not None and (
            (
                earlier.cpu_time_seconds is None
                or cpu is None
                or cpu >= earlier.cpu_time_seconds - _CPU_SLACK_SECONDS
            )
            and (earlier.process_name == name or _names_agree(earlier, row))
            and (earlier.start_time == start or _starts_agree(earlier, row))
        ):
            key = earlier.process_key
            earlier_cpu = earlier.cpu_time_seconds
            if interval is not None and earlier_cpu is not None and cpu is not None:
                values.append((key, interval, 100.0 * max(cpu - earlier_cpu, 0.0) / interval))
            else:
                values.append((key, interval, None))
        else:
            key = new_key(pid)
            values.append((key, None, None))
            new_keys.append(key)
        sightings[pid] = _new_sighting(
            (
                name,
                start,
                row.start_time_precision,
                cpu,
                "process_name" in row.truncated_fields,
                key,
            )
        )
    return values, sightings, new_keys


def _python_twin(
    rows: list[Any],
    positions: tuple[int, ...],
    earlier_of: dict[int, Sighting],
    interval: float | None,
    new_key: Callable[[int], int],
    *_: object,
) -> tuple[list[HistoryValues], dict[int, Sighting], list[int]]:
    return link_rows_python(rows, earlier_of, interval, new_key)


try:
    from history._linking import link_rows as _link_rows
except ImportError:  # pragma: no cover - where no C compiler was found on install
    _link_rows = _python_twin

LINKER: Final = "python" if _link_rows is _python_twin else "c"
"""Which twin links rows: ``"c"`` (compiled) or ``"python"``."""
