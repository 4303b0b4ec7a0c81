"""``ps -o`` lists of every kind of column, and procps' ready-made formats, captured here.

Expectations are written by hand from the fixture lines quoted beside them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parsers import parse_listing
from parsers.rows import ProcessRow, ProcessStatus
from tests.parsers.fixtures import read_fixture

# tests/fixtures/SOURCES.md: captured at 2026-12-02 01:03:16 UTC, with TZ=UTC.
AT = datetime(2026, 12, 2, 1, 3, 16, tzinfo=UTC)
IGNORED = "linux-local/ps-o-eo-pgid-sid-psr-cls-tid-sz-cgroup-wchan-f-label-lstart.out"
THREADS = "linux-local/ps-o-eLo-threads.out"
FORMS = "linux-local/ps-o-eo-start-forms-users-sizes-ucmd-cmd.out"


def rows_of(fixture: str) -> dict[int, ProcessRow]:
    """The rows of a fixture, by line number; the listing must be read as ps -o."""
    listing = parse_listing(read_fixture(fixture), os_type="linux", command="ps", observed_at=AT)
    assert listing.format == "ps -o"
    return {row.line_number: row for row in listing.rows}


def test_columns_no_field_takes_are_kept_out_of_the_rows() -> None:
    rows = rows_of(IGNORED)
    assert len(rows) == 97
    # " 2216  2215  2216  2216   1  TS  2216 54677 4:memory:/process_api/8e50c do_epo 1 -
    #  Tue Dec  1 23:55:54 2026 Ss     0  19 147500 218708 00:00:03 ?       postgres postgres
    #  postgres: 15/main: checkpointer " (RSS overflows its column, TT gives the room back)
    assert rows[60] == ProcessRow(
        line_number=60,
        pid=2216,
        process_name="postgres",
        ppid=2215,
        user="postgres",
        command_line="postgres: 15/main: checkpointer",
        rss_bytes=147500 * 1024,
        vsz_bytes=218708 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="Ss",
        start_time=datetime(2026, 12, 1, 23, 55, 54, tzinfo=UTC),
        start_time_precision=1.0,
        cpu_time_seconds=3.0,
        nice=0,
        priority=19,
    )
    # "  900   896   896   896   0  TS   900     0 -  -  0 -  Wed Dec  2 00:51:26 2026 Z
    #  0  19     0      0 00:00:00 ?        root     sleep           [sleep] <defunct>"
    assert rows[57] == ProcessRow(
        line_number=57,
        pid=900,
        process_name="sleep",
        ppid=896,
        user="root",
        command_line="[sleep] <defunct>",
        rss_bytes=0,
        vsz_bytes=0,
        status=ProcessStatus.ZOMBIE,
        status_raw="Z",
        start_time=datetime(2026, 12, 2, 0, 51, 26, tzinfo=UTC),
        start_time_precision=1.0,
        cpu_time_seconds=0.0,
        nice=0,
        priority=19,
    )
    # "  977 ... Wed Dec  2 00:51:32 2026 SNs    5  14  1516   2500 00:00:00 ?  mosquit+ sleep
    #  sleep 7201"
    assert (rows[58].nice, rows[58].priority, rows[58].status_raw) == (5, 14, "SNs")
    assert (rows[58].user, rows[58].truncated_fields) == ("mosquit+", ("user",))
    assert rows[58].start_time == datetime(2026, 12, 2, 0, 51, 32, tzinfo=UTC)


def test_a_thread_listing_gives_a_row_per_thread() -> None:
    rows = rows_of(THREADS)
    assert len(rows) == 153
    # " 3801  3801  3801  3801    9   0  TS      - Sl     0:01    4013 mariadbd  /usr/sbin/mariadbd"
    # " 3801  3806  3806  3806    9   1  TS      - Sl     0:01    4013 mariadbd  ..."
    # " 3801  3807  3807  3807    9   0  TS      - Sl     0:00    4013 mariadbd  ..."
    started = AT - timedelta(seconds=4013)
    mariadb = [rows[117], rows[118], rows[119]]
    assert [row.cpu_time_seconds for row in mariadb] == [1.0, 1.0, 0.0]
    for number, row in zip((117, 118, 119), mariadb, strict=True):
        assert row == ProcessRow(
            line_number=number,
            pid=3801,
            process_name="mariadbd",
            command_line="/usr/sbin/mariadbd",
            status=ProcessStatus.SLEEPING,
            status_raw="Sl",
            start_time=started,
            start_time_precision=1.0,
            cpu_time_seconds=row.cpu_time_seconds,
            threads=9,
        )
    # "  900   900   900   900    1   0  TS      - Z      0:00     709 sleep   [sleep] <defunct>"
    assert (rows[69].pid, rows[69].status, rows[69].threads) == (900, ProcessStatus.ZOMBIE, 1)
    assert rows[69].start_time == datetime(2026, 12, 2, 0, 51, 27, tzinfo=UTC)


def test_every_form_of_start_time_user_and_size() -> None:
    rows = rows_of(FORMS)
    assert len(rows) == 97
    # " 2235 23:55:56  23:55 Dec01 Dec01    01:07:19    4039       10 00:00:10 ?  root  root
    #  0     0     5  7500  7500  63384  0.2  0.0 S S redis-server    redis-server 127.0.0.1:6379"
    # STARTED (start) beats the other starts; the first TIME (cputimes, seconds) is read.
    assert rows[64] == ProcessRow(
        line_number=64,
        pid=2235,
        process_name="redis-server",
        user="root",
        command_line="redis-server 127.0.0.1:6379",
        cpu_percent=0.2,
        memory_percent=0.0,
        rss_bytes=7500 * 1024,
        vsz_bytes=63384 * 1024,
        status=ProcessStatus.SLEEPING,
        status_raw="S",
        start_time=datetime(2026, 12, 1, 23, 55, 56, tzinfo=UTC),
        start_time_precision=1.0,
        cpu_time_seconds=10.0,
        threads=5,
    )
    # "  977 00:51:32 ... mosquit+ mosquit+   105   105     1  1516  1516   2500 ... sleep
    #  sleep 7201"
    # EUSER (the effective user's name) beats the numeric UID and EUID, and RUSER.
    assert (rows[58].user, rows[58].truncated_fields) == ("mosquit+", ("user",))
    assert (rows[58].process_name, rows[58].command_line) == ("sleep", "sleep 7201")


@pytest.mark.parametrize(
    ("fixture", "line_number", "expected"),
    [
        # "0 Z root       900   896  0  80   0 -     0 -      00:51 ?   00:00:00 [sleep] <defunct>"
        (
            "linux-local/ps-o-elf.out",
            57,
            {
                "pid": 900,
                "ppid": 896,
                "user": "root",
                "cpu_percent": 0.0,
                "priority": 80,
                "nice": 0,
                "status_raw": "Z",
                "start_time": datetime(2026, 12, 2, 0, 51, tzinfo=UTC),
                "start_time_precision": 60.0,
                "cpu_time_seconds": 0.0,
                "process_name": "sleep",
                "command_line": "[sleep] <defunct>",
            },
        ),
        # "1   101  2216  2215  20   0 218708 147500 do_epo Ss  ?          0:03 postgres: ..."
        (
            "linux-local/ps-o-axl.out",
            60,
            {
                "pid": 2216,
                "ppid": 2215,
                "user": "101",
                "priority": 20,
                "nice": 0,
                "vsz_bytes": 218708 * 1024,
                "rss_bytes": 147500 * 1024,
                "status_raw": "Ss",
                "cpu_time_seconds": 3.0,
                "command_line": "postgres: 15/main: checkpointer",
            },
        ),
        # " 2215  2216  2216  2216 ?           -1 Ss     101   0:03 postgres: 15/main: ..."
        (
            "linux-local/ps-o-axj.out",
            60,
            {"pid": 2216, "ppid": 2215, "user": "101", "tty": None, "status_raw": "Ss"},
        ),
        # "postgres  2216  2215  0 54677 147500  1 Dec01 ?        00:00:03 postgres: ..."
        (
            "linux-local/ps-o-eF.out",
            60,
            {
                "pid": 2216,
                "user": "postgres",
                "rss_bytes": 147500 * 1024,
                "start_time": datetime(2026, 12, 1, tzinfo=UTC),
                "start_time_precision": 86400.0,
            },
        ),
    ],
)
def test_procps_ready_made_formats(
    fixture: str, line_number: int, expected: dict[str, object]
) -> None:
    rows = rows_of(fixture)
    assert len(rows) == 97
    row = rows[line_number]
    assert {name: getattr(row, name) for name in expected} == expected


# tests/fixtures/SOURCES.md: ps run under faketime at 2026-12-09 12:00:00 UTC, a week after
# the processes started: procps start and bsdstart print their day, with a space.
WEEK_LATER = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


def test_start_and_bsdstart_of_older_processes() -> None:
    started = parse_listing(
        read_fixture("linux-local/ps-o-eo-start-stime-comm-args-faketime-week-later.out"),
        os_type="linux",
        command="ps -eo",
        observed_at=WEEK_LATER,
    ).rows
    assert len(started) == 86
    by_line = {row.line_number: row for row in started}
    # "    2   Dec 01 Dec01 kthreadd        [kthreadd]"
    assert by_line[2] == ProcessRow(
        line_number=2,
        pid=2,
        process_name="kthreadd",
        command_line="[kthreadd]",
        start_time=datetime(2026, 12, 1, tzinfo=UTC),
        start_time_precision=86400.0,
    )
    # " 2235   Dec 01 Dec01 redis-server    redis-server 127.0.0.1:6379"
    assert by_line[63] == ProcessRow(
        line_number=63,
        pid=2235,
        process_name="redis-server",
        command_line="redis-server 127.0.0.1:6379",
        start_time=datetime(2026, 12, 1, tzinfo=UTC),
        start_time_precision=86400.0,
    )
    # "  896   Dec 02 Dec02 my prog (test)  /tmp/top18/my prog (test) 7200": comm with blanks
    assert by_line[54].process_name == "my prog (test)"
    assert str(by_line[54].command_line).endswith("/my prog (test) 7200")
    assert by_line[54].start_time == datetime(2026, 12, 2, tzinfo=UTC)
    bsd = parse_listing(
        read_fixture("linux-local/ps-o-eo-bsdstart-user-args-faketime-week-later.out"),
        os_type="linux",
        command="ps -eo",
        observed_at=WEEK_LATER,
    ).rows
    assert len(bsd) == 86
    by_line = {row.line_number: row for row in bsd}
    # "    2 Dec  1 root     [kthreadd]"
    assert (by_line[2].start_time, by_line[2].user) == (datetime(2026, 12, 1, tzinfo=UTC), "root")
    assert by_line[2].start_time_precision == 86400.0
    # "  977 Dec  2 mosquit+ sleep 7201"
    assert by_line[57] == ProcessRow(
        line_number=57,
        pid=977,
        process_name="sleep",
        user="mosquit+",
        command_line="sleep 7201",
        start_time=datetime(2026, 12, 2, tzinfo=UTC),
        start_time_precision=86400.0,
        truncated_fields=("user",),
    )
