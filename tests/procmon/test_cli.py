"""The `procmon` command line, run as a user would run it."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import uvicorn

from graphql_api.app import app_from_environment, listening_socket
from procmon.devstack import free_port


def _procmon(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "procmon", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def _submit(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    flags = ("--machine-id", "m", "--os", "linux", "--command", "ps aux")
    return _procmon("submit", str(path), *flags, *extra)


def test_submit_refuses_a_timestamp_without_offset(tmp_path: Path) -> None:
    path = tmp_path / "ps.out"
    path.write_text("x\n")
    result = _submit(path, "--timestamp", "2026-11-28T12:00:00")
    assert result.returncode == 2
    assert "has no UTC offset" in result.stderr


def test_submit_of_a_missing_file_says_so_without_a_traceback(tmp_path: Path) -> None:
    result = _submit(tmp_path / "absent.out")
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text", ["", "\n \t\n"])
def test_submit_refuses_an_empty_file_in_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "ps.out"
    path.write_text(text)
    # Nothing answers on the default broker address: the file is refused before any publishing.
    result = _submit(path, "--timestamp", "2026-11-28T12:00:00+00:00")
    assert result.returncode == 2
    assert result.stderr == f"procmon: error: {path} is empty: there is no listing in it to send\n"


def test_submit_refuses_a_time_the_workers_would_refuse_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ps.out"
    path.write_text("USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n")
    result = _submit(path, "--timestamp", "1989-12-31T23:59:59+00:00")
    assert result.returncode == 2
    assert result.stderr == (
        "procmon: error: timestamp 1989-12-31T23:59:59+00:00 is before 1990-01-01T00:00:00+00:00,"
        " the earliest accepted (PROCMON_EARLIEST_TIMESTAMP)\n"
    )


def test_bad_setting_is_reported_by_name() -> None:
    result = _procmon("settings", env={"PROCMON_BATCH_SIZE": "many", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "PROCMON_BATCH_SIZE" in result.stderr


@pytest.mark.parametrize(
    ("args", "labels", "expected"),
    [
        (
            ("--label", "role"),
            "",
            "procmon collect: error: argument --label: label 'role' is not name=value",
        ),
        (
            ("--label", "9=x"),
            "",
            "procmon collect: error: argument --label: label name '9' is not 1 to 63",
        ),
        ((), "role=web,role=db", "procmon: error: invalid settings: PROCMON_LABELS: Value error"),
        (
            ("--label", "one_more=x"),
            ",".join(f"l{n}=v" for n in range(32)),
            "procmon: error: PROCMON_LABELS with --label: 33 labels, more than the 32",
        ),
    ],
)
def test_bad_labels_of_collect_are_one_line_before_anything_runs(
    args: tuple[str, ...], labels: str, expected: str
) -> None:
    # An unreachable broker: a label that were taken would show as a Kafka error instead.
    env = {"PATH": "/usr/bin:/bin", "PROCMON_LABELS": labels}
    result = _procmon("collect", *args, env=env | {"PROCMON_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(expected)


def test_settings_print_lines_that_read_back_as_the_same_settings() -> None:
    env = {"PATH": "/usr/bin:/bin", "PROCMON_BATCH_SIZE": "7", "PROCMON_KAFKA_IDEMPOTENCE": "false"}
    printed = _procmon("settings", env=env, check=True).stdout.splitlines()
    assert "PROCMON_BATCH_SIZE=7" in printed
    assert "PROCMON_KAFKA_IDEMPOTENCE=false" in printed
    assert "# PROCMON_OBJECT_STORE_URL is unset" in printed
    given = dict(line.split("=", 1) for line in printed if not line.startswith("#"))
    again = _procmon(
        "settings", env={"PATH": "/usr/bin:/bin", **given}, check=True
    ).stdout.splitlines()
    assert again == printed


def _healthz_over_new_connection(port: int) -> socket.socket:
    """A connection to the API that has had a 200 from /healthz, left open."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")
    return connection


def _answering_pid(api: psutil.Process, port: int, client_port: int) -> int:
    """The API process that holds the server end of the connection from ``client_port``."""
    for process in api.children(recursive=True):
        for held in process.net_connections(kind="tcp"):
            if held.laddr.port == port and held.raddr and held.raddr.port == client_port:
                return process.pid
    raise AssertionError(f"no API process holds the connection from port {client_port}")


