"""The worker's Faust app keeps its data directory out of the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from procmon.settings import Settings
from streams.app import build_app
from streams.metrics import WorkerMetrics


async def test_the_faust_data_directory_is_made_under_the_setting_not_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    data_dir = tmp_path / "cache" / "worker"
    settings = Settings(worker_data_dir=data_dir, consumer_group="group-a")

    app = build_app(settings, WorkerMetrics())
    # Where Faust makes its directories when the app first starts in a process.
    await app.on_first_start()

    assert list(checkout.iterdir()) == []
    assert app.conf.datadir == data_dir / "group-a"
    assert app.conf.tabledir.is_dir()
    assert app.conf.tabledir.is_relative_to(data_dir / "group-a")
