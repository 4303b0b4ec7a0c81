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


def run_top(*options: str, home: Path | None = None) -> Listing:
    """This machine's ``top -b -n 1 -w 512`` with ``options`` (and toprc of ``home``), parsed."""
    environment = {**os.environ, "LC_ALL": "C"}
    if home is not None:
        environment["HOME"] = str(home)
    raw = subprocess.run(
        ["top", "-b", "-n", "1", "-w", "512", *options],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
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


def write_toprc(home: Path, shown: list[str]) -> None:
    """A procps-ng 4.x toprc (``Id:k``) under ``home`` showing the fields ``shown``, in order.

    Each field of ``top -O`` is ``2 * (its index + 37)``, plus one when it is shown.
    """
    names = subprocess.run(["top", "-O"], capture_output=True, text=True, check=True).stdout
    fields = names.split()
    codes = [2 * (fields.index(name) + 37) + 1 for name in shown]
    codes += [2 * (index + 37) for index, name in enumerate(fields) if name not in shown]
    window = (
        "\tfieldscur=" + " ".join(map(str, codes)) + "\n"
        "\twinflags=193844, sortindx=0, maxtasks=0, graph_cpus=0, graph_mems=0, double_up=0,"
        " combine_cpus=0, core_types=0\n\tsummclr=1, msgsclr=1, headclr=3, taskclr=1\n"
    )
    rc = home / ".config" / "procps" / "toprc"
    rc.parent.mkdir(parents=True)
    rc.write_text(
        "top's Config File (Linux processes with windows)\n"
        "Id:k, Mode_altscr=0, Mode_irixps=1, Delay_time=3.0, Curwin=0\n"
        + "".join(name + window for name in ("Def", "Job", "Mem", "Usr"))
        + "Fixed_widest=0, Summ_mscale=1, Task_mscale=0, Zero_suppress=0, Tics_scaled=0\n"
    )


@pytest.mark.skipif(
    "procps-ng 4." not in subprocess.run(["top", "-V"], capture_output=True, text=True).stdout,
    reason="the toprc written is procps-ng 4.x's",
)
def test_this_process_with_a_toprc_of_fields_in_another_order(tmp_path: Path) -> None:
    # COMMAND in the middle, after ENVIRON (this process's environment, spaces and all).
    write_toprc(tmp_path, ["PID", "ENVIRON", "COMMAND", "nTH", "USER", "RES", "TIME+", "S"])
    listing = run_top("-p", str(os.getpid()), home=tmp_path)
    (row,) = listing.rows
    me = psutil.Process()
    assert (row.pid, row.threads) == (os.getpid(), me.num_threads())
    assert row.process_name == Path("/proc/self/comm").read_text().rstrip("\n")
    user = me.username()
    assert row.user == (user if len(user) <= 8 else user[:7] + "+")
    assert abs(row.rss_bytes - me.memory_info().rss) < 4 * 1024**2  # type: ignore[operator]
    assert row.status_raw in ("R", "S")
