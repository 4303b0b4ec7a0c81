"""FreeBSD and OpenBSD ``top`` (``top -b``): the process table, and the summary as metadata."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from parsers.errors import ParseError
from parsers.formats import ListingFormat
from parsers.gc_pause import collection_paused
from parsers.rows import Listing, ProcessRow, ProcessStatus, row_of
from parsers.times import parse_cpu_time
from parsers.top_summary import read_last_sample
from parsers.values import decimal, integer, memoized, scaled_bytes

__all__ = ["FORMATS", "bsd_state", "bsd_time", "is_top_bsd_header", "parse_top_bsd"]

_KIB = 1024
_FIRST_LINE = re.compile(
    r"(?:last pid: +(?P<last_pid>[0-9]{1,10}); +)?load averages?: +(?P<load1>[0-9.]{1,12}),"
    r" +(?P<load5>[0-9.]{1,12}), +(?P<load15>[0-9.]{1,12})(?P<rest>.*)"
)
_UPTIME = re.compile(r" up +(?P<uptime>[0-9]+\+[0-9:]+|[^,]+?(?:, +[0-9:]+)?)(?= |$)")
_CLOCK = re.compile(r"(?P<time>[0-9]{1,2}:[0-9]{2}:[0-9]{2}) *$")
_PROCESSES = re.compile(r"(?P<total>[0-9]+) processes: *(?P<counts>.*)")
_COUNT = re.compile(r"([0-9]+) (on processor|[a-z]+)")
_PERCENT = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,2})?)% ([a-z]+)")
_SIZE = re.compile(r"([0-9]{1,15}[KMGTP]?) ([A-Za-z]+)")
_OPENBSD_MEMORY = re.compile(
    r"Memory: Real: (?P<active>\S+)/(?P<total>\S+) act/tot +Free: (?P<free>\S+)"
    r" +Cache: (?P<cache>\S+) +Swap: (?P<swap_used>\S+)/(?P<swap_total>\S+) *"
)
_SIZE_LINES = {"Mem": "memory_bytes", "ARC": "arc_bytes", "Swap": "swap_bytes"}
_STATES = {
    "RUN": ProcessStatus.RUNNING,
    "run": ProcessStatus.RUNNING,
    "onproc": ProcessStatus.RUNNING,
    # Being created: runnable as soon as it is set up.
    "START": ProcessStatus.RUNNING,
    "start": ProcessStatus.RUNNING,
    "STOP": ProcessStatus.STOPPED,
    "stop": ProcessStatus.STOPPED,
    "ZOMB": ProcessStatus.ZOMBIE,
    "zomb": ProcessStatus.ZOMBIE,
    "dead": ProcessStatus.DEAD,
    "idle": ProcessStatus.IDLE,
}
_HOURS = 3600
# NICE of a process outside the time-sharing class: "-" (interrupt thread), "r31" real-time,
# "i15" idle, with "F" for FIFO scheduling and "-" for a priority below the class's base.
_NICE_CLASS = re.compile(r"-|-?[ri][0-9]{1,3}F?")
_READ_COLUMNS = ("PID", "USERNAME", "THR", "PRI", "NICE", "SIZE", "RES", "STATE", "TIME")


def is_top_bsd_header(line: str) -> bool:
    """Tell whether ``line``, a listing's first, opens a FreeBSD or OpenBSD ``top`` display."""
    return line.startswith(("last pid:", "load averages:"))


def bsd_state(text: str) -> ProcessStatus:
    """The shared state of a BSD top STATE.

    ``CPUn``, ``RUN``/``run``, ``onproc`` and ``START``/``start`` are running; ``STOP``
    stopped, ``ZOMB`` zombie, OpenBSD's ``dead`` dead and ``idle`` idle. Anything else
    (``SLEEP``, ``WAIT``, ``LOCK``, or the wait channel itself, ``select``, ``nanslp``,
    ``*Giant``...) is a process waiting for something: sleeping. OpenBSD's ``/n`` (the CPU)
    is ignored.
    """
    state = text.split("/", 1)[0]
    if state[:3] == "CPU" and state[3:].isdigit():
        return ProcessStatus.RUNNING
    return _STATES.get(state, ProcessStatus.SLEEPING)


