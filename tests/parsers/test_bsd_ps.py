"""``ps aux`` listings captured on Linux procps and macOS, with rows checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from parsers.bsd_ps import parse_ps_aux
from parsers.rows import ProcessRow, ProcessStatus
from tests.parsers.fixtures import read_fixture

PACIFIC = timezone(timedelta(hours=-7))
# Moments just after each capture: its last rows started a minute earlier, the same day.
CENTOS_AT = datetime(2019, 11, 1, 10, 26, tzinfo=UTC)
UBUNTU_AT = datetime(2019, 10, 28, 19, 44, tzinfo=UTC)
MACOS_AT = datetime(2019, 11, 1, 10, 12, tzinfo=PACIFIC)


def by_line(rows: list[ProcessRow]) -> dict[int, ProcessRow]:
    """The rows keyed by the line they were read from."""
    return {row.line_number: row for row in rows}


def test_centos_7_7() -> None:
    rows = parse_ps_aux(read_fixture("linux-centos-7.7/ps-axu.out"), CENTOS_AT)
    assert len(rows) == 109
    assert [row.line_number for row in rows] == list(range(2, 111))
    chosen = by_line(rows)
    assert chosen[2] == ProcessRow(
        line_number=2,
        pid=1,
        process_name="systemd",
        user="root",
        command_line="/usr/lib/systemd/systemd --switched-root --system --deserialize 22",
        cpu_percent=0.0,
        memory_percent=0.1,
        rss_bytes=6676 * 1024,
        vsz_bytes=128068 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Ss",
        start_time=datetime(2019, 10, 25, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=3.0,
        tty=None,
    )
    assert chosen[4] == ProcessRow(
        line_number=4,
        pid=4,
        process_name="kworker/0:0H",
        user="root",
        command_line="[kworker/0:0H]",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=0,
        vsz_bytes=0,
        status=ProcessStatus.SLEEPING,
        status_raw="S<",
        start_time=datetime(2019, 10, 25, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=0.0,
        tty=None,
    )
    assert chosen[87] == ProcessRow(
        line_number=87,
        pid=823,
        process_name="python2",
        user="root",
        command_line="/usr/bin/python2 -Es /usr/sbin/firewalld --nofork --nopid",
        cpu_percent=0.0,
        memory_percent=0.7,
        rss_bytes=29528 * 1024,
        vsz_bytes=358752 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Ssl",
        start_time=datetime(2019, 10, 25, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=0.0,
        tty=None,
    )
    assert chosen[101] == ProcessRow(
        line_number=101,
        pid=4319,
        process_name="-bash",
        user="kbrazil",
        command_line="-bash",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=2204 * 1024,
        vsz_bytes=115580 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Ss",
        start_time=datetime(2019, 11, 1, 9, 53, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=0.0,
        tty="pts/0",
    )
    assert chosen[110] == ProcessRow(
        line_number=110,
        pid=4801,
        process_name="ps",
        user="kbrazil",
        command_line="ps axu",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=1864 * 1024,
        vsz_bytes=155372 * 1024,
        status=ProcessStatus.RUNNING,
        status_raw="R+",
        start_time=datetime(2019, 11, 1, 10, 25, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=0.0,
        tty="pts/0",
    )


def test_ubuntu_18_04() -> None:
    rows = parse_ps_aux(read_fixture("linux-ubuntu-18.04/ps-axu.out"), UBUNTU_AT)
    assert len(rows) == 172
    chosen = by_line(rows)
    assert chosen[2] == ProcessRow(
        line_number=2,
        pid=1,
        process_name="init",
        user="root",
        command_line="/sbin/init auto automatic-ubiquity noprompt",
        cpu_percent=0.0,
        memory_percent=0.4,
        rss_bytes=9236 * 1024,
        vsz_bytes=78148 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Ss",
        start_time=datetime(2019, 10, 26, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=10.0,
        tty=None,
    )
    assert chosen[7].process_name == "rcu_sched"
    assert chosen[7].status == ProcessStatus.IDLE
    assert chosen[7].cpu_time_seconds == 38.0
    # procps truncates long user names with "+": kept as printed.
    assert chosen[128].user == "systemd+"
    assert chosen[147] == ProcessRow(
        line_number=147,
        pid=1153,
        process_name="agetty",
        user="root",
        command_line=r"/sbin/agetty -o -p -- \u --noclear tty1 linux",
        cpu_percent=0.0,
        memory_percent=0.0,
        rss_bytes=1908 * 1024,
        vsz_bytes=14888 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Ss+",
        start_time=datetime(2019, 10, 26, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=0.0,
        tty="tty1",
    )
    assert chosen[163] == ProcessRow(
        line_number=163,
        pid=19890,
        process_name="kworker/0:2",
        user="root",
        command_line="[kworker/0:2]",
        cpu_percent=0.2,
        memory_percent=0.0,
        rss_bytes=0,
        vsz_bytes=0,
        status=ProcessStatus.IDLE,
        status_raw="I",
        start_time=datetime(2019, 10, 27, tzinfo=UTC),
        start_time_precision=86400.0,
        cpu_time_seconds=191.0,
        tty=None,
    )
    assert chosen[173] == ProcessRow(
        line_number=173,
        pid=23933,
        process_name="ps",
        user="kbrazil",
        command_line="ps axu",
        cpu_percent=0.0,
        memory_percent=0.1,
        rss_bytes=3732 * 1024,
        vsz_bytes=38372 * 1024,
        status=ProcessStatus.RUNNING,
        status_raw="R+",
        start_time=datetime(2019, 10, 28, 19, 43, tzinfo=UTC),
        start_time_precision=60.0,
        cpu_time_seconds=0.0,
        tty="pts/0",
    )


def test_macos_10_11_6() -> None:
    rows = parse_ps_aux(read_fixture("macos-10.11.6/ps-axu.out"), MACOS_AT)
    assert len(rows) == 210
    chosen = by_line(rows)
    assert chosen[2] == ProcessRow(
        line_number=2,
        pid=568,
        process_name="codesign",
        user="kelly",
        command_line="/usr/bin/codesign --verify --deep /Applications/Microsoft PowerPoint.app",
        cpu_percent=47.8,
        memory_percent=1.0,
        rss_bytes=43136 * 1024,
        vsz_bytes=2534864 * 1024,
        status=ProcessStatus.DISK_SLEEP,
        status_raw="U",
        start_time=datetime(2019, 11, 1, 10, 11, tzinfo=PACIFIC),
        start_time_precision=60.0,
        cpu_time_seconds=10.58,
        tty=None,
    )
    assert chosen[3].status == ProcessStatus.RUNNING
    assert chosen[3].status_raw == "RN"
    # The path has spaces: only its part before the first one can be told apart.
    assert chosen[35] == ProcessRow(
        line_number=35,
        pid=419,
        process_name="Backup",
        user="kelly",
        command_line="/Applications/Backup and Sync.app/Contents/MacOS/Backup and Sync",
        cpu_percent=0.0,
        memory_percent=4.1,
        rss_bytes=170620 * 1024,
        vsz_bytes=2859668 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        start_time=datetime(2019, 11, 1, 10, 6, tzinfo=PACIFIC),
        start_time_precision=60.0,
        cpu_time_seconds=10.32,
        tty=None,
    )
    assert chosen[47].cpu_time_seconds == 73.66
    assert chosen[49].tty == "s001"
    assert chosen[211] == ProcessRow(
        line_number=211,
        pid=484,
        process_name="pbs",
        user="kelly",
        command_line="/System/Library/CoreServices/pbs",
        cpu_percent=0.0,
        memory_percent=0.1,
        rss_bytes=5236 * 1024,
        vsz_bytes=2503160 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        start_time=datetime(2019, 11, 1, 10, 7, tzinfo=PACIFIC),
        start_time_precision=60.0,
        cpu_time_seconds=0.05,
        tty=None,
    )
