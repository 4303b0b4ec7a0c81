"""``top -b`` tables of other layouts written by hand: unknown numbers, zeros, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parsers.errors import ParseError
from parsers.rows import ProcessRow
from parsers.top_linux import parse_top_linux

AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
KIB = 1024
TOP_LINE = "top - 10:26:31 up 5 days,  3:04,  1 user,  load average: 1.05, 0.70, 12.00"


def _table(header: str, *lines: str) -> list[ProcessRow]:
    return parse_top_linux("\n".join((TOP_LINE, "", header, *lines)), AT).rows


def test_numbers_top_could_not_fit_are_unknown_and_flagged() -> None:
    header = "  PID USER      nTH    VIRT    RES  %CPU COMMAND"
    (row,) = _table(header, "    7 root      10+       ?   1.2g   0.0 java")
    assert (row.threads, row.vsz_bytes, row.rss_bytes) == (None, None, 1_288_490_189)
    assert row.truncated_fields == ("vsz_bytes", "threads")


def test_blank_numbers_are_suppressed_zeros() -> None:
    header = "  PID USER      PR  NI    VIRT    RES S  %CPU  %MEM     TIME+ COMMAND"
    # NI, VIRT, %CPU, %MEM and TIME+ left blank, in their widths.
    line = "    7 root      20" + " " * 12 + "  12345 S" + " " * 22 + " idle one"
    (row,) = _table(header, line)
    assert (row.nice, row.vsz_bytes, row.rss_bytes) == (0, 0, 12345 * KIB)
    assert (row.cpu_percent, row.memory_percent, row.cpu_time_seconds) == (0.0, 0.0, 0.0)
    assert row.process_name == "idle one"


def test_real_user_stands_in_for_the_effective_one() -> None:
    header = "  PID RUSER    COMMAND         TIME"
    (row,) = _table(header, "    9 postgres postgres: wal   1:02")
    assert (row.user, row.process_name, row.cpu_time_seconds) == ("postgres", "postgres: wal", 62.0)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    x root     bash     0:01", r"^line 4: not a row of .*: PID is 'x': "),
        ("    7 root     bash     0:61", r"^line 4: not a row of .*: TIME is '0:61': "),
        ("    7 root" + " " * 14 + "0:01", r"^line 4: not a row of .*: COMMAND is '': "),
    ],
)
def test_a_refusal_names_the_column(line: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        _table("  PID USER     COMMAND  TIME", line)


def test_a_line_shorter_than_the_widest_is_not_taken_for_cut() -> None:
    raw = "\n".join(
        (
            "top - 10:26:31 up 5 days,  3:04,  1 user,  load average: 1.05, 0.70, 1",
            "%Cpu(s):  0.0 us,  0.0 h",
            "",
            "  PID USER     COMMAND",
            "    1 root     init",
        )
    )
    with pytest.raises(ParseError, match=r"^line 2: unknown summary label 'h'"):
        parse_top_linux(raw, AT)
