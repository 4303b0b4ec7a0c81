"""Synthetic ``tasklist`` listings of any size: the table, ``/v /fo csv`` and ``/fo list``."""

from __future__ import annotations

import random

from benchmarks.corpora import ParserCorpus

__all__ = ["CORPORA", "tasklist_csv_listing", "tasklist_list_listing", "tasklist_table_listing"]

# Names as in the fixtures, one longer than the table's 25 columns (cut there).
_IMAGES = (
    "svchost.exe",
    "System Idle Process",
    "Memory Compression",
    "RuntimeBroker.exe",
    "OneApp.IGCC.WinService.exe",
    "SmartByteNetworkService.exe",
    "chrome.exe",
    "conhost.exe",
)
_SESSIONS = (("Services", 0), ("Console", 1), ("RDP-Tcp#12", 3))
_USERS = ("NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\LOCAL SERVICE", "DESKTOP-7KQ2M1\\ann", "N/A")
_STATUSES = ("Running", "Unknown", "Not Responding")
_TITLES = ("N/A", "OleMainThreadWndName", "New Tab - Google Chrome", "Hello, world: this is me!")
_HEADER = "Image Name                     PID Session Name        Session#    Mem Usage"
_RULER = "========================= ======== ================ =========== ============"


def _process(rng: random.Random, index: int) -> tuple[str, ...]:
    """One process's values as tasklist /v prints them (en-US), whole."""
    session, number = rng.choice(_SESSIONS)
    seconds = rng.choice((0, 12, 3_723, 445_506))
    return (
        rng.choice(_IMAGES),
        str(4 * index + 4),
        session,
        str(number),
        f"{rng.randrange(8, 2_000_000):,} K",
        rng.choice(_STATUSES),
        rng.choice(_USERS),
        f"{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}",
        rng.choice(_TITLES),
    )


def tasklist_table_listing(lines: int, seed: int = 0) -> str:
    """Plain ``tasklist`` (en-US) with ``lines`` rows, long image names cut to 25 columns."""
    rng = random.Random(seed)
    out = ["", _HEADER, _RULER]
    for index in range(lines):
        image, pid, session, number, memory = _process(rng, index)[:5]
        out.append(f"{image[:25]:<25} {pid:>8} {session:<16} {number:>11} {memory:>12}")
    return "\n".join(out) + "\n"


def tasklist_csv_listing(lines: int, seed: int = 0) -> str:
    """``tasklist /v /fo csv`` (en-US) with ``lines`` rows."""
    rng = random.Random(seed)
    out = [
        '"Image Name","PID","Session Name","Session#","Mem Usage","Status","User Name",'
        '"CPU Time","Window Title"'
    ]
    for index in range(lines):
        out.append(",".join(f'"{value}"' for value in _process(rng, index)))
    return "\r\n".join(out) + "\r\n"


def tasklist_list_listing(lines: int, seed: int = 0) -> str:
    """``tasklist /fo list`` (en-US) with at least ``lines`` lines (five per process)."""
    rng = random.Random(seed)
    labels = ("Image Name:", "PID:", "Session Name:", "Session#:", "Mem Usage:")
    out = [""]
    for index in range(-(-lines // len(labels))):
        values = _process(rng, index)[:5]
        out.extend(f"{label:<14}{value}" for label, value in zip(labels, values, strict=True))
        out.append("")
    return "\n".join(out)


CORPORA = (
    ParserCorpus("tasklist", "windows", "tasklist", tasklist_table_listing, None),
    ParserCorpus("tasklist csv", "windows", "tasklist /v /fo csv", tasklist_csv_listing, None),
    ParserCorpus("tasklist list", "windows", "tasklist /fo list", tasklist_list_listing, None),
)