def bsd_time(text: str) -> float | None:
    """Seconds of a BSD top TIME: ``m:ss`` exactly, or hours as top prints them when large.

    ``123.4H`` and ``12345.`` or ``1234.5`` (the ``H`` cut off) are hours, ``1.2D`` days, to
    the precision printed; ``???`` (too large to show) is None. ValueError on anything else.
    """
    if ":" in text:
        return parse_cpu_time(text)
    if text == "???":
        return None
    unit = 24 * _HOURS if text[-1:] == "D" else _HOURS
    number = text.removesuffix("D" if unit != _HOURS else "H").removesuffix(".")
    whole, _, fraction = number.partition(".")
    decimal(number)
    scale: int = 10 ** len(fraction)
    return int(whole + fraction) * unit / scale


def _sample_marker(first: str) -> str:
    """What opens each sample: FreeBSD's first line starts ``last pid:``, OpenBSD's
    ``load averages:``."""
    return first.split(":", 1)[0] + ":"


def parse_top_bsd(raw: str, observed_at: datetime) -> Listing:
    """Parse FreeBSD or OpenBSD ``top`` output (the last display if several) into rows.

    The table is read by its header: PID and COMMAND (last) are needed; USERNAME, THR, PRI,
    NICE, SIZE, RES, STATE, TIME and WCPU or CPU are read when shown; C (the CPU last run
    on), WAIT and any other column must be one word each and are not kept.

    SIZE gives ``vsz_bytes``, RES ``rss_bytes`` and ``memory_usage_bytes`` (``42296K``,
    ``136M``, ``2G``; KiB without a letter). NICE is the nice value; a real-time (``r31``),
    idle-class (``i31``) or interrupt (``-``) thread has none: ``nice=None``, PRI still given.
    Every column but COMMAND is one word (a wait channel with a space in STATE is refused).
    STATE is kept in ``status_raw`` and mapped as :func:`bsd_state` says; TIME is read by
    :func:`bsd_time`; WCPU (``9.96%``) is ``cpu_percent``. COMMAND is the process name.

    Metadata, when printed: ``last_pid``, ``load_average``, ``uptime``, ``time``,
    ``processes`` (``total`` and counts by state), ``cpu_percent``, ``memory_bytes``,
    ``arc_bytes``, ``swap_bytes``, ``samples``; other summary lines are skipped. Raises
    ParseError for a first line that is not top's, no header, or any bad row.
    """
    return read_last_sample(
        raw,
        observed_at,
        name="top (BSD)",
        what="BSD top",
        is_header=is_top_bsd_header,
        marker_of=_sample_marker,
        is_table_header=_is_table_header,
        read_summary=_summary_line,
        read_table=_table,
    )


def _is_table_header(line: str) -> bool:
    return line.split(None, 1)[0] == "PID"


def _summary_line(metadata: dict[str, Any], line_number: int, line: str, first: bool) -> None:
    """Read what ``metadata`` keeps of one summary line; lines it does not know are skipped."""
    if first:
        match = _FIRST_LINE.fullmatch(line)
        if match is None:
            raise ParseError("unreadable top summary line", line_number=line_number, line=line)
        if match["last_pid"]:
            metadata["last_pid"] = int(match["last_pid"])
        try:
            loads = [decimal(match[key]) for key in ("load1", "load5", "load15")]
        except ValueError as exc:
            raise ParseError(str(exc), line_number=line_number, line=line) from exc
        metadata["load_average"] = loads
        if uptime := _UPTIME.search(match["rest"]):
            metadata["uptime"] = uptime["uptime"]
        if clock := _CLOCK.search(match["rest"]):
            metadata["time"] = clock["time"]
    elif match := _PROCESSES.match(line):
        # OpenBSD prints the uptime at the end of this line rather than of the first.
        listed, _, up = match["counts"].partition(" up ")
        counts = {label: int(count) for count, label in _COUNT.findall(listed)}
        metadata["processes"] = {"total": int(match["total"]), **counts}
        if up.strip():
            metadata["uptime"] = up.strip()
    elif line.startswith("CPU"):
        metadata["cpu_percent"] = {label: float(value) for value, label in _PERCENT.findall(line)}
    elif match := _OPENBSD_MEMORY.fullmatch(line):
        try:
            sizes = {key: scaled_bytes(value, _KIB) for key, value in match.groupdict().items()}
        except ValueError as exc:
            raise ParseError(str(exc), line_number=line_number, line=line) from exc
        metadata["memory_bytes"] = {key: sizes[key] for key in ("active", "total", "free", "cache")}
        metadata["swap_bytes"] = {"used": sizes["swap_used"], "total": sizes["swap_total"]}
    elif (kind := line.split(":", 1)[0]) in _SIZE_LINES:
        metadata[_SIZE_LINES[kind]] = {
            label.lower(): scaled_bytes(size, _KIB) for size, label in _SIZE.findall(line)
        }


