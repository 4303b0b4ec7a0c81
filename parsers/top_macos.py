"""macOS ``top -l N``: the last sample's process table, and its summary as metadata."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from parsers.errors import ParseError
from parsers.formats import ListingFormat
from parsers.gc_pause import collection_paused
from parsers.rows import Listing, ProcessRow, ProcessStatus, row_of
from parsers.times import parse_cpu_time
from parsers.top_summary import labelled_numbers, read_last_sample
from parsers.values import decimal, integer, memoized, scaled_bytes

__all__ = ["FORMATS", "MACOS_STATES", "is_top_macos_header", "parse_top_macos"]

_MARKER = "Processes:"
# libtop's state names; "stuck" is an uninterruptible wait, "halted" a process being torn down.
MACOS_STATES = {
    "running": ProcessStatus.RUNNING,
    "sleeping": ProcessStatus.SLEEPING,
    "idle": ProcessStatus.IDLE,
    "stuck": ProcessStatus.DISK_SLEEP,
    "stopped": ProcessStatus.STOPPED,
    "halted": ProcessStatus.DEAD,
    "zombie": ProcessStatus.ZOMBIE,
}
_PROCESS_LABELS = frozenset(
    {"total", "running", "sleeping", "stuck", "idle", "stopped", "halted", "zombie", "threads"}
)
_CPU_LABELS = frozenset({"user", "sys", "idle"})
_PHYSMEM_LABELS = frozenset({"used", "wired", "unused", "compressor"})
_PROCESSES = re.compile(r"Processes: (?P<counts>.*?)(?: +(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}))? *")
_DATE = re.compile(r"(?P<time>[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}) *")
_LOAD = re.compile(r"Load Avg: ([0-9.]+), ([0-9.]+), ([0-9.]+)")
_CPU = re.compile(r"CPU usage: (.*?% idle)")
_PHYSMEM = re.compile(r"PhysMem: (.*?unused)")


def is_top_macos_header(line: str) -> bool:
    """Tell whether ``line``, a listing's first, opens a macOS ``top -l`` sample."""
    return line.startswith(_MARKER)


def parse_top_macos(raw: str, observed_at: datetime) -> Listing:
    """Parse macOS ``top -l N`` output (any number of samples) into the last sample's rows.

    The table is read by its header, its columns in any order (``-stats``): PID and COMMAND
    are needed; %CPU, TIME (``mm:ss.cc`` or ``hh:mm:ss``), #TH (``4/1`` is 4 threads, 1
    running), MEM, PPID, STATE and USER are read when shown, other columns must be one word
    each. COMMAND may hold spaces: it is what lies
    between the columns before it and the one-word columns after it. Sizes carry K/M/G/B and
    maybe a ``+``/``-`` trend mark, which is dropped.

    MEM is the process's memory footprint, not its resident set: it gives
    ``memory_usage_bytes`` only, ``rss_bytes`` stays None. STATE names map as
    :data:`MACOS_STATES` says (others are ``unknown``). COMMAND is the process name.

    Metadata, when printed: ``time``, ``processes`` (counts), ``load_average`` (1, 5, 15 min),
    ``cpu_percent`` (user, sys, idle), ``physmem_bytes`` (used, wired, unused...), ``samples``.
    Other summary lines and parts (VM, Networks, Disks...) are skipped. Raises ParseError for
    a first line that is not top's, an unreadable Processes line, no header, or any bad row.
    """
    return read_last_sample(
        raw,
        observed_at,
        name="top -l",
        what="macOS top",
        is_header=is_top_macos_header,
        marker_of=lambda _: _MARKER,
        is_table_header=_is_table_header,
        read_summary=_read_summary,
        read_table=_table,
    )


def _is_table_header(line: str) -> bool:
    # -stats may put any column first; no summary line holds the word.
    return "PID" in line.split()


def _read_summary(metadata: dict[str, Any], line_number: int, line: str, first: bool) -> None:
    _summary_line(metadata, line_number, line)


