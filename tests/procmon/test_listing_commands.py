"""Each OS's default listing command, and the commands an operator's setting names."""

from __future__ import annotations

import getpass
import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from parsers import ProcessRow, parse_listing
from procmon.collector import MachineIdentity, collect_listing
from procmon.errors import ConfigurationError
from procmon.listing_commands import DEFAULT_COMMANDS, listing_commands
from procmon.os_types import OS_TYPES
from procmon.settings import Settings
from tests.parsers.fixtures import read_fixture

LINUX = MachineIdentity("m", "m", "linux", "6")


def _settings(commands: str | None) -> Settings:
    return Settings(collect_commands=commands)


def test_every_os_has_a_default_and_it_is_one_the_parsers_read() -> None:
    assert set(DEFAULT_COMMANDS) == set(OS_TYPES)
    for os_type, command in DEFAULT_COMMANDS.items():
        assert listing_commands(_settings(None), os_type) == (tuple(shlex.split(command)),)
        # The default, written in the setting, passes the same check as any other command.
        assert listing_commands(_settings(command), os_type) == (tuple(shlex.split(command)),)


def test_several_commands_per_tick_are_separated_by_semicolons() -> None:
    commands = listing_commands(_settings(" ps axu ; top -b -n 1 ;"), "linux")
    assert commands == (("ps", "axu"), ("top", "-b", "-n", "1"))


@pytest.mark.parametrize(
    ("written", "os_type", "named"),
    [
        ("htop", "linux", "'htop'"),
        ("ps axu; pstree -p", "linux", "'pstree -p'"),
        # A command of another OS: tasklist is read on Windows only.
        ("tasklist /v /fo csv", "linux", "'tasklist /v /fo csv'"),
        ("powershell -Command Get-Service", "windows", "Get-Service"),
        (" ; ", "linux", "names no command"),
        ("ps -eo 'pid,args", "linux", "No closing quotation"),
    ],
)
def test_a_command_the_parsers_do_not_read_is_refused_at_start(
    written: str, os_type: str, named: str
) -> None:
    with pytest.raises(ConfigurationError, match="PROCMON_COLLECT_COMMANDS") as caught:
        listing_commands(_settings(written), os_type)
    assert named in str(caught.value)


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCMON_COLLECT_COMMANDS", "top -b -n 1")
    assert listing_commands(Settings(), "linux") == (("top", "-b", "-n", "1"),)


