"""procps ``top -b`` with toprc field layouts of our own, captured here and checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from parsers.rows import ProcessRow, ProcessStatus
from parsers.top_linux import parse_top_linux
from parsers.top_linux_columns import TopLayout
from tests.parsers.fixtures import read_fixture
from tests.parsers.top_metadata import section

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
KIB = 1024
# Where the captures' test program lay (a copy of sleep named "my prog (test)").
CAPTURE_DIR = "/tmp/top18"  # noqa: S108 - text of the fixtures, no file is opened


def by_pid(rows: list[ProcessRow]) -> dict[int, ProcessRow]:
    """The rows keyed by PID."""
    return {row.pid: row for row in rows}


def test_every_field_wide() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n1-w512-every-field.out"), AT)
    assert [row.pid for row in listing.rows] == [2, 3, 14, 896, 897, 900, 977]
    assert section(listing, "tasks") == {
        "total": 7,
        "running": 0,
        "sleeping": 6,
        "stopped": 0,
        "zombie": 1,
    }
    rows = by_pid(listing.rows)
    # "  897     1     0 root  ...  20   0  13 0   0.0   0:00   0:00.01   0.0  898936      0
    #    9116   2764  104980   5464    3 1255    0 S python3 hrtimer_n+ ..4..... 4:memo+ ..."
    assert rows[897] == ProcessRow(
        line_number=12,
        pid=897,
        process_name="python3",
        ppid=1,
        user="root",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=9116 * KIB,
        vsz_bytes=898_936 * KIB,
        memory_usage_bytes=9116 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.01,  # TIME+ read, not TIME's 0:00
        threads=13,
        nice=0,
        priority=20,
    )
    # COMMAND gets 7 characters in the middle of the line: "my pro+", cut.
    assert rows[896].process_name == "my pro+"
    assert rows[896].truncated_fields == ("process_name",)
    # "  977     1   105 mosquit+   105 mosquit+ ...  25   5   1 0 ... 1516 ... S sleep   ..."
    assert (rows[977].user, rows[977].nice, rows[977].priority) == ("mosquit+", 5, 25)
    assert rows[977].rss_bytes == 1516 * KIB
    assert rows[977].truncated_fields == ("user",)
    assert rows[900].status == ProcessStatus.ZOMBIE
    assert rows[900].ppid == 896


def test_command_in_the_middle_keeps_its_spaces() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n1-w512-command-middle.out"), AT)
    rows = by_pid(listing.rows)
    # "  896 root     my prog (test)   ...   1   0.0   0:00.00   1372 S   1 ?        hrtimer_n+"
    assert rows[896] == ProcessRow(
        line_number=11,
        pid=896,
        process_name="my prog (test)",
        ppid=1,
        user="root",
        cpu_percent=0.0,
        rss_bytes=1372 * KIB,
        memory_usage_bytes=1372 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.0,
        threads=1,
    )
    # "    3 root     pool_workqueue_release  ...  2   0.0   0:00.00      0 S   1 ?  kthread_w+"
    assert (rows[3].process_name, rows[3].ppid, rows[3].tty) == ("pool_workqueue_release", 2, None)
    # WCHAN is cut ("kthread_w+") but read into no field: nothing is flagged.
    assert rows[3].truncated_fields == ()
    assert (rows[897].threads, rows[897].cpu_time_seconds) == (13, 0.01)


def test_environ_cgroups_supgrps_exe_before_command() -> None:
    raw = read_fixture("linux-local/top-b-n1-w512-environ-cgroups-supgrps-exe.out")
    listing = parse_top_linux(raw, AT)
    rows = by_pid(listing.rows)
    assert rows[896].process_name == "my prog (test)"
    assert (rows[896].user, rows[896].status) == ("root", ProcessStatus.SLEEPING)
    assert rows[900].status == ProcessStatus.ZOMBIE
    assert rows[977].truncated_fields == ("user",)
    # The skipped columns are found whole too, spaces and all.
    lines = raw.split("\n")
    layout = TopLayout(lines[6], 7)
    texts = {name: layout.text(index, lines[10]) for index, name in enumerate(layout.names)}
    assert texts == {
        "PID": "896",
        "USER": "root",
        "ENVIRON": "PWD=/tmp/top18 SHLVL=0 GREETING=hello big world PATH=/usr/bin:/bin",
        "CGROUPS": "4:memory:/process_api/506dd4c57f2cc4bbed0e80851507b6dd",
        "SUPGRPS": "-",
        "S": "S",
        "Flags": "..4.....",
        "EXE": f"{CAPTURE_DIR}/my prog (test)",
        "COMMAND": "my prog (test)",
    }


def test_command_lines_of_top_c() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-c-n1-w512.out"), AT)
    rows = by_pid(listing.rows)
    # "    2 root      20   0       0      0      0 S   0.0   0.0   0:00.00 [kthreadd]"
    assert (rows[2].process_name, rows[2].command_line) == ("kthreadd", "[kthreadd]")
    # "  977 mosquit+  25   5    2500   1516   1420 S   0.0   0.0   0:00.00 sleep 7201"
    assert rows[977] == ProcessRow(
        line_number=14,
        pid=977,
        process_name="sleep",
        user="mosquit+",
        command_line="sleep 7201",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=1516 * KIB,
        vsz_bytes=2500 * KIB,
        memory_usage_bytes=1516 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.0,
        nice=5,
        priority=25,
        truncated_fields=("user",),
    )
    assert (rows[900].process_name, rows[900].command_line) == ("sleep", "[sleep] <defunct>")
    assert rows[896].command_line == f"{CAPTURE_DIR}/my prog (test) 7200"
    assert rows[897].command_line is not None
    assert rows[897].command_line.endswith("; time.sleep(7200)")


def test_command_lines_cut_in_the_middle_at_80_columns() -> None:
    raw = read_fixture("linux-local/top-b-c-n1-w80-command-middle-cut.out")
    rows = by_pid(parse_top_linux(raw, AT).rows)
    # "  897 root     python3 -c import threading,time; [threadi+  13 S   0.0 ?"
    assert rows[897] == ProcessRow(
        line_number=12,
        pid=897,
        process_name="python3",
        user="root",
        command_line="python3 -c import threading,time; [threadi+",
        memory_percent=0.0,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        threads=13,
        truncated_fields=("command_line",),
    )
    assert rows[3].command_line == "[pool_workqueue_release]"
    assert rows[977].truncated_fields == ("user",)


def test_suppressed_zeros_of_a_real_toprc() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n1-w512-zero-suppress.out"), AT)
    rows = by_pid(listing.rows)
    # "   14 root      20                           S               0:00.28   1 ksoftirqd/0"
    assert rows[14] == ProcessRow(
        line_number=10,
        pid=14,
        process_name="ksoftirqd/0",
        user="root",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=0,
        vsz_bytes=0,
        memory_usage_bytes=0,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.28,
        threads=1,
        nice=0,
        priority=20,
    )
    # "  977 mosquit+  25   5    2500   1516   1420 S         0.0             1 sleep"
    assert (rows[977].nice, rows[977].vsz_bytes, rows[977].cpu_percent) == (5, 2500 * KIB, 0.0)
    assert (rows[977].memory_percent, rows[977].cpu_time_seconds) == (0.0, 0.0)
    assert (rows[897].threads, rows[897].cpu_time_seconds) == (13, 0.01)


def test_forest_view_command_lines() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-c-n1-w512-forest.out"), AT)
    rows = by_pid(listing.rows)
    # "    3 root      20   0       0      0      0 S   0.0   0.0   0:00.00  `- [pool_workq..."
    assert (rows[3].process_name, rows[3].command_line) == (
        "pool_workqueue_release",
        "[pool_workqueue_release]",
    )
    # "  900 root      20   0       0      0      0 Z   0.0   0.0   0:00.00  `- [sleep] <defunct>"
    assert (rows[900].process_name, rows[900].command_line) == ("sleep", "[sleep] <defunct>")
    assert rows[896].command_line == f"{CAPTURE_DIR}/my prog (test) 7200"
    assert [row.pid for row in listing.rows] == [2, 3, 14, 896, 900, 897, 977]


def test_narrow_width_cuts_the_summary_and_leaves_command_out() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n1-w60-summary-cut.out"), AT)
    # "top - 01:04:19 up  1:08,  0 user,  load average: 1.11, 2.14,"
    # "MiB Mem :  24105.1 total,  21146.5 free,   1052.6 used,   23"
    assert listing.metadata == {
        "samples": 1,
        "time": "01:04:19",
        "uptime": "1:08",
        "users": 0,
        "load_average": [1.11, 2.14],
        "tasks": {"total": 7, "running": 0, "sleeping": 6, "stopped": 0},
        "cpu_percent": {"us": 0.0, "sy": 0.0, "ni": 0.0, "id": 100.0, "wa": 0.0},
        "memory_bytes": {
            "total": 25_276_029_338,  # 24105.1 MiB = 25 276 029 337.6 bytes
            "free": 22_173_712_384,  # 21146.5 MiB
            "used": 1_103_731_098,  # 1052.6 MiB = 1 103 731 097.6 bytes
        },
        "swap_bytes": {"total": 0, "free": 0, "used": 0},
    }
    rows = by_pid(listing.rows)
    # "  977 mosquit+  25   5    2500   1516   1420 S   0.0   0.0": TIME+ and COMMAND left out.
    assert rows[977] == ProcessRow(
        line_number=14,
        pid=977,
        process_name="",
        user="mosquit+",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=1516 * KIB,
        vsz_bytes=2500 * KIB,
        memory_usage_bytes=1516 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        nice=5,
        priority=25,
        truncated_fields=("process_name", "user"),
    )


def test_forty_columns() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n1-w40-summary-cut.out"), AT)
    # "top - 01:04:19 up  1:08,  0 user,  load $": no load average, so no uptime either.
    assert listing.metadata["time"] == "01:04:19"
    assert "uptime" not in listing.metadata
    # "Tasks:   3 total,   0 running,   3 sleep"
    assert listing.metadata["tasks"] == {"total": 3, "running": 0}
    # "  896 root      20   0    2500   1372"
    assert [(row.pid, row.rss_bytes, row.status) for row in listing.rows] == [
        (2, 0, None),
        (896, 1372 * KIB, None),
        (977, 1516 * KIB, None),
    ]