@pytest.mark.timeout(120)
def test_api_workers_answer_from_two_processes_and_stop_on_sigterm(
    database_url: str, redis_prefix: str
) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "PROCMON_DATABASE_URL": database_url,
        "PROCMON_REDIS_PREFIX": redis_prefix,
        "PROCMON_API_PORT": str(port),
        "PROCMON_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "procmon", "api", "--workers", "2"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = psutil.Process(server.pid)
    connections: list[socket.socket] = []
    pids: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        # The kernel hands each connection to whichever worker accepts first: ask until both
        # have answered (each of them sees every new connection, so this takes a few).
        while len(pids) < 2 and time.monotonic() < deadline:
            try:
                connection = _healthz_over_new_connection(port)
            except OSError:
                time.sleep(0.2)
                continue
            connections.append(connection)
            pids.add(_answering_pid(api, port, connection.getsockname()[1]))
        children = api.children(recursive=True)
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
        for connection in connections:
            connection.close()
    assert len(pids) == 2
    assert server.returncode == 0, stderr
    assert "Traceback" not in stderr
    # The workers are joined before the parent exits; its resource tracker follows it out.
    assert psutil.wait_procs(children, timeout=10)[1] == []


def test_api_workers_must_be_a_positive_number() -> None:
    result = _procmon("api", "--workers", "0")
    assert result.returncode == 2
    assert "not a whole number above 0: '0'" in result.stderr


async def test_api_workers_accept_connections_that_send_without_delay() -> None:
    port = free_port()
    listening = listening_socket(uvicorn.Config(app_from_environment, port=port))
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connection(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held = writer.get_extra_info("socket")
        accepted.set_result(held.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    async with await asyncio.start_server(on_connection, sock=listening):
        _, client = await asyncio.open_connection("127.0.0.1", port)
        nodelay = await asyncio.wait_for(accepted, 10)
        client.close()
    # Without TCP_NODELAY each answer on a kept-alive connection waits for a delayed ACK.
    assert nodelay != 0


def test_version_names_the_package_version() -> None:
    from procmon import __version__

    result = _procmon("--version")
    assert (result.returncode, result.stdout) == (0, f"procmon {__version__}\n")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "procmon: error: the following arguments are required: COMMAND (see procmon --help)"),
        (("nosuch",), "procmon: error: argument COMMAND: invalid choice: 'nosuch'"),
        (
            ("submit",),
            "procmon submit: error: the following arguments are required: file, --machine-id,"
            " --os, --command (see procmon submit --help)",
        ),
        (("rollup", "--bogus"), "procmon: error: unrecognized arguments: --bogus"),
        (("apikey", "create"), "procmon apikey create: error: the following arguments are"),
        (("collect", "--interval", "0"), "procmon collect: error: argument --interval: not a"),
        (("spool",), "procmon spool: error: the following arguments are required"),
    ],
)
def test_a_mistake_on_the_command_line_is_one_line(args: tuple[str, ...], expected: str) -> None:
    result = _procmon(*args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(expected)
    assert line.endswith("--help)")


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("procmon: error: ")
    return line


def test_an_unreachable_database_is_one_line_without_its_password() -> None:
    url = f"postgresql://owner:s3cret@127.0.0.1:{free_port()}/procmon"
    result = _procmon("apikey", "list", env={"PATH": "/usr/bin:/bin", "PROCMON_DATABASE_URL": url})
    line = _one_error_line(result)
    assert line.startswith("procmon: error: cannot reach PostgreSQL: ")
    assert "s3cret" not in result.stderr
    assert result.stdout == ""


def test_settings_mask_passwords_unless_asked() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PROCMON_DATABASE_URL": "postgresql://owner:s3cret@db/procmon",
        "PROCMON_API_DATABASE_PASSWORD": "hunter2",
    }
    masked = _procmon("settings", env=env, check=True).stdout.splitlines()
    assert "PROCMON_DATABASE_URL=postgresql://owner:***@db/procmon" in masked
    assert "PROCMON_API_DATABASE_PASSWORD=***" in masked
    shown = _procmon("settings", "--show-secrets", env=env, check=True).stdout.splitlines()
    assert "PROCMON_DATABASE_URL=postgresql://owner:s3cret@db/procmon" in shown
    assert "PROCMON_API_DATABASE_PASSWORD=hunter2" in shown


def test_a_server_command_on_a_client_install_says_what_to_install() -> None:
    # A client's install has no Faust: the finder below makes it so for this process.
    script = (
        "import sys\n"
        "class NoFaust:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'faust':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoFaust())\n"
        "from procmon.cli import main\n"
        "sys.exit(main(['worker']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    line = _one_error_line(result)
    assert "pip install 'procmon-fleet[server]'" in line


def test_ctrl_c_ends_up_with_0_and_other_commands_with_130(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import procmon.cli_ingest
    import procmon.devstack
    from procmon.cli import main

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    # main configures the root logger: the test's changes to it are undone afterwards.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(procmon.devstack, "run_dev_stack", interrupted)
    monkeypatch.setattr(procmon.cli_ingest, "read_text", interrupted)
    assert main(["up"]) == 0
    assert main(["parse", str(tmp_path / "x.out")]) == 130