def _table(header_number: int, lines: list[str]) -> list[ProcessRow]:
    """Rows of the table whose header is ``lines[0]``; ParseError for any bad row."""
    header = lines[0].removesuffix("\r")
    names = header.split()
    if names[-1] != "COMMAND" or names.count("PID") != 1:
        raise ParseError(
            "top header without PID, or COMMAND not last", line_number=header_number, line=header
        )
    columns = len(names)
    at = {name: index for index, name in enumerate(names)}
    cpu_name = "WCPU" if "WCPU" in at else "CPU"
    pid, user, threads, pri, nice, size, res, state, time, cpu = (
        at.get(name, -1) for name in (*_READ_COLUMNS, cpu_name)
    )
    # Columns only checked: the CPU a process last ran on, its jail.
    checked = [(name, at[name]) for name in ("C", "JID") if name in at]
    # Per-listing memos: most values repeat from row to row.
    read_id, read_signed, read_nice = memoized(integer), memoized(_signed), memoized(_nice)
    read_size, read_time, read_cpu = memoized(_bytes), memoized(bsd_time), memoized(_percent)
    read_state = memoized(bsd_state)
    rows: list[ProcessRow] = []
    with collection_paused():
        for number, line in enumerate(lines[1:], start=header_number + 1):
            fields = line.split(None, columns - 1)
            if len(fields) != columns:
                if not fields:
                    continue
                raise ParseError(
                    f"expected {columns} columns", line_number=number, line=line.removesuffix("\r")
                )
            column = "PID"
            try:
                # A PID is read once per listing: remembering it would only cost.
                pid_value = integer(fields[pid])
                column = "THR"
                threads_value = read_id(fields[threads]) if threads >= 0 else None
                column = "PRI"
                pri_value = read_signed(fields[pri]) if pri >= 0 else None
                column = "NICE"
                nice_value = read_nice(fields[nice]) if nice >= 0 else None
                column = "SIZE"
                size_value = read_size(fields[size]) if size >= 0 else None
                column = "RES"
                res_value = read_size(fields[res]) if res >= 0 else None
                column = "TIME"
                time_value = read_time(fields[time]) if time >= 0 else None
                column = cpu_name
                cpu_value = read_cpu(fields[cpu]) if cpu >= 0 else None
                for name, index in checked:
                    column = name
                    read_id(fields[index])
            except ValueError as exc:
                raise ParseError(
                    f"{column}: {exc}", line_number=number, line=line.removesuffix("\r")
                ) from exc
            state_text = fields[state] if state >= 0 else None
            # Every field, positionally in ProcessRow's order: the cheapest way to make a row.
            rows.append(
                row_of(
                    (
                        number,  # line_number
                        pid_value,  # pid
                        fields[-1].rstrip(),  # process_name
                        None,  # ppid
                        fields[user] if user >= 0 else None,  # user
                        None,  # command_line
                        cpu_value,  # cpu_percent
                        None,  # memory_percent
                        res_value,  # rss_bytes
                        size_value,  # vsz_bytes
                        res_value,  # memory_usage_bytes
                        None if state_text is None else read_state(state_text),  # status
                        state_text,  # status_raw
                        None,  # start_time
                        None,  # start_time_precision
                        time_value,  # cpu_time_seconds
                        None,  # tty
                        threads_value,  # threads
                        nice_value,  # nice
                        pri_value,  # priority
                        (),  # truncated_fields
                    )
                )
            )
    return rows


def _signed(text: str) -> int:
    """An integer that may be negative: PRI ``-21``, NICE ``-5``."""
    return -integer(text[1:]) if text[:1] == "-" else integer(text)


def _nice(text: str) -> int | None:
    """The nice value; None for a process outside the time-sharing class (``r31``, ``-``)."""
    return None if _NICE_CLASS.fullmatch(text) else _signed(text)


def _bytes(text: str) -> int:
    return scaled_bytes(text, _KIB)


def _percent(text: str) -> float:
    return decimal(text.removesuffix("%"))


FORMATS = (
    ListingFormat(
        name="top (BSD)",
        os_types=("freebsd", "openbsd"),
        commands=("top -b", "top -d 1", "top"),
        matches_header=is_top_bsd_header,
        parse=parse_top_bsd,
    ),
)
