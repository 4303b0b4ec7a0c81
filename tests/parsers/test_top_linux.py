"""Linux procps ``top -b`` captures, with rows and summaries checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parsers.detect import parse_listing
from parsers.errors import ParseError
from parsers.rows import ProcessRow, ProcessStatus
from parsers.top_linux import parse_top_linux
from tests.parsers.fixtures import read_fixture
from tests.parsers.top_metadata import section

AT = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
KIB = 1024
MIB = 1024**2
GIB = 1024**3


def by_line(rows: list[ProcessRow]) -> dict[int, ProcessRow]:
    """The rows keyed by the line they were read from."""
    return {row.line_number: row for row in rows}


def test_centos_gib_summary_and_mebibyte_columns() -> None:
    listing = parse_top_linux(read_fixture("linux-centos-7.7/top-b-n1-gib.out"), AT)
    assert listing.format == "top -b"
    assert len(listing.rows) == 108
    assert [row.line_number for row in listing.rows] == list(range(8, 116))
    assert listing.metadata == {
        "samples": 1,
        "time": "11:10:47",
        "uptime": "1:08",
        "users": 2,
        "load_average": [0.0, 0.01, 0.05],
        "tasks": {"total": 108, "running": 2, "sleeping": 106, "stopped": 0, "zombie": 0},
        "cpu_percent": {
            **{"us": 5.9, "sy": 5.9, "ni": 0.0, "id": 88.2},
            **{"wa": 0.0, "hi": 0.0, "si": 0.0, "st": 0.0},
        },
        # 3.7 GiB is 3 972 844 748.8 bytes: rounded to the byte.
        "memory_bytes": {
            "total": 3_972_844_749,
            "free": 3_543_348_019,
            "used": 214_748_365,
            "buff_cache": 214_748_365,
            "available": 3_543_348_019,
        },
        "swap_bytes": {"total": 2 * GIB, "free": 2 * GIB, "used": 0},
    }
    chosen = by_line(listing.rows)
    # "     1 root      20   0  125.1m   6.5m   4.1m S  0.0  0.2   0:01.47 systemd"
    assert chosen[8] == ProcessRow(
        line_number=8,
        pid=1,
        process_name="systemd",
        user="root",
        cpu_percent=0.0,
        memory_percent=0.2,
        rss_bytes=6_815_744,  # 6.5 MiB
        vsz_bytes=131_176_858,  # 125.1 MiB = 131 176 857.6 bytes
        memory_usage_bytes=6_815_744,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=1.47,
        nice=0,
        priority=20,
    )
    # "     7 root      rt   0    0.0m   0.0m   0.0m S  0.0  0.0   0:00.00 migration/0"
    assert chosen[12] == ProcessRow(
        line_number=12,
        pid=7,
        process_name="migration/0",
        user="root",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=0,
        vsz_bytes=0,
        memory_usage_bytes=0,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.0,
        nice=0,
        priority=None,
    )
    # "     9 root      20   0    0.0m   0.0m   0.0m R  0.0  0.0   0:00.49 rcu_sched"
    assert chosen[14].status == ProcessStatus.RUNNING
    assert chosen[14].cpu_time_seconds == 0.49


def test_centos_three_samples_keep_the_last() -> None:
    listing = parse_top_linux(read_fixture("linux-centos-7.7/top-b-n3.out"), AT)
    assert len(listing.rows) == 112
    assert listing.rows[0].line_number == 248
    assert listing.rows[-1].line_number == 359
    assert listing.metadata["samples"] == 3
    assert listing.metadata["time"] == "11:24:56"
    assert listing.metadata["uptime"] == "2 min"
    assert listing.metadata["load_average"] == [0.21, 0.21, 0.09]
    assert listing.metadata["memory_bytes"] == {
        "total": 3_861_332 * KIB,
        "free": 3_446_336 * KIB,
        "used": 217_060 * KIB,
        "buff_cache": 197_936 * KIB,
        "available": 3_419_228 * KIB,
    }
    chosen = by_line(listing.rows)
    # "  1224 root      20   0  576652  26216  12956 S  0.3  0.7   0:00.42 dockerd-current"
    assert chosen[249] == ProcessRow(
        line_number=249,
        pid=1224,
        process_name="dockerd-current",
        user="root",
        cpu_percent=0.3,
        memory_percent=0.7,
        rss_bytes=26_216 * KIB,
        vsz_bytes=576_652 * KIB,
        memory_usage_bytes=26_216 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.42,
        nice=0,
        priority=20,
    )
    # "  1933 postfix   20   0   89804   4060   3060 S  0.0  0.1   0:00.00 pickup"
    assert chosen[359] == ProcessRow(
        line_number=359,
        pid=1933,
        process_name="pickup",
        user="postfix",
        cpu_percent=0.0,
        memory_percent=0.1,
        rss_bytes=4060 * KIB,
        vsz_bytes=89_804 * KIB,
        memory_usage_bytes=4060 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.0,
        nice=0,
        priority=20,
    )


def test_ubuntu_truncated_users_and_negative_priorities() -> None:
    listing = parse_top_linux(read_fixture("linux-ubuntu-20.10/top-b-n1.out"), AT)
    assert len(listing.rows) == 245
    assert section(listing, "memory_bytes")["total"] == 4_093_221_274  # 3903.6 MiB
    assert section(listing, "swap_bytes")["total"] == 4_092_592_128  # 3903.0 MiB
    chosen = by_line(listing.rows)
    # "     13 root     -51   0       0      0      0 S   0.0   0.0   0:00.00 idle_inject/0"
    assert chosen[20].priority == -51
    assert chosen[19].priority is None  # rt
    # "    743 systemd+  20   0   91388   6576   5692 S   0.0   0.2   0:00.07 systemd-timesyn"
    assert chosen[220] == ProcessRow(
        line_number=220,
        pid=743,
        process_name="systemd-timesyn",
        user="systemd+",
        cpu_percent=0.0,
        memory_percent=0.2,
        rss_bytes=6576 * KIB,
        vsz_bytes=91_388 * KIB,
        memory_usage_bytes=6576 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.07,
        nice=0,
        priority=20,
        truncated_fields=("user",),
    )
    # "   1968 root       0 -20       0      0      0 S   0.0   0.0   0:00.00 loop3"
    assert chosen[250].nice == -20
    assert chosen[250].priority == 0


def test_local_two_samples_with_spaces_zombie_and_scaled_virt() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n2-w512.out"), AT)
    assert len(listing.rows) == 91
    assert listing.metadata["samples"] == 2
    assert listing.metadata["users"] == 0
    assert section(listing, "tasks")["zombie"] == 1
    assert listing.metadata["swap_bytes"] == {"total": 0, "free": 0, "used": 0}
    chosen = by_line(listing.rows)
    # " 3776 mysql     20   0 8193.1g 102796  25240 S   0.0   0.4   0:01.09 mariadbd"
    assert chosen[178] == ProcessRow(
        line_number=178,
        pid=3776,
        process_name="mariadbd",
        user="mysql",
        cpu_percent=0.0,
        memory_percent=0.4,
        rss_bytes=102_796 * KIB,
        vsz_bytes=8_797_274_138_214,  # 8193.1 GiB, in KiB * 1024**2: 8 797 274 138 214.4
        memory_usage_bytes=102_796 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=1.09,
        nice=0,
        priority=20,
    )
    # "23928 root      20   0    2920   1764   1652 S   0.0   0.0   0:00.00 my prog (test)"
    assert chosen[192].process_name == "my prog (test)"
    assert chosen[192].command_line is None
    # "23931 root      20   0       0      0      0 Z   0.0   0.0   0:00.00 sleep"
    assert chosen[194].status == ProcessStatus.ZOMBIE
    # " 2944 mosquit+  20   0   15456   5640   4384 S   0.3   0.0   0:04.75 mosquitto"
    assert chosen[110].user == "mosquit+"
    assert chosen[110].truncated_fields == ("user",)
    assert chosen[110].cpu_time_seconds == 4.75


def test_local_mebibyte_columns_gibibyte_summary() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n1-Eg-em.out"), AT)
    assert len(listing.rows) == 91
    assert section(listing, "memory_bytes")["total"] == 25_232_932_864  # 23.5 GiB
    assert section(listing, "memory_bytes")["available"] == 24_588_687_770  # 22.9 GiB
    assert section(listing, "cpu_percent")["id"] == 100.0
    chosen = by_line(listing.rows)
    # " 2939 rabbitmq  20   0 2182.1m 122.0m  61.8m S   0.0   0.5   0:26.96 beam.smp"
    assert chosen[71] == ProcessRow(
        line_number=71,
        pid=2939,
        process_name="beam.smp",
        user="rabbitmq",
        cpu_percent=0.0,
        memory_percent=0.5,
        rss_bytes=122 * MIB,
        vsz_bytes=2_288_097_690,  # 2182.1 MiB = 2 288 097 689.6 bytes
        memory_usage_bytes=122 * MIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=26.96,
        nice=0,
        priority=20,
    )
    # "   15 root      20   0    0.0m   0.0m   0.0m I   0.0   0.0   0:00.97 rcu_preempt"
    assert chosen[21].status == ProcessStatus.IDLE


def test_local_narrow_width_truncates_commands() -> None:
    listing = parse_top_linux(read_fixture("linux-local/top-b-n1-w80.out"), AT)
    assert len(listing.rows) == 91
    chosen = by_line(listing.rows)
    # "23928 root      20   0    2920   1764   1652 S   0.0   0.0   0:00.00 my prog (+"
    assert chosen[93] == ProcessRow(
        line_number=93,
        pid=23928,
        process_name="my prog (+",
        user="root",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=1764 * KIB,
        vsz_bytes=2920 * KIB,
        memory_usage_bytes=1764 * KIB,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        cpu_time_seconds=0.0,
        nice=0,
        priority=20,
        truncated_fields=("process_name",),
    )
    assert chosen[94].truncated_fields == ()


@pytest.mark.parametrize(
    "fixture",
    ["linux-centos-7.7/top-b-n3.out", "linux-local/top-b-n1-Eg-em.out"],
)
def test_detected_by_the_summary_line(fixture: str) -> None:
    raw = read_fixture(fixture)
    listing = parse_listing(raw, os_type="linux", command="top -b", observed_at=AT)
    assert listing == parse_top_linux(raw, AT)


def test_naive_moment_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_top_linux(read_fixture("linux-centos-7.7/top-b-n3.out"), datetime(2026, 1, 1))


def test_damaged_row_names_its_line() -> None:
    raw = read_fixture("linux-centos-7.7/top-b-n3.out").replace(
        "  1896 kbrazil   20   0  115580   2128", "  1896 kbrazil   20   0  115580   21x8"
    )
    with pytest.raises(ParseError, match=r"^line 358: not a row of ") as caught:
        parse_top_linux(raw, AT)
    assert caught.value.line is not None
    assert "21x8" in caught.value.line
