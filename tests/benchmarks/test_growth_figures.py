"""The growth benchmark's fleets, changes and targets."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from benchmarks.api_fleet import PROBE_MACHINE, SNAPSHOT_EVERY
from benchmarks.growth_figures import (
    GROWTH_DAYS,
    TARGETS,
    Target,
    changes,
    fleet_shape,
    ingest_rows,
    parse_sizes,
    verdict,
)


@pytest.mark.parametrize("rows", [10_000_000, 100_000_000])
def test_a_full_size_fleet_spans_the_days_at_100_processes_and_about_the_rows(rows: int) -> None:
    shape = fleet_shape(rows)
    assert (shape.snapshots - 1) * SNAPSHOT_EVERY >= timedelta(days=GROWTH_DAYS)
    assert shape.processes == 100
    assert abs(shape.rows - rows) / rows < 0.01


def test_both_full_sizes_take_the_same_snapshots_and_processes() -> None:
    small, large = fleet_shape(10_000_000), fleet_shape(100_000_000)
    assert (small.snapshots, small.processes) == (large.snapshots, large.processes)
    assert large.machines > 9 * small.machines


@pytest.mark.parametrize("rows", [300_000, 1_000_000])
def test_a_small_fleet_keeps_the_probe_machine_and_shrinks_its_snapshots(rows: int) -> None:
    shape = fleet_shape(rows)
    assert shape.machines >= int(PROBE_MACHINE[1:])
    assert shape.processes < 100
    assert (shape.snapshots - 1) * SNAPSHOT_EVERY >= timedelta(days=GROWTH_DAYS)
    assert 0.9 * rows <= shape.rows <= rows


def test_too_few_rows_for_a_fleet_is_refused_with_the_least() -> None:
    with pytest.raises(ValueError, match="too few"):
        fleet_shape(50_000)


def test_sizes_are_parsed_smallest_first() -> None:
    assert parse_sizes("1_000_000,300000") == [300_000, 1_000_000]


@pytest.mark.parametrize("text", ["300000", "300000,300000", "a,b", "50000,1000000"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_sizes(text)


def test_the_ingest_is_the_same_at_every_size_and_no_larger_than_the_smallest() -> None:
    assert ingest_rows([300_000, 1_000_000]) == 300_000
    assert ingest_rows([10_000_000, 100_000_000]) == ingest_rows([20_000_000, 100_000_000])


def test_a_change_is_a_fraction_of_the_smallest_size_s_figure() -> None:
    figures: dict[str, float | str] = {
        "growth_10_rate": 200.0,
        "growth_100_rate": 150.0,
        "growth_10_source": "HOURLY",
        "growth_100_source": "HOURLY",
        "growth_10_zero": 0.0,
        "growth_100_zero": 5.0,
        "growth_10_only_small": 1.0,
    }
    assert changes(figures, [100, 10]) == {"growth_change_rate": -0.25}


def test_a_change_target_holds_either_way_under_its_bound() -> None:
    target = Target("rate", 0.20, change=True)
    assert verdict(target, {"growth_change_rate": -0.19}, [10, 100]) is True
    assert verdict(target, {"growth_change_rate": 0.21}, [10, 100]) is False
    assert verdict(target, {}, [10, 100]) is None


def test_a_value_target_must_hold_at_every_size() -> None:
    target = Target("seconds", 1.0, change=False, unit="s")
    assert verdict(target, {"growth_10_seconds": 0.5, "growth_100_seconds": 0.9}, [10, 100])
    assert not verdict(target, {"growth_10_seconds": 0.5, "growth_100_seconds": 1.2}, [10, 100])
    assert verdict(target, {"growth_10_seconds": 0.5}, [10, 100]) is None
    assert str(target) == "< 1 s"


def test_every_question_and_the_issue_s_absolute_targets_are_there() -> None:
    from benchmarks.api import QUESTIONS

    changed = {target.figure for target in TARGETS if target.change}
    bounded = {target.figure: target.bound for target in TARGETS if not target.change}
    assert {f"{q.key}_uncached_p50_ms" for q in QUESTIONS} | {"ingest_rows_per_s"} == changed
    assert bounded == {
        "h_week_fleet_os_per_hour_uncached_p50_ms": 50.0,
        "i_all_fleet_per_process_name_uncached_p50_ms": 50.0,
        "month_fleet_os_per_hour_rollup_p50_ms": 50.0,
        "retention_seconds": 1.0,
    }
