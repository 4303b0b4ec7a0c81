"""The captured sequences of tests/fixtures/history/ and the history worked out for them by hand.

Each expectation maps a pid of listing n to (the listing its key comes from, interval seconds,
interval CPU percent): the listing where the process was first seen names its key, because a
key is :func:`history.process_key_of` of the snapshot where the chain began. The figures are
the listings' own, read off the files (see SOURCES.md there), not computed by the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from procmon.envelope import Envelope, make_envelope

__all__ = [
    "FIXTURES",
    "MACHINE",
    "PS_AUX",
    "PS_LSTART",
    "TIMES",
    "TOP",
    "Expected",
    "envelopes_of",
    "listing_text",
]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "history"
MACHINE = "history-fixture"
TIMES = tuple(datetime(2026, 12, 2, 4, 15, second, tzinfo=UTC) for second in (26, 31, 36, 41))
"""When each of the four listings was taken, five seconds apart."""

Expected = Mapping[int, tuple[int, float | None, float | None]]

# Processes that ran through all four listings and used no CPU time that ps prints.
_KERNEL_THREADS = (2, 3, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16)
_POSTGRES = (2192, 2193, 2194, 2196, 2197)
_IDLE = (*_KERNEL_THREADS, *_POSTGRES, 2212, 2947)
_FIRST = {pid: (0, None, None) for pid in _IDLE}
_STILL = {pid: (0, 5.0, 0.0) for pid in _IDLE}

# The burner (9467) printed TIME 0:00, 0:03, 0:06, 0:09: 3 s in each 5 s interval is 60%.
# 9469 (sleep 8) exits after listing 1; 9502 (bash's child) is in listing 1 only. 9500 is
# bash in listing 1 and sleep from listing 2 on (exec): a new name, so a new key at 2.
# Pid 11, a kernel worker, is named after the workqueue it serves: kworker/0:1-virtio_vsock
# in ps aux 0, 1 and 3, kworker/0:1-events in 2; neither name is the start of the other, so
# each change starts a new key. Each listing's own ps (last pid) is seen once.
PS_AUX: tuple[Expected, ...] = (
    _FIRST
    | {11: (0, None, None), 9467: (0, None, None), 9469: (0, None, None)}
    | {9489: (0, None, None)},
    _STILL
    | {11: (0, 5.0, 0.0), 9467: (0, 5.0, 60.0), 9469: (0, 5.0, 0.0)}
    | {9500: (1, None, None), 9502: (1, None, None), 9648: (1, None, None)},
    _STILL
    | {11: (2, None, None), 9467: (0, 5.0, 60.0), 9500: (2, None, None)}
    | {9777: (2, None, None)},
    _STILL
    | {11: (3, None, None), 9467: (0, 5.0, 60.0), 9500: (2, 5.0, 0.0)}
    | {9915: (3, None, None)},
)

# The same story in ps -o lstart's TIME (00:00:03...); comm names. Pid 11 is
# kworker/0:1-events in 0 and 2, kworker/0:1-virtio_vsock in 1 and 3: a new key each time.
PS_LSTART: tuple[Expected, ...] = (
    _FIRST
    | {11: (0, None, None), 9467: (0, None, None), 9469: (0, None, None)}
    | {9498: (0, None, None)},
    _STILL
    | {11: (1, None, None), 9467: (0, 5.0, 60.0), 9469: (0, 5.0, 0.0)}
    | {9500: (1, None, None), 9502: (1, None, None), 9649: (1, None, None)},
    _STILL
    | {11: (2, None, None), 9467: (0, 5.0, 60.0), 9500: (2, None, None)}
    | {9778: (2, None, None)},
    _STILL
    | {11: (3, None, None), 9467: (0, 5.0, 60.0), 9500: (2, 5.0, 0.0)}
    | {9917: (3, None, None)},
)

# top prints TIME+ in hundredths. The burner: 0:01.01, 0:03.96, 0:06.86, 0:09.68, so 2.95,
# 2.90 and 2.82 s in the three intervals: 59.0, 58.0 and 56.4%. redis-server (2212): 1.89,
# 1.90, 1.91, 1.92 (0.2% each); mosquitto (2947): 0.51, 0.52 (0.2%), then still; postgres
# 2192: 0.12 until 0.20 in listing 3 (1.6%); rcu_preempt (15): 0.35, then 0.36 in 3 (0.2%).
# Pid 11 is kworker/0:1-mm_percpu_wq in 0 and 1, kworker/0:1-events in 2 and 3: one change.
_TOP_STILL = _STILL | {2947: (0, 5.0, 0.0)}
TOP: tuple[Expected, ...] = (
    _FIRST
    | {11: (0, None, None), 9467: (0, None, None), 9469: (0, None, None)}
    | {9499: (0, None, None)},
    _STILL
    | {11: (0, 5.0, 0.0), 9467: (0, 5.0, 59.0), 9469: (0, 5.0, 0.0)}
    | {2212: (0, 5.0, 0.2), 2947: (0, 5.0, 0.2)}
    | {9500: (1, None, None), 9502: (1, None, None), 9650: (1, None, None)},
    _TOP_STILL
    | {11: (2, None, None), 9467: (0, 5.0, 58.0), 9500: (2, None, None)}
    | {2212: (0, 5.0, 0.2), 9779: (2, None, None)},
    _TOP_STILL
    | {11: (2, 5.0, 0.0), 9467: (0, 5.0, 56.4), 9500: (2, 5.0, 0.0)}
    | {2192: (0, 5.0, 1.6), 15: (0, 5.0, 0.2), 2212: (0, 5.0, 0.2), 9919: (3, None, None)},
)


def listing_text(prefix: str, n: int) -> str:
    """The text of listing ``n`` of a sequence (``ps-aux``, ``ps-eo-lstart``, ``top-b``)."""
    return (FIXTURES / f"{prefix}-{n}.out").read_text(encoding="utf-8")


def envelopes_of(prefix: str, command: str, machine_id: str = MACHINE) -> list[Envelope]:
    """The envelopes a collector would have sent of a sequence, stamped as it was taken."""
    return [
        make_envelope(
            raw_output=listing_text(prefix, n),
            machine_id=machine_id,
            machine_name=machine_id,
            os_type="linux",
            os_version="6.18",
            command_type=command,
            timestamp=timestamp,
        )
        for n, timestamp in enumerate(TIMES)
    ]
