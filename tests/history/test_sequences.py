"""Real consecutive listings of this machine through the linker, against history worked out by hand.

The sequences and their expectations are in :mod:`tests.history.sequences`. Pid reuse and CPU
time going backwards were not captured (see the fixtures' SOURCES.md): those tests edit a row
of a real listing and say which. A gap is the real listings stamped further apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from history import LinkedSnapshot, SnapshotPlace, link_snapshot, process_key_of
from parsers import parse_listing
from procmon.envelope import content_hash
from tests.history.sequences import (
    MACHINE,
    PS_AUX,
    PS_LSTART,
    TIMES,
    TOP,
    Expected,
    listing_text,
)

# Every test here links in this process: once with each twin of the linker.
pytestmark = pytest.mark.usefixtures("linker")

MAX_GAP = 3600.0

History = dict[int, tuple[int, float | None, float | None]]


def link_sequence(texts: Sequence[str], times: Sequence[datetime]) -> list[History]:
    """Each listing's history by pid, linked in time order as the worker links them."""
    previous: LinkedSnapshot | None = None
    found = []
    for text, observed_at in zip(texts, times, strict=True):
        rows = parse_listing(text, os_type="linux", command="", observed_at=observed_at).rows
        place = SnapshotPlace(MACHINE, observed_at, content_hash(text))
        values, previous = link_snapshot(place, rows, previous, max_gap_seconds=MAX_GAP)
        found.append({row.pid: value for row, value in zip(rows, values, strict=True)})
    return found


def keyed(expected: Expected, texts: Sequence[str], times: Sequence[datetime]) -> History:
    """The expectation with each first-seen listing's number replaced by that sighting's key."""
    return {
        pid: (process_key_of(MACHINE, times[n], content_hash(texts[n]), pid), interval, cpu)
        for pid, (n, interval, cpu) in expected.items()
    }


def assert_history(found: History, expected: History) -> None:
    """Same pids, same keys, and intervals and CPU as printed figures allow (0.2 is 0.01 / 5)."""
    assert found.keys() == expected.keys()
    for pid, (key, interval, cpu) in expected.items():
        got_key, got_interval, got_cpu = found[pid]
        assert got_key == key, pid
        assert got_interval == (None if interval is None else pytest.approx(interval)), pid
        assert got_cpu == (None if cpu is None else pytest.approx(cpu, abs=1e-6)), pid


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("ps-aux", PS_AUX), ("ps-eo-lstart", PS_LSTART), ("top-b", TOP)],
    ids=["ps aux", "ps -o lstart", "top -b"],
)
def test_a_captured_sequence_gets_the_history_worked_out_by_hand(
    prefix: str, expected: tuple[Expected, ...]
) -> None:
    texts = [listing_text(prefix, n) for n in range(4)]
    found = link_sequence(texts, TIMES)
    for n in range(4):
        assert_history(found[n], keyed(expected[n], texts, TIMES))


def test_the_first_listing_is_all_first_sightings() -> None:
    (found,) = link_sequence([listing_text("ps-aux", 0)], TIMES[:1])
    assert all(interval is None and cpu is None for _, interval, cpu in found.values())
    assert len({key for key, _, _ in found.values()}) == len(found)


def test_the_same_burner_in_three_formats_is_one_key_per_format_with_the_same_cpu() -> None:
    """ps prints whole seconds (3 s in 5 s: 60%), top hundredths (2.95 s: 59%)."""
    cpu = {
        prefix: [
            link_sequence([listing_text(prefix, n) for n in range(4)], TIMES)[n][9467][2]
            for n in range(1, 4)
        ]
        for prefix in ("ps-aux", "ps-eo-lstart", "top-b")
    }
    assert cpu["ps-aux"] == cpu["ps-eo-lstart"] == [pytest.approx(60.0)] * 3
    assert cpu["top-b"] == pytest.approx([59.0, 58.0, 56.4])


def _assert_listing_3_edited(
    prefix: str, pid: int, edit: tuple[str, str], expected: Expected
) -> None:
    """Listing 3 of the sequence with EDIT's first text replaced by its second in PID's row
    (the fixture's spacing kept) gets the EXPECTED history."""
    texts = [listing_text(prefix, n) for n in range(4)]
    lines = texts[3].splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.split()[:1] == [str(pid)]]
    assert edit[0] in lines[index]
    lines[index] = lines[index].replace(*edit)
    texts[3] = "".join(lines)
    assert_history(link_sequence(texts, TIMES)[3], keyed(expected, texts, TIMES))


def test_a_reused_pid_with_a_later_start_time_is_a_new_process() -> None:
    """Listing 3 with 9500 (sleep 30, started 04:15:26) replaced by another sleep that started
    at 04:15:40, after listing 2 was taken: same pid and name, start times 14 s apart."""
    expected = dict(PS_LSTART[3]) | {9500: (3, None, None)}
    _assert_listing_3_edited("ps-eo-lstart", 9500, ("04:15:26", "04:15:40"), expected)


def test_a_start_time_one_second_off_is_the_same_process() -> None:
    """lstart reads a second early now and then (boot time in whole seconds): 9500 printed as
    started at 04:15:27 in listing 3 is still the sleep of listing 2."""
    _assert_listing_3_edited("ps-eo-lstart", 9500, ("04:15:26", "04:15:27"), PS_LSTART[3])


def test_cpu_time_going_backwards_is_a_new_process() -> None:
    """top listing 3 with the burner's TIME+ edited from 0:09.68 down to 0:01.50."""
    expected = dict(TOP[3]) | {9467: (3, None, None)}
    _assert_listing_3_edited("top-b", 9467, ("0:09.68", "0:01.50"), expected)


def test_cpu_time_down_by_under_a_second_is_rounding_and_counts_as_none_used() -> None:
    """top listing 3 with the burner's TIME+ edited to 0:06.20, 0.66 s under listing 2's."""
    expected = dict(TOP[3]) | {9467: (0, 5.0, 0.0)}
    _assert_listing_3_edited("top-b", 9467, ("0:09.68", "0:06.20"), expected)


def test_a_gap_longer_than_the_longest_keeps_the_keys_but_measures_nothing() -> None:
    """top listing 3 stamped 3601 s after listing 2 (top prints no start time to contradict
    the new stamp): every process continues, with no interval."""
    texts = [listing_text("top-b", n) for n in range(4)]
    times = [*TIMES[:3], TIMES[2] + timedelta(seconds=MAX_GAP + 1)]
    found = link_sequence(texts, times)
    expected = {pid: (n, None, None) for pid, (n, _, _) in TOP[3].items()}
    assert_history(found[3], keyed(expected, texts, times))


def test_a_gap_of_exactly_the_longest_is_measured() -> None:
    """top listing 3 stamped 3600 s after listing 2: the burner's 2.82 s over 3600 s."""
    texts = [listing_text("top-b", n) for n in range(4)]
    times = [*TIMES[:3], TIMES[2] + timedelta(seconds=MAX_GAP)]
    found = link_sequence(texts, times)
    assert found[3][9467][1] == found[3][2192][1] == pytest.approx(3600.0)
    assert found[3][9467][2] == pytest.approx(0.078333, abs=1e-6)  # 100 x 2.82 / 3600
    assert found[3][2192][2] == pytest.approx(0.002222, abs=1e-6)  # 100 x 0.08 / 3600
