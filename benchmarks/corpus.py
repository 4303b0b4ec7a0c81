"""Synthetic `ps aux` listings of any size, shaped like real procps output."""

from __future__ import annotations

import random

__all__ = ["ps_aux_listing"]

HEADER = "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
_COMMANDS = (
    "/usr/lib/systemd/systemd --switched-root --system --deserialize 22",
    "[kworker/0:1H]",
    "/usr/sbin/sshd -D",
    "postgres: checkpointer",
    "/usr/bin/python3 /opt/app/server.py --port 8080 --workers 4",
    "nginx: worker process",
    "-bash",
    "/usr/lib/jvm/java-17/bin/java -Xmx2g -jar /srv/app.jar",
)
_USERS = ("root", "postgres", "www-data", "kelly", "systemd+")
_STATES = ("S", "Ss", "R+", "I<", "Sl", "D", "Z")
_STARTS = ("10:01", "Oct25", "2019", "09:59")


def ps_aux_listing(lines: int, seed: int = 0) -> str:
    """A `ps aux` listing with a header and ``lines`` process lines, deterministic by seed."""
    rng = random.Random(seed)
    out = [HEADER]
    for pid in range(1, lines + 1):
        out.append(
            f"{rng.choice(_USERS):<8} {pid:>7} {rng.random() * 100:4.1f} {rng.random() * 10:4.1f} "
            f"{rng.randrange(10**7):>6} {rng.randrange(10**6):>5} ?        "
            f"{rng.choice(_STATES):<4} {rng.choice(_STARTS):<5} "
            f"{rng.randrange(60)}:{rng.randrange(60):02d} {rng.choice(_COMMANDS)}"
        )
    return "\n".join(out) + "\n"
