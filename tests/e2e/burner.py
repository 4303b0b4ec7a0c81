"""A child process that burns a known share of one CPU, and its CPU time as /proc counts it.

It sleeps first, so that ps's %CPU (CPU time over the whole lifetime, on Linux) starts low and
lags behind what it uses between two listings.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["burner", "cpu_seconds"]

# Busy until it has used `busy` of every 100 ms of wall time in CPU time (so that a loaded
# machine, which runs it less, does not count its waits as burning), asleep for the rest.
_PROGRAM = """
import sys, time
time.sleep(float(sys.argv[1]))
busy = 0.1 * float(sys.argv[2])
while True:
    start, used = time.monotonic(), time.process_time()
    while time.process_time() - used < busy and time.monotonic() - start < 0.1:
        pass
    time.sleep(max(0.0, 0.1 - (time.monotonic() - start)))
"""


@contextlib.contextmanager
def burner(*, sleep_seconds: float, busy_share: float) -> Iterator[int]:
    """Run the burner for the block (sleeping SLEEP_SECONDS, then busy BUSY_SHARE of the time);
    give its pid."""
    process = subprocess.Popen(
        [sys.executable, "-c", _PROGRAM, str(sleep_seconds), str(busy_share)]
    )
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of PID so far, from /proc/PID/stat (in clock ticks there)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    # The name in parentheses may hold spaces; the fields after it are plain numbers.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
