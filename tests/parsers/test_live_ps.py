"""The real procps ``ps`` of this machine, parsed and checked against psutil.

Processes with awkward names (spaces, parentheses, non-ASCII, a 3000-character argument,
a program called ``my prog (test)``) are started, listed by ``ps aux``, ``ps -ef``,
``ps -efww`` and ``ps -eo pid,ppid,user,lstart,args``, and their rows compared with what
psutil reads from /proc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from parsers import parse_listing
from parsers.rows import ProcessRow

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("ps") is None,
    reason="needs Linux procps ps",
)

ARGUMENTS = ["arg with spaces", "(paren)", "ünïcødé", "x" * 3000]
SLEEP = "import time; time.sleep(60)"


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[psutil.Process]]:
    """Two sleeping Pythons: one with awkward arguments, one run as ``my prog (test)``."""
    program = Path(tmp_path_factory.mktemp("prog")) / "my prog (test)"
    program.symlink_to(sys.executable)
    children = [
        subprocess.Popen([sys.executable, "-c", SLEEP, *ARGUMENTS]),
        subprocess.Popen([str(program), "-c", SLEEP, "(paren)"]),
    ]
    try:
        processes = [psutil.Process(child.pid) for child in children]
        # Wait until both have exec'd, so ps and psutil see their final command lines.
        deadline = time.monotonic() + 10
        while any(p.cmdline()[-1] not in (ARGUMENTS[-1], "(paren)") for p in processes):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield processes
    finally:
        for child in children:
            child.kill()
            child.wait()


def run_ps(*arguments: str) -> tuple[str, datetime]:
    """The output of ps with arguments, in a UTF-8 locale, and the moment it ran."""
    environment = {
        key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LC_ALL")
    }
    environment["LC_ALL"] = "C.UTF-8"
    output = subprocess.run(
        ["ps", *arguments], capture_output=True, check=True, env=environment, text=True
    ).stdout
    return output, datetime.now(UTC)


def rows_by_pid(*arguments: str) -> dict[int, ProcessRow]:
    """The rows of the listing ps prints with ``arguments``, by pid."""
    output, observed_at = run_ps(*arguments)
    listing = parse_listing(output, os_type="linux", command="ps", observed_at=observed_at)
    return {row.pid: row for row in listing.rows}


def expected_user(process: psutil.Process) -> str:
    """The user as procps prints it: names longer than 8 characters cut to 7 and a ``+``."""
    name = process.username()
    return name if len(name) <= 8 else name[:7] + "+"


@pytest.mark.parametrize(
    "arguments",
    [("aux",), ("auxww",), ("-ef",), ("-efww",), ("-eo", "pid,ppid,user,lstart,args")],
)
def test_awkward_processes_read_as_psutil_sees_them(
    awkward: list[psutil.Process], arguments: tuple[str, ...]
) -> None:
    rows = rows_by_pid(*arguments)
    for process in awkward:
        row = rows[process.pid]
        command_line = " ".join(process.cmdline())
        assert row.user == expected_user(process)
        if arguments[0] not in ("aux", "auxww"):
            assert row.ppid == process.ppid()
        # Without a terminal procps does not cut command lines (checked here: it is equal).
        assert row.command_line == command_line
        assert row.start_time is not None
        assert abs(row.start_time.timestamp() - process.create_time()) < 61


def test_lstart_is_exact_to_the_second(awkward: list[psutil.Process]) -> None:
    rows = rows_by_pid("-eo", "pid,lstart,comm,args")
    for process in awkward:
        row = rows[process.pid]
        assert row.start_time is not None
        assert abs(row.start_time.timestamp() - process.create_time()) < 1
        assert row.process_name == process.name()
    assert rows[awkward[1].pid].process_name == "my prog (test)"


def test_the_whole_listing_matches_psutil() -> None:
    rows = rows_by_pid("-eo", "pid,ppid,user,lstart,nlwp,comm,args")
    assert len(rows) > 1
    compared = 0
    for pid, row in rows.items():
        try:
            process = psutil.Process(pid)
            with process.oneshot():
                started, parent = process.create_time(), process.ppid()
                expected = (expected_user(process), process.name()[:15])
        except psutil.NoSuchProcess:
            continue
        assert row.start_time is not None
        if abs(row.start_time.timestamp() - started) >= 1:
            continue  # the pid was reused since ps ran
        if row.command_line is not None and row.command_line.startswith("["):
            continue  # a kernel worker, renamed after each piece of work
        # The kernel keeps 15 characters of a name; psutil completes longer ones.
        assert (row.user, row.process_name) == expected
        # A parent that exited since ps ran has handed its child to another.
        assert row.ppid == parent or not psutil.pid_exists(row.ppid or 0)
        compared += 1
    assert compared > 1
