"""Synthetic ``top`` listings of any size: Linux ``top -b``, macOS ``top -l 1``, FreeBSD ``top``."""

from __future__ import annotations

import random

from benchmarks.corpora import ParserCorpus

__all__ = ["CORPORA", "freebsd_top_listing", "linux_top_listing", "macos_top_listing"]

_LINUX_SUMMARY = (
    "top - 10:26:31 up 5 days,  3:04,  2 users,  load average: 0.55, 0.24, 0.09\n"
    "Tasks: 245 total,   1 running, 244 sleeping,   0 stopped,   0 zombie\n"
    "%Cpu(s):  3.1 us,  3.1 sy,  0.0 ni, 93.8 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\n"
    "MiB Mem :   3903.6 total,   2378.7 free,    320.2 used,   1204.7 buff/cache\n"
    "MiB Swap:   3903.0 total,   3903.0 free,      0.0 used.   3345.3 avail Mem \n"
    "\n"
    "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n"
)
_LINUX_USERS = ("root", "kbrazil", "systemd+", "postgres", "message+")
_LINUX_NAMES = ("systemd", "kworker/0:1-events", "sshd", "postgres", "my prog (test)", "bash")
# KiB as top -b prints by default; VIRT fits 7 characters, RES 6, a larger value is scaled
# up with a letter to fit (one value in six here).
_LINUX_VIRT = ("104364", "0", "8193.1g", "2234488", "217232", "15456")
_LINUX_RES = ("13208", "0", "1.2g", "124948", "6576", "29796")

_MACOS_SUMMARY = (
    "Processes: 463 total, 2 running, 461 sleeping, 2190 threads\n"
    "2026/11/28 12:00:00\n"
    "Load Avg: 1.80, 1.92, 2.06 \n"
    "CPU usage: 6.47% user, 3.76% sys, 89.75% idle \n"
    "PhysMem: 8102M used (2150M wired), 89M unused.\n"
    "\n"
    "PID    COMMAND          %CPU TIME     #TH   #WQ  #PORT MEM    PURG   CMPRS  PGRP  PPID  "
    "STATE    BOOSTS\n"
)
_MACOS_NAMES = ("Terminal", "WindowServer", "Google Chrome He", "kernel_task", "mdworker")
_MACOS_SIZES = ("23M+", "4848K", "1025M-", "0B", "62M")

_FREEBSD_SUMMARY = (
    "last pid:  9609;  load averages:  0.56,  0.45,  0.36  up 0+00:20:03  10:21:46\n"
    "107 processes: 2 running, 104 sleeping, 1 zombie\n"
    "CPU:  6.2% user,  0.1% nice,  8.2% system,  0.4% interrupt, 85.1% idle\n"
    "Mem: 541M Active, 450M Inact, 1333M Wired, 4064K Cache, 1498M Free\n"
    "Swap: 2048M Total, 2048M Free\n"
    "\n"
    "  PID USERNAME    THR PRI NICE   SIZE    RES STATE   C   TIME   WCPU COMMAND\n"
)
_FREEBSD_STATES = ("select", "CPU3", "RUN", "nanslp", "uwait", "ZOMB")
_FREEBSD_TIMES = ("0:03", "12:34", "123.4H", "999:59")


def linux_top_listing(lines: int, seed: int = 0) -> str:
    """One ``top -b`` sample with ``lines`` process lines, deterministic by seed."""
    rng = random.Random(seed)
    out = [_LINUX_SUMMARY]
    for pid in range(1, lines + 1):
        out.append(
            f"{pid:>7} {rng.choice(_LINUX_USERS):<8} {rng.choice(('20', 'rt', '-51', '0')):>3} "
            f"{rng.choice(('0', '-20', '19')):>3} {rng.choice(_LINUX_VIRT):>7} "
            f"{rng.choice(_LINUX_RES):>6} {rng.randrange(10**5):>6} {rng.choice('SRIDZ')} "
            f"{rng.random() * 100:5.1f} {rng.random() * 10:5.1f} "
            f"{f'{rng.randrange(1000)}:{rng.randrange(60):02d}.{rng.randrange(100):02d}':>9} "
            f"{rng.choice(_LINUX_NAMES)}\n"
        )
    return "".join(out)


def macos_top_listing(lines: int, seed: int = 0) -> str:
    """One ``top -l 1`` sample with ``lines`` process lines, deterministic by seed."""
    rng = random.Random(seed)
    out = [_MACOS_SUMMARY]
    for pid in range(lines):
        minutes = rng.randrange(60)
        out.append(
            f"{pid:<6} {rng.choice(_MACOS_NAMES):<16} {rng.random() * 100:<4.1f} "
            f"{f'{minutes:02d}:{rng.randrange(60):02d}.{rng.randrange(100):02d}':<8} "
            f"{rng.randrange(1, 200):<5} {rng.randrange(5):<4} {rng.randrange(2000):<5} "
            f"{rng.choice(_MACOS_SIZES):<6} {rng.choice(_MACOS_SIZES):<6} "
            f"{rng.choice(_MACOS_SIZES):<6} {pid:<5} {1:<5} "
            f"{rng.choice(('sleeping', 'running', 'stuck')):<8} *0[1]\n"
        )
    return "".join(out)


def freebsd_top_listing(lines: int, seed: int = 0) -> str:
    """One FreeBSD ``top -b`` display with ``lines`` process lines, deterministic by seed."""
    rng = random.Random(seed)
    out = [_FREEBSD_SUMMARY]
    for pid in range(1, lines + 1):
        out.append(
            f"{pid:>5} {rng.choice(('root', 'dru', 'www')):<10} {rng.randrange(1, 40):>4} "
            f"{rng.choice(('20', '-21', '52')):>3} {rng.choice(('0', 'r31', '10')):>4} "
            f"{rng.choice(('136M', '14268K', '2G')):>6} {rng.choice(('42296K', '187M')):>6} "
            f"{rng.choice(_FREEBSD_STATES):<6} {rng.randrange(4):>3} "
            f"{rng.choice(_FREEBSD_TIMES):>6} {rng.random() * 100:5.2f}% "
            f"{rng.choice(('Xorg', 'kdeinit4', 'soffice.bin'))}\n"
        )
    return "".join(out)


CORPORA = (
    ParserCorpus("top -b", "linux", "top -b -n 1", linux_top_listing, jc_parser="top"),
    ParserCorpus("top -l", "macos", "top -l 1", macos_top_listing),
    ParserCorpus("top BSD", "freebsd", "top -b", freebsd_top_listing),
)
