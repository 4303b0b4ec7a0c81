"""deploy/: the collector as a service on Linux (systemd), macOS (launchd) and Windows."""

from __future__ import annotations

import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from parsers import parse_listing
from procmon.cli import _parser
from procmon.cli_ingest import cmd_collect
from procmon.collector import MachineIdentity, collect_listing
from procmon.envelope import Envelope
from procmon.listing_commands import default_argv
from procmon.settings import ENV_PREFIX, Settings

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"
UNIT = DEPLOY / "systemd" / "procmon-collector.service"
PLIST = DEPLOY / "launchd" / "org.procmon.collector.plist"
TASK = DEPLOY / "windows" / "procmon-collector.xml"
TASK_NAMESPACE = {"task": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def _directives(unit: Path) -> dict[str, list[str]]:
    """Each directive of a unit file with its values in order (a key may repeat)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def _assert_runs_the_collector(program: str, arguments: Sequence[str]) -> None:
    """``program arguments`` is procmon's own command line for a collector every minute."""
    assert Path(program.replace("\\", "/")).stem == "procmon"
    args = _parser().parse_args(list(arguments))
    assert args.handler is cmd_collect
    assert args.interval == 60


def test_the_unit_runs_the_collector_as_its_own_user_restarting_on_failure() -> None:
    directives = _directives(UNIT)
    [exec_start] = directives["ExecStart"]
    program, *arguments = shlex.split(exec_start)
    _assert_runs_the_collector(program, arguments)
    assert directives["DynamicUser"] == ["yes"]
    assert directives["Restart"] == ["on-failure"]
    assert directives["StateDirectory"] == ["procmon"]
    assert "PROCMON_SPOOL_DIR=/var/lib/procmon/spool" in directives["Environment"]
    assert directives["EnvironmentFile"] == ["-/etc/procmon/collector.env"]
    for option in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert directives[option] == ["yes"], option
    assert directives["ProtectSystem"] == ["strict"]
    # What would hide other processes from ps, or show their users as nobody.
    assert directives["ProtectProc"] == ["default"]
    assert directives["ProcSubset"] == ["all"]
    assert "PrivateUsers" not in directives


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_finds_nothing_wrong_with_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: this checkout's procmon stands in for
    # the one pipx installs in /usr/local/bin.
    procmon = Path(sys.executable).parent / "procmon"
    unit = tmp_path / UNIT.name
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace("/usr/local/bin/procmon", str(procmon)),
        encoding="utf-8",
    )
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    # verify exits 0 even for a value it ignores; it says so on stderr.
    assert (verified.returncode, verified.stderr) == (0, "")


@pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("setpriv") is None or os.geteuid() != 0,
    reason="runs ps as nobody with setpriv, which takes root",
)
def test_an_unprivileged_user_without_new_privileges_sees_every_process() -> None:
    # The unit's user has no privileges: the default listing, taken as nobody with
    # no_new_privs, must show every process root sees, with its user and command line.
    identity = MachineIdentity("m", "m", "linux", "6")
    as_nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs")
    before = _processes(collect_listing(identity, datetime.now(UTC)))
    seen = _processes(
        collect_listing(identity, datetime.now(UTC), argv=(*as_nobody, *default_argv("linux")))
    )
    after = _processes(collect_listing(identity, datetime.now(UTC)))
    # Those root saw the same in both of its listings lived throughout the unprivileged one
    # as they were (a process may retitle itself in between).
    throughout = {pid for pid in before.keys() & after.keys() if before[pid] == after[pid]}
    assert len(throughout) > 10
    assert {pid: seen.get(pid) for pid in throughout} == {pid: before[pid] for pid in throughout}


def _processes(envelope: Envelope) -> dict[int, tuple[str | None, str | None]]:
    """Each process of a listing: its user and command line, by pid."""
    listing = parse_listing(
        envelope.raw_output,
        os_type=envelope.os_type,
        command=envelope.command_type,
        observed_at=envelope.timestamp,
    )
    return {row.pid: (row.user, _without_workqueue(row.command_line)) for row in listing.rows}


def _without_workqueue(command_line: str | None) -> str | None:
    """A kernel worker's name without the workqueue it runs now, which it names itself after
    from one moment to the next (``[kworker/1:2-events]``, then ``[kworker/1:2-mm_percpu_wq]``)."""
    if command_line is None or not command_line.startswith("[kworker/"):
        return command_line
    return command_line.split("-", 1)[0] + "]"


def test_the_launchd_plist_keeps_the_collector_alive_with_a_log_and_its_settings() -> None:
    with PLIST.open("rb") as handle:
        plist = plistlib.load(handle)
    program, *arguments = plist["ProgramArguments"]
    _assert_runs_the_collector(program, arguments)
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["RunAtLoad"] is True
    assert plist["StandardErrorPath"].startswith("/Library/Logs/procmon/")
    assert "PROCMON_KAFKA_BOOTSTRAP" in plist["EnvironmentVariables"]
    assert "PROCMON_SPOOL_DIR" in plist["EnvironmentVariables"]


def test_the_windows_task_runs_the_collector_at_boot_and_again_after_a_failure() -> None:
    # Our own file, not untrusted data.
    task = ElementTree.parse(TASK).getroot()  # noqa: S314
    command = task.findtext("task:Actions/task:Exec/task:Command", namespaces=TASK_NAMESPACE)
    arguments = task.findtext("task:Actions/task:Exec/task:Arguments", namespaces=TASK_NAMESPACE)
    assert command is not None
    assert arguments is not None
    _assert_runs_the_collector(command, arguments.split())
    assert task.find("task:Triggers/task:BootTrigger", TASK_NAMESPACE) is not None
    settings = task.find("task:Settings", TASK_NAMESPACE)
    assert settings is not None
    assert settings.findtext("task:ExecutionTimeLimit", namespaces=TASK_NAMESPACE) == "PT0S"
    assert settings.find("task:RestartOnFailure", TASK_NAMESPACE) is not None
    # SYSTEM: Win32_Process shows other users' command lines to administrators alone.
    principal = "task:Principals/task:Principal/task:UserId"
    assert task.findtext(principal, namespaces=TASK_NAMESPACE) == "S-1-5-18"


def test_every_variable_the_service_files_set_is_a_setting() -> None:
    named = {
        name
        for path in DEPLOY.rglob("*")
        if path.is_file()
        for name in re.findall(r"\bPROCMON_[A-Z_]+\b", path.read_text(encoding="utf-8"))
    }
    settings = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields}
    assert named, "the service files set no PROCMON_ variable"
    assert named <= settings, f"not settings: {sorted(named - settings)}"
