"""The growth benchmark's table."""

from __future__ import annotations

import pytest

from benchmarks.growth_table import print_growth_table, size_label


def test_sizes_are_headed_in_thousands_or_millions() -> None:
    assert [size_label(n) for n in (300_000, 10_000_000, 2_500_000)] == [
        "300k rows",
        "10M rows",
        "2.5M rows",
    ]


def test_each_figure_shows_its_sizes_change_and_whether_its_target_is_met(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results: dict[str, float | str] = {
        "growth_10_fleet_machines": 5.0,
        "growth_100_fleet_machines": 45.0,
        "growth_10_retention_seconds": 0.4,
        "growth_100_retention_seconds": 1.5,
        "growth_10_ingest_rows_per_s": 100_000.0,
        "growth_100_ingest_rows_per_s": 90_000.0,
        "growth_10_month_fleet_os_per_hour_raw_source": "RAW",
        "growth_100_month_fleet_os_per_hour_raw_source": "RAW",
        "growth_change_retention_seconds": 2.75,
        "growth_change_ingest_rows_per_s": -0.1,
    }
    print_growth_table(results, [100, 10])
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}
    retention = lines["retention_seconds"].split()[1:]
    assert retention == ["0.40", "1.50", "+275.0%", "<", "1", "s", "MISSED"]
    assert lines["fleet_machines"].split()[1:3] == ["5", "45"]
    assert lines["ingest_rows_per_s"].endswith("met")
    assert "-10.0%" in lines["ingest_rows_per_s"]
    assert lines["month_fleet_os_per_hour_raw_source"].split()[1:] == ["RAW", "RAW", "-"]
    assert lines["targets"].startswith("targets met: 1 of")


def test_a_figure_with_two_targets_shows_both(capsys: pytest.CaptureFixture[str]) -> None:
    figure = "i_all_fleet_per_process_name_uncached_p50_ms"
    results: dict[str, float | str] = {
        f"growth_10_{figure}": 20.0,
        f"growth_100_{figure}": 45.0,
        f"growth_change_{figure}": 1.25,
    }
    print_growth_table(results, [10, 100])
    out = capsys.readouterr().out.splitlines()
    at = next(n for n, line in enumerate(out) if line.startswith(figure))
    assert out[at].split()[1:] == ["20", "45", "+125.0%", "|change|", "<", "20%", "MISSED"]
    assert out[at + 1].split() == ["<", "50", "ms", "met"]
    assert out[-1].startswith("targets met: 1 of")
