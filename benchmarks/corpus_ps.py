"""``ps`` listings of any size, made of real rows (tests/fixtures) repeated with new pids.

Rows are those captured on CentOS 7.7, Ubuntu 18.04 and Debian 12 (procps), pids renumbered
so that every row is its own process; the other columns keep their real, repeating values.
:func:`ps_aux_history` gives a machine's successive listings: the same processes, their CPU
time growing, now and then a pid reused by a new process.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.corpora import ParserCorpus
from benchmarks.fleet_history import stable_number

__all__ = ["CORPORA", "ps_aux_history", "ps_aux_listing", "ps_ef_listing", "ps_o_listing"]

_FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
_PS_O = "linux-local/ps-eo-pid-ppid-user-lstart-etime-nlwp-ni-pri-stat-rss-vsz-comm-args.out"
# The user and PID columns (ps aux), with PPID (ps -ef), or the PID column first (ps -o).
_USER_PID = re.compile(r"(\S+ +?) *([0-9]+) ")
_USER_PID_PPID = re.compile(r"(\S+ +?) *([0-9]+) +([0-9]+) ")
_PID_FIRST = re.compile(r" *([0-9]+) ")
# A ps aux row: its first eight columns, START, the spaces before TIME (right-aligned), TIME.
_START_TIME = re.compile(r"((?:\S+ +){8})(\S+)( +)([0-9]+):([0-9]{2}) ")
# Each pid gets a new process every this many listings, at a phase of its own.
_REUSE_EVERY = 200


def _rows(*fixtures: str) -> tuple[str, list[str]]:
    """The header of the first fixture, and the data lines of them all."""
    header = ""
    rows: list[str] = []
    for fixture in fixtures:
        lines = [line for line in (_FIXTURES / fixture).read_text().split("\n") if line.strip()]
        header = header or lines[0]
        rows += lines[1:]
    return header, rows


def _listing(
    header: str, rows: list[str], lines: int, renumber: re.Pattern[str], first: int = 1
) -> str:
    out = [header]
    for pid in range(first, first + lines):
        row = rows[pid % len(rows)]
        match = renumber.match(row)
        assert match is not None, row
        if renumber is _PID_FIRST:
            # Its header keeps PID 5 wide: pids stay within it so COMMAND stays aligned.
            out.append(f"{pid % 99_999 + 1:>5} " + row[match.end() :])
        elif renumber is _USER_PID:
            out.append(f"{match[1]:<8} {pid:>7} " + row[match.end() :])
        else:
            out.append(f"{match[1]:<8} {pid:>7} {pid // 7 + 1:>7} " + row[match.end() :])
    return "\n".join(out) + "\n"


def ps_aux_listing(lines: int, first_pid: int = 1) -> str:
    """A procps ``ps aux`` listing of ``lines`` processes, pids from ``first_pid`` on.

    Listings of different ``first_pid`` differ: each starts at another of the real rows.
    """
    header, rows = _rows("linux-centos-7.7/ps-axu.out", "linux-ubuntu-18.04/ps-axu.out")
    return _listing(header, rows, lines, _USER_PID, first_pid)


def _cpu_rate(number: int) -> float:
    """CPU seconds a second: most processes nearly idle, a tenth busier, some a whole core."""
    share = number % 100
    if share < 90:
        return (number // 100 % 100) / 10_000
    if share < 99:
        return (number // 100 % 100) / 200
    return (number // 100 % 100) / 100


def ps_aux_history(
    lines: int, *, machine: int, listing: int, first_at: datetime, every: timedelta
) -> str:
    """The ``listing``-th ``ps aux`` of ``machine``, taken ``every`` apart from ``first_at``.

    The machine's listings show the same pids; each process's TIME grows at a rate of its own
    from the captured row's, and a pid reused by a new process (every ``_REUSE_EVERY``
    listings, at a phase of the pid's own: 0.5% of the pids a listing) shows the time it
    started (START hh:mm) and TIME counted from 0:00.
    """
    step = every.total_seconds()
    out = []
    for line in ps_aux_listing(lines, first_pid=1 + machine * 7).split("\n"):
        match = _START_TIME.match(line)
        if match is None:  # the header, and the empty string after the last newline
            out.append(line)
            continue
        pid = int(line.split(None, 2)[1])
        number = stable_number(machine, pid)
        since = listing - number % _REUSE_EVERY
        start, cpu = match[2], int(match[4]) * 60 + int(match[5])
        if since >= 0:  # reused since the first listing: the latest process of the pid
            since %= _REUSE_EVERY
            start = (first_at + (listing - since) * every).strftime("%H:%M")
            cpu = 0
        cpu += int(_cpu_rate(number) * step * (since if since >= 0 else listing))
        printed = f"{cpu // 60}:{cpu % 60:02d}"
        width = len(match[2] + match[3]) + len(match[4]) + 3
        spaces = " " * max(width - len(start) - len(printed), 1)
        out.append(f"{match[1]}{start}{spaces}{printed} {line[match.end() :]}")
    return "\n".join(out)


def ps_ef_listing(lines: int) -> str:
    """A procps ``ps -ef`` listing of ``lines`` processes."""
    header, rows = _rows(
        "linux-centos-7.7/ps-ef.out", "linux-ubuntu-18.04/ps-ef.out", "linux-local/ps-ef.out"
    )
    return _listing(header, rows, lines, _USER_PID_PPID)


def ps_o_listing(lines: int) -> str:
    """A procps ``ps -eo pid,ppid,user,lstart,etime,nlwp,ni,pri,stat,rss,vsz,comm,args``."""
    header, rows = _rows(_PS_O)
    # The benchmark's snapshot is at noon of the capture's day: later starts cannot be.
    before_noon = [row for row in rows if " Sat Nov 28 11:" in row]
    return _listing(header, before_noon, lines, _PID_FIRST)


CORPORA: tuple[ParserCorpus, ...] = (
    ParserCorpus("ps aux", "linux", "ps aux", ps_aux_listing, jc_parser="ps"),
    ParserCorpus("ps -ef", "linux", "ps -ef", ps_ef_listing, jc_parser="ps"),
    ParserCorpus("ps -o", "linux", "ps -eo", ps_o_listing, jc_parser=None),
)