@pytest.mark.skipif(sys.platform != "linux", reason="runs Linux procps ps")
def test_the_linux_default_run_here_gives_exact_starts_and_whole_command_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An LC_ALL would override the C time locale the collector asks for: it is dropped (this
    # one names no installed locale, which would turn every letter outside ASCII into "?"),
    # and the command's width is unlimited whatever COLUMNS says.
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("COLUMNS", "40")
    title = "procmon-test ünïcode title " + "x" * 300
    named = subprocess.Popen([title, "60"], executable="sleep")
    try:
        envelope = collect_listing(LINUX, datetime.now(UTC))
        listing = parse_listing(
            envelope.raw_output,
            os_type="linux",
            command=envelope.command_type,
            observed_at=envelope.timestamp,
        )
        created = {pid: psutil.Process(pid).create_time() for pid in (os.getpid(), named.pid, 1)}
        sleeping = psutil.Process(named.pid).memory_info()
    finally:
        named.kill()
        named.wait()
    assert envelope.command_type == DEFAULT_COMMANDS["linux"]
    rows = {row.pid: row for row in listing.rows}
    me = psutil.Process()
    mine = rows[me.pid]
    assert mine.command_line == " ".join(me.cmdline())
    assert mine.user == getpass.getuser()
    assert mine.ppid == os.getppid()
    assert mine.cpu_time_seconds is not None
    asleep = rows[named.pid]
    assert asleep.command_line == f"{title} 60"
    assert asleep.truncated_fields == ()
    assert (asleep.ppid, asleep.user, asleep.threads) == (me.pid, mine.user, 1)
    assert (asleep.rss_bytes, asleep.vsz_bytes) == (sleeping.rss, sleeping.vms)
    assert asleep.status == "sleeping"
    for pid, when in created.items():
        _assert_started_to_the_second(rows[pid], when)
    assert {row.start_time_precision for row in listing.rows} == {1.0}


def _assert_started_to_the_second(row: ProcessRow, created: float) -> None:
    assert row.start_time is not None
    # lstart prints whole seconds, cut down from the kernel's start in clock ticks.
    offset = datetime.fromtimestamp(created, UTC) - row.start_time
    assert timedelta(0) <= offset < timedelta(seconds=1), (row, created)


def test_the_macos_and_bsd_default_is_the_command_of_a_real_macos_listing() -> None:
    # macos-10.11.6/ps-axu.out is `ps axu` as macOS printed it (jc's fixture, SOURCES.md).
    raw = read_fixture("macos-10.11.6/ps-axu.out")
    now = datetime(2021, 6, 1, tzinfo=UTC)
    for os_type in ("macos", "freebsd", "openbsd", "netbsd"):
        assert DEFAULT_COMMANDS[os_type] == "ps axu"
    rows = parse_listing(raw, os_type="macos", command="ps axu", observed_at=now).rows
    launchd = next(row for row in rows if row.pid == 1)
    assert launchd.command_line == "/sbin/launchd"
    assert launchd.user == "root"
    assert launchd.start_time is not None
    assert launchd.cpu_time_seconds is not None
    assert all(row.rss_bytes is not None and row.vsz_bytes is not None for row in rows)


def test_the_windows_default_is_the_command_of_a_real_windows_listing() -> None:
    # Get-WmiObject -Class Win32_Process as Windows Server 2012 R2 printed it (SOURCES.md).
    # Without the shell's prompt the capture ends with (the collector's output has none).
    raw = read_fixture("windows/ws2012r2-Get-WmiObject-Win32_Process-list.out")
    raw = raw[: raw.rindex("PS C:\\Users\\Administrator>")]
    assert DEFAULT_COMMANDS["windows"].endswith(" -Command Get-WmiObject -Class Win32_Process")
    now = datetime(2021, 6, 1, tzinfo=UTC)
    rows = parse_listing(
        raw, os_type="windows", command=DEFAULT_COMMANDS["windows"], observed_at=now
    ).rows
    started = [row for row in rows if row.start_time is not None]
    # Every process but the System Idle Process has a CreationDate.
    assert len(started) == len(rows) - 1
    assert {row.start_time_precision for row in started} == {1e-6}
    assert all(row.cpu_time_seconds is not None for row in rows)
    assert all(row.ppid is not None for row in rows)
    assert any(row.command_line for row in rows)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("htop", "'htop' is no listing the parsers read on linux"),
        # Documented, but what it prints has no command or name column.
        ("ps -eo pid,rss", "the workers cannot read what 'ps -eo pid,rss' printed"),
    ],
)
@pytest.mark.parametrize("interval", [[], ["--interval", "1"]], ids=["once", "agent"])
def test_collect_refuses_such_a_command_in_one_line_before_publishing(
    written: str, said: str, interval: list[str], tmp_path: Path
) -> None:
    # No broker answers at this address: the refusal comes before any publishing.
    environment = {
        "PATH": os.defpath,
        "PROCMON_COLLECT_COMMANDS": written,
        "PROCMON_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "PROCMON_SPOOL_DIR": str(tmp_path / "spool"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "procmon", "collect", *interval],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    # The agent may have logged its schedule first; the refusal is one line, the last.
    *logged, error = result.stderr.splitlines()
    assert error.startswith("procmon: error: PROCMON_COLLECT_COMMANDS: ")
    assert said in error
    assert all('"logger": "procmon.agent"' in line for line in logged)
    assert not logged or interval
    assert "127.0.0.1:1" not in result.stderr
    # Nothing was kept to be sent later either.
    assert not list((tmp_path / "spool").glob("*"))
