"""The real procps ``top -b`` of this machine, parsed and checked against psutil and /proc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from parsers import parse_listing
from parsers.rows import Listing
from tests.parsers.top_metadata import section

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("top") is None,
    reason="needs Linux procps top",
)


def run_top(*options: str) -> Listing:
    """This machine's ``top -b -n 1 -w 512`` with ``options``, parsed."""
    raw = subprocess.run(
        ["top", "-b", "-n", "1", "-w", "512", *options],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    ).stdout
    return parse_listing(raw, os_type="linux", command="top -b", observed_at=datetime.now(UTC))


@pytest.mark.parametrize("options", [(), ("-E", "g", "-e", "m")])
def test_this_process_as_top_shows_it(options: tuple[str, ...]) -> None:
    listing = run_top(*options)
    # In batch mode top lists every task it counted.
    assert len(listing.rows) == section(listing, "tasks")["total"]
    mine = [row for row in listing.rows if row.pid == os.getpid()]
    assert len(mine) == 1
    row = mine[0]
    me = psutil.Process()
    assert row.process_name == Path("/proc/self/comm").read_text().rstrip("\n")
    user = me.username()
    assert row.user == (user if len(user) <= 8 else user[:7] + "+")
    memory = me.memory_info()
    # Memory moves a little between top's reading and ours; "m" values are to 0.1 MiB.
    assert abs(row.rss_bytes - memory.rss) < 4 * 1024**2  # type: ignore[operator]
    assert abs(row.vsz_bytes - memory.vms) < 16 * 1024**2  # type: ignore[operator]
    assert row.memory_usage_bytes == row.rss_bytes
    times = me.cpu_times()
    # Both are in hundredths of a second, summed in floating point here.
    assert -0.005 < times.user + times.system - row.cpu_time_seconds < 5  # type: ignore[operator]
    assert row.nice == me.nice()
    total = section(listing, "memory_bytes")["total"]
    assert abs(total - psutil.virtual_memory().total) < 0.06 * 1024**3
