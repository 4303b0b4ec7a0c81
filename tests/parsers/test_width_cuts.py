"""Listings cut at the terminal's width: which rows are flagged, and which are not.

The fixtures were captured on this machine with ``COLUMNS`` set (procps cuts at it even
without a terminal); the flagged lines below were read off the files by hand: the lines as
long as the longest one (100 columns, 80), every other line being whole.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psutil
import pytest

from parsers import parse_listing
from parsers.rows import ProcessRow
from tests.parsers.fixtures import read_fixture

# tests/fixtures/SOURCES.md: captured at 2026-12-02 00:53:36 UTC, with TZ=UTC.
CAPTURED_AT = datetime(2026, 12, 2, 0, 53, 36, tzinfo=UTC)
AUX_HEADER = "USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"


def parse(raw: str, command: str = "ps aux") -> list[ProcessRow]:
    """The rows of a Linux listing, as the worker reads it."""
    return parse_listing(raw, os_type="linux", command=command, observed_at=CAPTURED_AT).rows


def flagged(rows: list[ProcessRow]) -> dict[int, tuple[str, ...]]:
    """The truncated fields of every row that has some, by line number."""
    return {row.line_number: row.truncated_fields for row in rows if row.truncated_fields}


def test_ps_aux_cut_at_100_columns() -> None:
    rows = parse(read_fixture("linux-local/width-ps-aux-COLUMNS100.out"))
    assert len(rows) == 101
    # A cut in the word the name comes from cuts the name too: a kernel thread that lost its
    # "]", a program's path with nothing after it (whole or not: ps does not say).
    name_cut = ("command_line", "process_name")
    assert flagged(rows) == {
        **dict.fromkeys((10, 67, 73, 75, 79, 80, 102), name_cut),
        **dict.fromkeys((59, 64, 65, 69, 71, 78, 83, 84, 85), ("command_line",)),
        61: ("user",),
        77: ("user", "command_line"),
    }
    chosen = {row.line_number: row for row in rows}
    assert (chosen[10].process_name, chosen[10].command_line) == (
        "kworker/0:1-events_power_efficient",
        "[kworker/0:1-events_power_efficient",
    )
    assert (chosen[69].process_name, chosen[69].command_line) == (
        "postgres",
        "postgres: 15/main: background write",
    )
    # 99 columns, one short of the width: whole.
    assert chosen[34].command_line == "[kworker/u8:2-ext4-rsv-conversion]"
    assert chosen[34].truncated_fields == ()


@pytest.mark.parametrize(
    ("fixture", "command", "cut_lines", "line", "command_line", "name"),
    [
        (
            "linux-local/width-ps-ef-COLUMNS100.out",
            "ps -ef",
            (59, 64, 65, 67, 75, 78, 83, 84, 85, 102),
            84,
            "postgres: 15/main: postgres postgres 127.0.0.1(39452",
            "postgres",
        ),
        (
            "linux-local/width-ps-eo-pid-user-args-COLUMNS80.out",
            "ps -eo",
            (59, 67, 75, 78, 83, 102),
            102,
            "/root/.calfkit/bin/tansu-v0.6.0-510f3e2 broker --listener-url tcp",
            "tansu-v0.6.0-510f3e2",
        ),
    ],
)
def test_ps_ef_and_ps_o_cut_at_the_width(
    fixture: str,
    command: str,
    cut_lines: tuple[int, ...],
    line: int,
    command_line: str,
    name: str,
) -> None:
    rows = parse(read_fixture(fixture), command)
    assert len(rows) == 101
    assert flagged(rows) == {
        **dict.fromkeys(cut_lines, ("command_line",)),
        61: ("user",),
        77: ("user",),
    }
    chosen = {row.line_number: row for row in rows}
    assert (chosen[line].command_line, chosen[line].process_name) == (command_line, name)


def test_whole_listings_flag_nothing() -> None:
    # Without COLUMNS: the longest lines are of one length each.
    mosquitto_users = {61: ("user",), 77: ("user",)}
    assert flagged(parse(read_fixture("linux-local/names-ps-aux.out"))) == mosquitto_users
    ps_ef = parse(read_fixture("linux-local/names-ps-ef.out"), "ps -ef")
    assert flagged(ps_ef) == mosquitto_users
    comm = parse(read_fixture("linux-local/width-ps-eo-pid-comm-whole.out"), "ps -eo")
    assert len(comm) == 106
    assert flagged(comm) == {}


def test_top_marks_its_own_cuts_and_is_left_to_them() -> None:
    # top -w 90 ends its lines at 89 columns and marks every cut value with "+": lines 51
    # and 61 fill the width and are whole (kworker/1:1H-kblockd), so the width is no sign.
    rows = parse(read_fixture("linux-local/width-top-b-n1-w90.out"), "top -b")
    plus = (12, 15, 16, 18, 19, 20, 21, 24, 25, 31, 32, 34, 36, 37, 40, 43, 48, 50, 54, 62)
    assert flagged(rows) == {
        **dict.fromkeys((*plus, 65, 66, 81, 112), ("process_name",)),
        70: ("user",),
        84: ("user",),
    }
    chosen = {row.line_number: row for row in rows}
    assert chosen[51].process_name == "kworker/1:1H-kblockd"


def aux_listing(*commands: str, line_end: str = "\n") -> str:
    """A ps aux listing of one root process per command, pids from 1."""
    lines = [AUX_HEADER] + [
        f"root    {pid:>5}  0.0  0.0   2500  1372 ?        S    00:51   0:00 {command}"
        for pid, command in enumerate(commands, start=1)
    ]
    return line_end.join(lines) + line_end


LONG_A = "/usr/bin/python3 /opt/service/worker.py --queue=a"
LONG_B = "/usr/sbin/daemon-with-a-long-name --config /etc/d"


def test_two_different_commands_at_the_width_are_cut() -> None:
    assert len(LONG_A) == len(LONG_B)
    rows = parse(aux_listing("sleep 60", LONG_A, LONG_B))
    assert [row.truncated_fields for row in rows] == [(), ("command_line",), ("command_line",)]


def test_identical_workers_at_the_longest_length_are_whole() -> None:
    worker = "nginx: worker process serving the example site"
    rows = parse(aux_listing("nginx: master process /usr/sbin/nginx", worker, worker))
    assert flagged(rows) == {}
    assert {row.process_name for row in rows} == {"nginx"}


def test_one_line_at_the_width_is_whole() -> None:
    assert flagged(parse(aux_listing("sleep 60", LONG_A))) == {}
    assert flagged(parse(aux_listing(LONG_A))) == {}


def test_lines_no_longer_than_the_header_are_not_taken_as_cut() -> None:
    # Two different commands ending at one column, but short of the header's end.
    assert flagged(parse(aux_listing("sleep 1", "sleep 2"))) == {}


def test_crlf_listings_and_blank_lines_read_alike() -> None:
    crlf = parse(aux_listing("sleep 60", LONG_A, LONG_B, line_end="\r\n"))
    assert flagged(crlf) == {3: ("command_line",), 4: ("command_line",)}
    spaced = aux_listing("sleep 60", LONG_A, LONG_B).replace("\nroot", "\n\n\nroot")
    assert flagged(parse(spaced)) == {7: ("command_line",), 10: ("command_line",)}


def test_a_cut_in_the_first_word_cuts_the_name() -> None:
    rows = parse(aux_listing("/usr/lib/some/program/with/a/long/path/to/its/bin", LONG_A))
    assert flagged(rows) == {2: ("command_line", "process_name"), 3: ("command_line",)}


def test_ps_o_comm_names_of_15_characters_are_whole() -> None:
    # An older kernel's ps -eo pid,comm: names of up to 15 characters line up at column 23.
    comm = "    PID COMMAND\n      1 systemd\n      3 pool_workqueue_\n      4 kworker/R-rcu_g\n"
    assert flagged(parse(comm, "ps -eo")) == {}
    # The same header for ps -eo pid,args, cut at 26 columns.
    args = (
        "    PID COMMAND\n"
        "      1 /sbin/init\n"
        "      3 /usr/bin/dbus-daem\n"
        "      4 sh -c exec sleep 9\n"
    )
    assert flagged(parse(args, "ps -eo")) == {
        3: ("command_line", "process_name"),
        4: ("command_line",),
    }


@pytest.fixture
def long_commands() -> Iterator[list[int]]:
    """Three sleeping Pythons: two with command lines longer than 100 columns, one short."""
    sleep = "import time; time.sleep(60)"
    arguments = [["--first", "x" * 120], ["--second", "y" * 120], ["short"]]
    children = [subprocess.Popen([sys.executable, "-c", sleep, *more]) for more in arguments]
    try:
        # Wait until each has exec'd, so that ps shows its own command line.
        deadline = time.monotonic() + 10
        while any(
            psutil.Process(child.pid).cmdline()[-1:] != more[-1:]
            for child, more in zip(children, arguments, strict=True)
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield [child.pid for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("ps") is None,
    reason="needs Linux procps ps",
)
def test_the_real_ps_cut_at_columns_is_flagged(long_commands: list[int]) -> None:
    environment = {**os.environ, "COLUMNS": "100", "LC_ALL": "C.UTF-8"}
    output = subprocess.run(
        ["ps", "-eo", "pid,user,args"], capture_output=True, check=True, env=environment, text=True
    ).stdout
    rows = {row.pid: row for row in parse(output, "ps -eo")}
    first, second, short = (rows[pid] for pid in long_commands)
    for row in (first, second):
        assert row.command_line is not None
        assert len(row.command_line) < 120
        assert row.truncated_fields == ("command_line",)
    assert short.command_line is not None
    assert short.command_line.endswith(" short")
    assert short.truncated_fields == ()
