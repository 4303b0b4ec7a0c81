"""Synthetic Windows listings of any size: PowerShell ``Get-Process`` (table, CSV) and wmic."""

from __future__ import annotations

import csv
import io
import random

from benchmarks.corpora import ParserCorpus

__all__ = [
    "CORPORA",
    "get_process_csv_listing",
    "get_process_table_listing",
    "wmic_list_listing",
    "wmic_table_listing",
]

_NAMES = ("svchost", "explorer", "powershell", "MsMpEng", "RuntimeBroker", "chrome", "System")
_USERS = ("NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\LOCAL SERVICE", "CONTOSO\\ann", "")
_COMMANDS = (
    "C:\\WINDOWS\\system32\\svchost.exe -k netsvcs -p -s Schedule",
    '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=en-US',
    "C:\\WINDOWS\\Explorer.EXE",
    "",
    '"C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoProfile -File x.ps1',
)
_PS51_HEADER = "Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName"
_PS51_RULER = "-------  ------    -----      -----     ------     --  -- -----------"
_CSV_COLUMNS = (
    *("Name", "SI", "Handles", "VM", "WS", "PM", "NPM", "Path", "Company", "CPU"),
    *("BasePriority", "Id", "StartTime", "Threads", "TotalProcessorTime"),
    *("VirtualMemorySize64", "WorkingSet64"),
)


def get_process_table_listing(lines: int, seed: int = 0) -> str:
    """Windows PowerShell 5.1's ``Get-Process`` table with ``lines`` rows."""
    rng = random.Random(seed)
    out = ["", _PS51_HEADER, _PS51_RULER]
    for index in range(lines):
        cpu = "" if rng.random() < 0.1 else f"{rng.random() * 5000:,.2f}"
        out.append(
            f"{rng.randrange(20000):>7} {rng.randrange(200):>7} {rng.randrange(10**6):>8} "
            f"{rng.randrange(10**7):>10} {cpu:>10} {4 * index:>6} {rng.randrange(3):>3} "
            f"{rng.choice(_NAMES)}"
        )
    return "\r\n".join([*out, "", ""])


def get_process_csv_listing(lines: int, seed: int = 0) -> str:
    """Windows PowerShell 5.1's ``Get-Process | ConvertTo-Csv`` of ``lines`` processes."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    buffer.write("#TYPE System.Diagnostics.Process\r\n")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    for index in range(lines):
        name = rng.choice(_NAMES)
        ws, vm = rng.randrange(2**32), rng.randrange(2**44)
        ticks = rng.randrange(10**11)
        whole, fraction = divmod(ticks, 10**7)
        timespan = f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{fraction:07d}"
        start = (
            f"{rng.randrange(1, 13)}/{rng.randrange(1, 29)}/2026 {rng.randrange(1, 13)}:05:09 PM"
        )
        writer.writerow(
            [
                *(name, rng.randrange(3), rng.randrange(9000), vm, ws, ws // 2, 30000),
                *(f"C:\\WINDOWS\\system32\\{name}.exe", "Microsoft Corporation", ticks / 10**7),
                *(8, 4 * index, start, "System.Diagnostics.ProcessThreadCollection", timespan),
                *(vm, ws),
            ]
        )
    return buffer.getvalue()


def _win32_values(rng: random.Random, index: int) -> dict[str, str]:
    """The Win32_Process properties wmic is asked for, of one made-up process."""
    return {
        "CommandLine": rng.choice(_COMMANDS),
        "CreationDate": f"2026112{rng.randrange(8)}0{rng.randrange(10)}1234.123456+060",
        "KernelModeTime": str(rng.randrange(10**11)),
        "Name": rng.choice(_NAMES) + ".exe",
        "ParentProcessId": str(rng.randrange(10**5)),
        "ProcessId": str(4 * index),
        "ThreadCount": str(rng.randrange(200)),
        "UserModeTime": str(rng.randrange(10**11)),
        "WorkingSetSize": str(rng.randrange(2**33)),
    }


def wmic_table_listing(lines: int, seed: int = 0) -> str:
    """``wmic process get CommandLine,CreationDate,...`` (default table) with ``lines`` rows."""
    rng = random.Random(seed)
    rows = [_win32_values(rng, index) for index in range(lines)]
    names = sorted(rows[0]) if rows else ["Name", "ProcessId"]
    widths = {name: max([len(name), *(len(row[name]) for row in rows)]) + 2 for name in names}
    out = ["".join(name.ljust(widths[name]) for name in names)]
    out += ["".join(row[name].ljust(widths[name]) for name in names) for row in rows]
    return "".join(line + "\r\r\n" for line in [*out, ""])


def wmic_list_listing(lines: int, seed: int = 0) -> str:
    """``wmic process get ... /format:list``: records enough for ``lines`` property lines."""
    rng = random.Random(seed)
    out = ["", ""]
    for index in range(-(-lines // 9)):
        out += [f"{name}={value}" for name, value in sorted(_win32_values(rng, index).items())]
        out += ["", ""]
    return "".join(line + "\r\r\n" for line in out)


CORPORA = (
    ParserCorpus("Get-Process table", "windows", "Get-Process", get_process_table_listing),
    ParserCorpus(
        "Get-Process csv", "windows", "Get-Process | ConvertTo-Csv", get_process_csv_listing
    ),
    ParserCorpus("wmic process table", "windows", "wmic process get", wmic_table_listing),
    ParserCorpus(
        "wmic process list", "windows", "wmic process get /format:list", wmic_list_listing
    ),
)
