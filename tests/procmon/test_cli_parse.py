"""`procmon parse`, run as a user would run it: its three output formats and its failures."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from parsers import ProcessRow
from procmon.cli_ingest import PARSE_FORMATS, write_rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PS_EF = FIXTURES / "linux-local" / "ps-ef.out"
PS_AUX_HEADER = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n"
NOON = "2026-11-28T12:00:00+00:00"

# Lines 63 and 64 of linux-local/ps-ef.out, as read by hand: a command line with commas and
# braces, and a user that ps cut to eight characters with a `+`.
BEAM = {
    "line_number": 63,
    "pid": 2939,
    "process_name": "beam.smp",
    "ppid": 1,
    "user": "rabbitmq",
    "command_line": "/usr/lib/erlang/erts-13.1.5/bin/beam.smp -W w -MBas ageffcbf -MHas ageffcbf"
    " -MBlmbcs 512 -MHlmbcs 512 -MMmcs 30 -P 1048576 -t 5000000 -stbt db -zdbbl 128000"
    " -sbwt none -sbwtdcpu none -sbwtdio none -B i -- -root /usr/lib/erlang -bindir"
    " /usr/lib/erlang/erts-13.1.5/bin -progname erl -- -home /var/lib/rabbitmq -- -pa "
    " -noshell -noinput -s rabbit boot -boot start_sasl -syslog logger [] -syslog"
    " syslog_error_logger false -kernel prevent_overlapping_partitions false -noshell"
    " -noinput -- -kernel inet_dist_use_interface {127,0,0,1} --",
    "cpu_percent": 0.0,
    "memory_percent": None,
    "rss_bytes": None,
    "vsz_bytes": None,
    "memory_usage_bytes": None,
    "status": None,
    "status_raw": None,
    "start_time": "2026-11-28T11:16:00+00:00",
    "start_time_precision": 60.0,
    "cpu_time_seconds": 28.0,
    "tty": None,
    "threads": None,
    "nice": None,
    "priority": None,
    "truncated_fields": [],
}
MOSQUITTO = {
    **BEAM,
    "line_number": 64,
    "pid": 2944,
    "process_name": "mosquitto",
    "user": "mosquit+",
    "command_line": "mosquitto -d -c /etc/mosquitto/mosquitto.conf",
    "cpu_time_seconds": 5.0,
    "truncated_fields": ["user"],
}


def _parse(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "procmon", "parse", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def _rows_of(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 2
    assert result.stdout == b""
    [line] = result.stderr.decode().splitlines()
    assert line.startswith("procmon: error: ")
    return line


def test_jsonl_is_the_default_with_every_field_of_every_row() -> None:
    rows = _rows_of(_parse(str(PS_EF), "--timestamp", NOON))
    # Every data line of the fixture (91 lines, a header) is a row, in listing order.
    assert [row["line_number"] for row in rows] == list(range(2, 92))
    assert rows[61] == BEAM
    assert rows[62] == MOSQUITTO
    # Objects keep the order of ProcessRow's fields, as json.dumps of the row's dict did.
    assert list(rows[61]) == list(BEAM)
    assert _parse(str(PS_EF), "--timestamp", NOON, "--format", "jsonl").stdout == (
        _parse(str(PS_EF), "--timestamp", NOON).stdout
    )


def test_parse_prints_normalized_rows_as_json_lines() -> None:
    result = _parse(
        str(FIXTURES / "linux-centos-7.7" / "ps-axu.out"),
        "--timestamp",
        "2019-11-01T10:26:00+00:00",
    )
    first = _rows_of(result)[0]
    assert first["pid"] == 1
    assert first["user"] == "root"
    assert first["process_name"] == "systemd"
    assert first["rss_bytes"] == 6676 * 1024
    assert first["vsz_bytes"] == 128068 * 1024
    assert first["status"] == "sleeping"
    assert first["cpu_time_seconds"] == 3.0
    assert first["start_time"] == "2019-10-25T00:00:00+00:00"


def test_json_is_one_array_of_the_jsonl_objects() -> None:
    result = _parse(str(PS_EF), "--timestamp", NOON, "--format", "json")
    assert result.returncode == 0, result.stderr
    # One line, as jc prints it.
    assert result.stdout.count(b"\n") == 1
    assert result.stdout.endswith(b"]\n")
    array = json.loads(result.stdout)
    assert array == _rows_of(_parse(str(PS_EF), "--timestamp", NOON))
    assert array[61] == BEAM


def test_json_from_stdin() -> None:
    result = _parse("-", "--timestamp", NOON, "--format", "json", stdin=PS_EF.read_bytes())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[62] == MOSQUITTO


def test_csv_round_trips_through_dict_reader() -> None:
    result = _parse(str(PS_EF), "--timestamp", NOON, "--format", "csv")
    assert result.returncode == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout.decode()))
    assert reader.fieldnames == list(BEAM)
    rows = list(reader)
    assert len(rows) == 90
    # Commas stay inside their quoted cell; a missing value is empty; times ISO 8601.
    assert rows[61]["command_line"] == BEAM["command_line"]
    assert rows[61]["rss_bytes"] == ""
    assert rows[61]["start_time"] == "2026-11-28T11:16:00+00:00"
    assert rows[61]["start_time_precision"] == "60.0"
    assert rows[61]["cpu_time_seconds"] == "28.0"
    assert rows[61]["truncated_fields"] == ""
    assert rows[62]["user"] == "mosquit+"
    assert rows[62]["truncated_fields"] == "user"


def test_csv_joins_truncated_fields_with_a_bar() -> None:
    row = ProcessRow(
        line_number=2, pid=7, process_name="java", truncated_fields=("user", "command_line")
    )
    out = io.BytesIO()
    write_rows([row], "csv", out)
    [cells] = csv.DictReader(io.StringIO(out.getvalue().decode()))
    assert cells["truncated_fields"] == "user|command_line"
    assert cells["pid"] == "7"
    assert cells["ppid"] == ""


@pytest.mark.parametrize(
    ("start_time", "written"),
    [
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), "2026-11-28T10:00:00+00:00"),
        (
            datetime(2026, 11, 28, 10, 0, 0, 250_000, tzinfo=UTC),
            "2026-11-28T10:00:00.250000+00:00",
        ),
        (
            datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2026-11-28T10:00:00-05:00",
        ),
    ],
)
@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_times_are_written_as_isoformat_writes_them(
    start_time: datetime, written: str, output_format: str
) -> None:
    # Text that looks like the end of a time and the key after it stays as it was.
    lookalike = 'sh -c "echo 10:00:00Z","cpu_time_seconds":1 Z"}'
    row = ProcessRow(
        line_number=2,
        pid=7,
        process_name="sh",
        command_line=lookalike,
        start_time=start_time,
        truncated_fields=('Z","cpu_time_seconds":',),
    )
    out = io.BytesIO()
    write_rows([row, row], output_format, out)
    text = out.getvalue().decode()
    objects = (
        json.loads(text) if output_format == "json" else list(map(json.loads, text.splitlines()))
    )
    assert len(objects) == 2
    assert objects[1]["start_time"] == written
    assert objects[1]["command_line"] == lookalike
    assert objects[1]["truncated_fields"] == ['Z","cpu_time_seconds":']


def test_text_is_written_as_utf8() -> None:
    listing = PS_AUX_HEADER + "renée 1 0.0 0.0 10 10 ? S 10:00 0:00 /usr/bin/café --ümlaut\n"
    result = _parse("-", "--timestamp", NOON, stdin=listing.encode())
    [row] = _rows_of(result)
    assert row["user"] == "renée"
    assert row["command_line"] == "/usr/bin/café --ümlaut"
    assert "café".encode() in result.stdout


def test_a_bad_format_is_one_line() -> None:
    line = _error_line(_parse(str(PS_EF), "--format", "xml"))
    assert line == "procmon: error: unknown --format 'xml': choose jsonl, json, csv"
    assert PARSE_FORMATS == ("jsonl", "json", "csv")


@pytest.mark.parametrize("output_format", ["jsonl", "json", "csv"])
def test_a_listing_that_does_not_parse_is_one_line_with_its_number(output_format: str) -> None:
    listing = PS_AUX_HEADER + "root 1 0.0 0.0 10 10 ? S 10:00 0:00 sh\nroot oops\n"
    line = _error_line(_parse("-", "--format", output_format, stdin=listing.encode()))
    assert line.startswith("procmon: error: stdin: line 3")
    assert "root oops" in line


def test_empty_input_is_one_line() -> None:
    assert _error_line(_parse("-", stdin=b"")) == "procmon: error: stdin: empty listing"


@pytest.mark.parametrize(
    ("output_format", "written"),
    [
        ("jsonl", b""),
        ("json", b"[]\n"),
        ("csv", ",".join(BEAM).encode() + b"\n"),
    ],
)
def test_a_listing_without_processes(output_format: str, written: bytes) -> None:
    result = _parse("-", "--format", output_format, stdin=PS_AUX_HEADER.encode())
    assert result.returncode == 0, result.stderr
    assert result.stdout == written


def test_parse_of_a_missing_or_non_utf8_file_is_one_line(tmp_path: Path) -> None:
    missing = _error_line(_parse(str(tmp_path / "absent.out")))
    assert (
        missing
        == f"procmon: error: cannot read {tmp_path / 'absent.out'}: No such file or directory"
    )
    (tmp_path / "latin1.out").write_bytes("USER PID\nrené 1\n".encode("latin-1"))
    assert "is not UTF-8 text" in _error_line(_parse(str(tmp_path / "latin1.out")))


def test_parse_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    rows = "".join(f"root {pid} 0 0 1 1 ? S 10:00 0:00 sh\n" for pid in range(1, 50_000))
    (tmp_path / "ps.out").write_text(PS_AUX_HEADER + rows)
    # What `procmon parse ps.out | head -n 1` does: the reader goes after one line.
    with subprocess.Popen(
        [sys.executable, "-m", "procmon", "parse", str(tmp_path / "ps.out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as parse:
        assert parse.stdout is not None
        assert parse.stderr is not None
        assert json.loads(parse.stdout.readline())["pid"] == 1
        parse.stdout.close()
        assert parse.wait(timeout=60) == 141
        assert parse.stderr.read() == b""


def test_parse_loads_neither_settings_nor_the_server_side(tmp_path: Path) -> None:
    # The program's start is part of what a user waits for, and it is compared with jc's as a
    # whole process: `parse` of a ps listing imports the parsers of ps and the compiled JSON
    # writer, as the `procmon` command runs it, and not pydantic (settings, envelope), asyncio
    # (the publishing commands), logging, json, pathlib, msgspec (the writer's Python twin) nor
    # the parsers of top or Windows listings.
    script = (
        "import sys\n"
        "from procmon.cli import main\n"
        f"assert main(['parse', {str(PS_EF)!r}]) == 0\n"
        "print(' '.join(sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stderr.decode().split())
    assert {"parsers.bsd_ps", "parsers.ps_ef", "procmon._row_json"} <= loaded
    heavy = {"pydantic", "procmon.settings", "procmon.envelope", "asyncio", "logging", "json"}
    heavy |= {"pathlib", "msgspec", "csv", "parsers.top_linux", "parsers.tasklist"}
    assert not heavy & loaded
