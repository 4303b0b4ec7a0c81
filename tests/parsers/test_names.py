"""Process names as people say them: ``postgres`` for ``postgres: 15/main: checkpointer``.

The fixtures are this machine's ``ps aux`` and ``ps -ef`` with PostgreSQL 15 running (its
server processes rewrite their titles), a client backend, and a Perl process that set its
own title (``$0 = "queue-worker: waiting for jobs"``); names below read off them by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parsers import parse_listing
from parsers.values import process_name
from tests.parsers.fixtures import read_fixture

# tests/fixtures/SOURCES.md: captured at 2026-12-02 00:53:36 UTC, with TZ=UTC.
CAPTURED_AT = datetime(2026, 12, 2, 0, 53, 36, tzinfo=UTC)

# Line, name, command line: the same lines in both fixtures.
EXPECTED = [
    (48, "irq/24-ACPI:Ged", "[irq/24-ACPI:Ged]"),
    (60, "sleep", "[sleep] <defunct>"),
    (
        67,
        "postgres",
        "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main"
        " -c config_file=/etc/postgresql/15/main/postgresql.conf",
    ),
    (68, "postgres", "postgres: 15/main: checkpointer"),
    (69, "postgres", "postgres: 15/main: background writer"),
    (70, "postgres", "postgres: 15/main: walwriter"),
    (71, "postgres", "postgres: 15/main: logical replication launcher"),
    (72, "redis-server", "redis-server 127.0.0.1:6379"),
    (82, "queue-worker", "queue-worker: waiting for jobs"),
    (84, "postgres", "postgres: 15/main: postgres postgres 127.0.0.1(39452) SELECT"),
]


@pytest.mark.parametrize(
    ("fixture", "command"),
    [("linux-local/names-ps-aux.out", "ps aux"), ("linux-local/names-ps-ef.out", "ps -ef")],
)
def test_rewritten_titles_give_the_program_s_name(fixture: str, command: str) -> None:
    listing = parse_listing(
        read_fixture(fixture), os_type="linux", command=command, observed_at=CAPTURED_AT
    )
    chosen = {row.line_number: row for row in listing.rows}
    assert [
        (number, chosen[number].process_name, chosen[number].command_line)
        for number, _, _ in EXPECTED
    ] == EXPECTED
    names = [row.process_name for row in listing.rows]
    assert names.count("postgres") == 6
    assert not [name for name in names if name.endswith(":")]


def test_ps_o_without_a_name_column_names_titles_alike() -> None:
    # ps -o pid,args: the name comes from the whole command text, not the assembler's word.
    raw = (
        "    PID COMMAND\n   2216 postgres: 15/main: checkpointer \n   3221 queue-worker: waiting\n"
    )
    listing = parse_listing(raw, os_type="linux", command="ps -eo", observed_at=CAPTURED_AT)
    assert [(row.process_name, row.command_line) for row in listing.rows] == [
        ("postgres", "postgres: 15/main: checkpointer"),
        ("queue-worker", "queue-worker: waiting"),
    ]


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("nginx: worker process", "nginx"),
        ("nginx: master process /usr/sbin/nginx -g daemon on;", "nginx"),
        ("sshd: alice@pts/0", "sshd"),
        ("sshd: alice [priv]", "sshd"),
        ("postgres: 15/main: checkpointer", "postgres"),
        # A path before the colon: its base name, as for any program.
        ("/usr/local/bin/backup: copying", "backup"),
        ("avahi-daemon: running [host.local]", "avahi-daemon"),
        # Colons inside the first word, or in later words, are the program's own.
        ("redis-server 127.0.0.1:6379", "redis-server"),
        ("gunicorn:app --workers 4", "gunicorn:app"),
        ("[kworker/0:1-events]", "kworker/0:1-events"),
        # A first word of colons only has no name to give but itself.
        (":", ":"),
        (":: x", "::"),
        ("/usr/bin/python3 -m http.server", "python3"),
    ],
)
def test_process_name(command: str, name: str) -> None:
    assert process_name(command) == name


def test_a_cut_kernel_thread_keeps_what_is_left_of_its_name() -> None:
    assert process_name("[kworker/u8:0-events unb") == "kworker/u8:0-events unb"
    assert process_name("[") == "["