def _summary_line(metadata: dict[str, Any], line_number: int, line: str) -> None:
    """Read what ``metadata`` keeps of a summary line; VM, Networks, Disks... are not kept."""
    if match := _PROCESSES.fullmatch(line):
        counts = labelled_numbers(match["counts"], _PROCESS_LABELS, line_number, line)
        metadata["processes"] = {label: int(value) for label, value in counts.items()}
        if match["time"]:
            metadata["time"] = match["time"]
    elif match := _DATE.fullmatch(line):
        metadata["time"] = match["time"]
    if match := _LOAD.search(line):
        metadata["load_average"] = [_number(value, line_number, line) for value in match.groups()]
    if match := _CPU.search(line):
        percents = labelled_numbers(match[1], _CPU_LABELS, line_number, line)
        metadata["cpu_percent"] = {
            label: _number(value, line_number, line) for label, value in percents.items()
        }
    if match := _PHYSMEM.search(line):
        sizes = labelled_numbers(re.sub(r"[()]", " ", match[1]), _PHYSMEM_LABELS, line_number, line)
        metadata["physmem_bytes"] = {label: scaled_bytes(size, 1) for label, size in sizes.items()}


def _number(text: str, line_number: int, line: str) -> float:
    try:
        return decimal(text)
    except ValueError as exc:
        raise ParseError(str(exc), line_number=line_number, line=line) from exc


def _table(header_number: int, lines: list[str]) -> list[ProcessRow]:
    """Rows of the table whose header is ``lines[0]``; ParseError for any bad row."""
    header = lines[0].removesuffix("\r")
    names = header.split()
    if "COMMAND" not in names or names.count("PID") != 1:
        raise ParseError(
            "top header without PID and COMMAND", line_number=header_number, line=header
        )
    before = names.index("COMMAND")
    after = len(names) - before - 1
    at = {name: index for index, name in enumerate(names)}
    pid, ppid, cpu, time, threads, mem, state, user = (
        at.get(name, -1) for name in ("PID", "PPID", "%CPU", "TIME", "#TH", "MEM", "STATE", "USER")
    )
    # Per-listing memos: most values repeat from row to row.
    read_id, read_cpu, read_time = memoized(integer), memoized(decimal), memoized(parse_cpu_time)
    read_threads, read_size = memoized(_threads), memoized(_size)
    rows: list[ProcessRow] = []
    with collection_paused():
        for number, line in enumerate(lines[1:], start=header_number + 1):
            head = line.split(None, before)
            if len(head) <= before:
                if not head:
                    continue
                fields = head
            else:
                fields = head[:before] + head[-1].rsplit(None, after)
            if len(fields) != len(names):
                raise ParseError(
                    f"expected {len(names)} columns",
                    line_number=number,
                    line=line.removesuffix("\r"),
                )
            column = "PID"
            try:
                # A PID is read once per listing: remembering it would only cost.
                pid_value = integer(fields[pid])
                column = "PPID"
                ppid_value = read_id(fields[ppid]) if ppid >= 0 else None
                column = "%CPU"
                cpu_value = read_cpu(fields[cpu]) if cpu >= 0 else None
                column = "TIME"
                time_value = read_time(fields[time]) if time >= 0 else None
                column = "#TH"
                threads_value = read_threads(fields[threads]) if threads >= 0 else None
                column = "MEM"
                mem_value = read_size(fields[mem]) if mem >= 0 else None
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
                        fields[before],  # process_name
                        ppid_value,  # ppid
                        fields[user] if user >= 0 else None,  # user
                        None,  # command_line
                        cpu_value,  # cpu_percent
                        None,  # memory_percent
                        None,  # rss_bytes
                        None,  # vsz_bytes
                        mem_value,  # memory_usage_bytes
                        None  # status
                        if state_text is None
                        else MACOS_STATES.get(state_text, ProcessStatus.UNKNOWN),
                        state_text,  # status_raw
                        None,  # start_time
                        None,  # start_time_precision
                        time_value,  # cpu_time_seconds
                        None,  # tty
                        threads_value,  # threads
                        None,  # nice
                        None,  # priority
                        (),  # truncated_fields
                    )
                )
            )
    return rows


def _size(text: str) -> int:
    """Bytes of ``23M+``, ``4848K``, ``0B``: the trend mark says whether it grew, not how much."""
    return scaled_bytes(text.rstrip("+-"), 1)


def _threads(text: str) -> int:
    """The thread count of ``8`` or ``4/1`` (4 threads, 1 of them running)."""
    return integer(text.split("/", 1)[0])


FORMATS = (
    ListingFormat(
        name="top -l",
        os_types=("macos",),
        commands=("top -l 1", "top -l"),
        matches_header=is_top_macos_header,
        parse=parse_top_macos,
    ),
)
