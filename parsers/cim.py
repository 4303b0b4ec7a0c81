"""Win32_Process properties into a row: one mapping for wmic, CIM/WMI CSV and WMI lists.

Whatever prints them (``wmic process get``, ``Get-WmiObject``, ``Get-CimInstance``), the
properties keep their WMI names and units: memory in bytes, CPU times in 100 ns ticks, the
creation date as a CIM datetime (or, through ``Get-CimInstance``, a .NET date string).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, tzinfo
from functools import partial

from parsers.rows import ProcessRow
from parsers.values import integer, read_column
from parsers.windows_times import (
    CIM_PRECISION,
    cim_datetime,
    datetime_precision,
    dotnet_datetime,
)

__all__ = ["WIN32_PROCESS_PROPERTIES", "check_win32_process_columns", "win32_process_row"]

# Every property of the class, as wmic and Get-WmiObject name them: only these head a table.
WIN32_PROCESS_PROPERTIES = frozenset(
    {
        *("Caption", "CommandLine", "CreationClassName", "CreationDate", "CSCreationClassName"),
        *("CSName", "Description", "ExecutablePath", "ExecutionState", "Handle", "HandleCount"),
        *("InstallDate", "KernelModeTime", "MaximumWorkingSetSize", "MinimumWorkingSetSize"),
        *("Name", "OSCreationClassName", "OSName", "OtherOperationCount", "OtherTransferCount"),
        *("PageFaults", "PageFileUsage", "ParentProcessId", "PeakPageFileUsage"),
        *("PeakVirtualSize", "PeakWorkingSetSize", "Priority", "PrivatePageCount", "ProcessId"),
        *("QuotaNonPagedPoolUsage", "QuotaPagedPoolUsage", "QuotaPeakNonPagedPoolUsage"),
        *("QuotaPeakPagedPoolUsage", "ReadOperationCount", "ReadTransferCount", "SessionId"),
        *("Status", "TerminationDate", "ThreadCount", "UserModeTime", "VirtualSize"),
        *("WindowsVersion", "WorkingSetSize", "WriteOperationCount", "WriteTransferCount"),
    }
)
_TICKS = 10_000_000
_NO_START: tuple[None, None] = (None, None)
# Win32_Process.Name and Caption hold the same image name; either identifies the process.
_NAMES = ("Name", "Caption")


def check_win32_process_columns(columns: Collection[str]) -> str | None:
    """Why a set of Win32_Process columns cannot give rows (no ProcessId, no Name), or None."""
    if "ProcessId" not in columns:
        return "no ProcessId column"
    if not any(name in columns for name in _NAMES):
        return "no Name or Caption column"
    return None


def win32_process_row(
    line_number: int,
    properties: Mapping[str, str],
    zone: tzinfo,
    truncated: tuple[str, ...] = (),
) -> ProcessRow:
    """One process from its Win32_Process property values, as printed (text).

    ``ProcessId`` and ``Name`` (or ``Caption``) must be there; any other property may be
    missing or empty (WMI's null: access denied, or no value such as the Idle process's
    creation date), which gives ``None``. The mapping, in the row's units:
    ProcessId, ParentProcessId, Name (image name with its ``.exe``), CommandLine,
    CreationDate (CIM datetime with its own offset, or a .NET date string read as wall-clock
    time in ``zone``, the snapshot's; given in ``zone``, its precision that of the printed
    text: 1e-6 s for a CIM datetime, see :func:`parsers.windows_times.datetime_precision`),
    ThreadCount, WorkingSetSize (bytes, Windows' "memory usage", so ``memory_usage_bytes``,
    and resident memory, so ``rss_bytes`` too), VirtualSize (bytes, ``vsz_bytes``),
    KernelModeTime + UserModeTime (100 ns ticks, summed into ``cpu_time_seconds`` only when
    both are known) and Priority. Win32_Process has no owner or state property: user and
    status stay ``None``. ``truncated`` is passed on as the row's ``truncated_fields``.
    Raises ValueError naming the property that does not read.
    """
    name = next((properties[key] for key in _NAMES if properties.get(key)), "")
    if not name:
        raise ValueError("Name: empty")
    kernel = _optional(properties, "KernelModeTime")
    user = _optional(properties, "UserModeTime")
    pid = read_column("ProcessId", integer, properties.get("ProcessId", ""))
    working_set = _optional(properties, "WorkingSetSize")
    start, precision = _creation_date(properties.get("CreationDate", ""), zone)
    # Positional, each value naming its field: keywords double the call's cost, which took 4-9%
    # off a wmic table's parsing rate (measured on `make bench`'s corpus).
    return ProcessRow(
        line_number,  # line_number
        pid,  # pid
        name,  # process_name
        _optional(properties, "ParentProcessId"),  # ppid
        None,  # user
        properties.get("CommandLine") or None,  # command_line
        None,  # cpu_percent
        None,  # memory_percent
        working_set,  # rss_bytes
        _optional(properties, "VirtualSize"),  # vsz_bytes
        working_set,  # memory_usage_bytes
        None,  # status
        None,  # status_raw
        start,  # start_time
        precision,  # start_time_precision
        None if kernel is None or user is None else (kernel + user) / _TICKS,  # cpu_time_seconds
        None,  # tty
        _optional(properties, "ThreadCount"),  # threads
        None,  # nice
        _optional(properties, "Priority"),  # priority
        truncated,  # truncated_fields
    )


def _optional(properties: Mapping[str, str], key: str) -> int | None:
    """The integer value of ``key`` (a CIM uint64: 20 digits at most), None when empty."""
    text = properties.get(key)
    if not text:
        return None
    if len(text) <= 20 and text.isascii() and text.isdigit():
        return int(text)
    raise ValueError(f"{key}: {text!r} is not an integer")


def _creation_date(text: str, zone: tzinfo) -> tuple[datetime | None, float | None]:
    """CreationDate and its precision: CIM (wmic, Get-WmiObject) or .NET (Get-CimInstance).

    A CIM datetime is printed to the microsecond, a .NET date as its text shows. Kept as
    printed even when after ``observed_at``: the collector notes the time before it runs the
    command, whose own process then starts a moment later.
    """
    if not text:
        return _NO_START
    if text[:8].isdigit():
        return read_column("CreationDate", cim_datetime, text).astimezone(zone), CIM_PRECISION
    start = read_column("CreationDate", partial(dotnet_datetime, zone=zone), text)
    return start.astimezone(zone), datetime_precision(text)
