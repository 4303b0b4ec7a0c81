"""Poison messages through a real worker: each is stored or dead-lettered, and the worker lives.

A message that cannot be stored must never stop its partition (the worker used to exit 70,
restart, read the same message and exit again, storing nothing more anywhere).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import psycopg
import pytest
from hypothesis import given

from procmon.envelope import content_hash
from procmon.kafka import ensure_topics
from procmon.settings import Settings
from streams.parking import parked_messages
from tests.conftest import migrated_database, stored_counts
from tests.e2e.harness import (
    HEADER,
    ROWS_PER_SNAPSHOT,
    Workers,
    produce,
    produce_raw,
    read_topic,
    snapshot_envelopes,
    wait_for,
    worker_settings,
)
from tests.e2e.poison import Generated, big_listing, poison_batches

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture
def database() -> Iterator[str]:
    with migrated_database("procmon_poison") as url:
        yield url


@pytest.fixture
def workers(broker: str, database: str, redis_prefix: str, tmp_path: Path) -> Iterator[Workers]:
    settings = worker_settings(broker, database, redis_prefix, parking_dir=tmp_path / "parked")
    (tmp_path / "logs").mkdir()
    group = Workers(settings, tmp_path / "logs")
    yield group
    group.stop_all()


def _procmon(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a `procmon` command under these settings; it must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCMON_")}
    env |= settings.environment()
    command = [sys.executable, "-m", "procmon", *args]
    return subprocess.run(command, env=env, check=True, timeout=60, capture_output=True, text=True)


def test_a_dead_letter_too_large_for_its_topic_is_kept_whole_and_sent_by_reference(
    workers: Workers, database: str, tmp_path: Path
) -> None:
    settings = workers.settings
    listing = tmp_path / "ps-aux.txt"
    listing.write_text(big_listing(12_000, bad_line=6_000), encoding="utf-8")
    raw_size = listing.stat().st_size
    assert raw_size > settings.kafka_max_message_bytes, "the listing must exceed the limit raw"
    worker = workers.start()
    produce(settings.kafka_bootstrap, settings.topic, snapshot_envelopes(150))
    submit = ["submit", str(listing), "--machine-id", "busy-host", "--os", "linux"]
    _procmon(settings, *submit, "--command", "ps aux", "--timestamp", "2026-11-28T12:30:00Z")
    produce(settings.kafka_bootstrap, settings.topic, snapshot_envelopes(150, start=150))

    wait_for(lambda: stored_counts(database)[0] == 300, "the 300 valid snapshots", timeout=90)
    assert stored_counts(database) == (300, 300 * ROWS_PER_SNAPSHOT, 1)
    assert worker.poll() is None, "the worker keeps running"
    with psycopg.connect(database) as conn:
        row = conn.execute(
            'SELECT topic, "partition", "offset", raw_message, error_class, reason, line_number'
            " FROM ingest_errors"
        ).fetchone()
    assert row is not None
    topic, partition, offset, raw_message, error_class, reason, line_number = row
    envelope = json.loads(raw_message)
    assert envelope["raw_output"] == listing.read_text(encoding="utf-8"), "kept whole"
    assert (error_class, line_number) == ("SnapshotParseError", 6_001)

    [letter] = read_topic(settings.kafka_bootstrap, settings.dead_letter_topic, 1)
    headers = {name: value.decode() for name, value in letter.headers}
    assert headers["procmon-body-reference"] == "ingest_errors"
    assert int(headers["procmon-original-bytes"]) == len(raw_message)
    assert headers["procmon-reason"] == reason
    assert headers["procmon-source-offset"] == str(offset)
    assert json.loads(letter.value) == {
        "ingest_errors": {"topic": topic, "partition": partition, "offset": offset},
        "bytes": len(raw_message),
    }
    assert len(letter.value) < 1000


def _nul_messages() -> list[tuple[bytes | None, bytes]]:
    """Envelopes with a NUL in machine_id, in content_hash, in an unknown field's name."""
    [a, b, c] = snapshot_envelopes(3, start=5_000)
    first = json.loads(a.to_bytes()) | {"machine_id": "nul\x00host"}
    second = json.loads(b.to_bytes())
    second["content_hash"] = "\x00" + second["content_hash"][1:]
    third = json.loads(c.to_bytes()) | {"field\x00name": 1}
    return [(b"nul-host", json.dumps(fields).encode()) for fields in (first, second, third)]


def test_nul_characters_in_the_text_of_a_dead_letter_stop_nothing(
    workers: Workers, database: str
) -> None:
    settings = workers.settings
    worker = workers.start()
    produce(settings.kafka_bootstrap, settings.topic, snapshot_envelopes(150))
    produce_raw(settings.kafka_bootstrap, settings.topic, _nul_messages())
    produce(settings.kafka_bootstrap, settings.topic, snapshot_envelopes(150, start=150))

    wait_for(lambda: stored_counts(database) == (300, 900, 3), "300 snapshots, 3 dead letters")
    assert worker.poll() is None
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT machine_id, content_hash, reason, raw_message FROM ingest_errors ORDER BY id"
        ).fetchall()
    assert any(row[0] == "nul\\u0000host" for row in rows)
    assert any(str(row[1]).startswith("\\u0000") for row in rows)
    assert any("field\\u0000name" in str(row[2]) for row in rows)
    assert all("stored escaped" in str(row[2]) for row in rows)
    assert sorted(bytes(row[3]) for row in rows) == sorted(v for _, v in _nul_messages())


def test_what_postgresql_refuses_is_dead_lettered_or_parked_and_can_be_replayed(
    workers: Workers, database: str
) -> None:
    # Real refusals: a snapshot of refused-host violates a constraint of commands, and its
    # dead letter one of ingest_errors too, so it is parked.
    with psycopg.connect(database) as conn:
        conn.execute(
            "ALTER TABLE commands ADD CONSTRAINT no_refused CHECK (machine_id <> 'refused-host')"
        )
        conn.execute(
            "ALTER TABLE ingest_errors ADD CONSTRAINT no_parked"
            " CHECK (reason NOT LIKE '%line 2: park me%')"
        )
    settings = workers.settings
    [refused] = snapshot_envelopes(1, start=7_000)
    refused_fields = json.loads(refused.to_bytes()) | {"machine_id": "refused-host"}
    parked_text = HEADER + "\nline 2: park me\n"
    [parked] = snapshot_envelopes(1, start=7_001)
    parked_fields = json.loads(parked.to_bytes()) | {
        "raw_output": parked_text,
        "content_hash": content_hash(parked_text),
    }
    worker = workers.start()
    produce(settings.kafka_bootstrap, settings.topic, snapshot_envelopes(150))
    poison = [(b"refused-host", json.dumps(refused_fields).encode())]
    poison.append((parked.key, json.dumps(parked_fields).encode()))
    produce_raw(settings.kafka_bootstrap, settings.topic, poison)
    produce(settings.kafka_bootstrap, settings.topic, snapshot_envelopes(150, start=150))

    wait_for(lambda: stored_counts(database)[0] == 300, "the 300 valid snapshots")
    wait_for(lambda: bool(parked_messages(settings.parking_dir)[0]), "the parked message")
    assert worker.poll() is None
    with psycopg.connect(database) as conn:
        [(error_class, reason)] = conn.execute("SELECT error_class, reason FROM ingest_errors")
    assert error_class == "StorageError"
    assert "no_refused" in reason
    [kept], _ = parked_messages(settings.parking_dir)
    assert kept.value == poison[1][1]
    assert "no_parked" in kept.storage_error

    listed = _procmon(settings, "dead-letters", "list").stdout
    assert "PARKED" in listed
    assert str(kept.path) in listed
    with psycopg.connect(database) as conn:  # the operator removes the cause
        conn.execute("ALTER TABLE commands DROP CONSTRAINT no_refused")
        conn.execute("ALTER TABLE ingest_errors DROP CONSTRAINT no_parked")
    replayed = _procmon(settings, "dead-letters", "replay").stderr
    assert "replayed 1 dead letters and 1 parked messages" in replayed
    # Both back through the worker: the refused snapshot stores now, the parked listing
    # (which does not parse) is a dead letter in ingest_errors.
    wait_for(lambda: stored_counts(database) == (301, 903, 2), "the replayed messages")
    assert parked_messages(settings.parking_dir)[0][0].replayed_at is not None
    with psycopg.connect(database) as conn:
        recorded = conn.execute("SELECT raw_message FROM ingest_errors WHERE replayed_at IS NULL")
        assert [bytes(row[0]) for row in recorded] == [poison[1][1]]
    # A parked message is sent once; the dead letter it became is replayed like any other.
    again = _procmon(settings, "dead-letters", "replay").stderr
    assert "replayed 1 dead letters and 0 parked messages" in again
    assert worker.poll() is None


# The property: whatever comes, each message is stored or dead-lettered, and the worker lives.
def _accounted(
    settings: Settings, sent: list[tuple[Generated, tuple[int, int]]]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Coordinates of messages neither stored nor dead-lettered, and of those that are both.

    A copy of an earlier message is skipped: the worker may count it a duplicate of the first
    (the same snapshot key), which is then what must be stored or dead-lettered.
    """
    with psycopg.connect(settings.database_url) as conn:
        stored = {row[0] for row in conn.execute("SELECT content_hash FROM commands")}
        failed = set(
            conn.execute(
                'SELECT "partition", "offset" FROM ingest_errors WHERE topic = %s',
                (settings.topic,),
            ).fetchall()
        )
    parked, _ = parked_messages(settings.parking_dir)
    failed |= {(p.partition, p.offset) for p in parked if p.topic == settings.topic}
    missing, twice = [], []
    seen: set[tuple[bytes | None, bytes]] = set()
    for message, where in sent:
        if (message.key, message.value) in seen:
            continue
        seen.add((message.key, message.value))
        in_commands = message.content_hash in stored
        if where in failed and in_commands:
            twice.append(where)
        elif where not in failed and not in_commands:
            missing.append(where)
    return missing, twice


@pytest.mark.timeout(170)
def test_whatever_comes_each_message_is_stored_or_dead_lettered(workers: Workers) -> None:
    settings = workers.settings
    asyncio.run(ensure_topics(settings))
    worker = workers.start()

    @hypothesis.settings(
        max_examples=10,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        database=None,
    )
    @given(poison_batches())
    def check(messages: list[Generated]) -> None:
        coordinates = produce_raw(
            settings.kafka_bootstrap, settings.topic, [(m.key, m.value) for m in messages]
        )
        sent = list(zip(messages, coordinates, strict=True))
        wait_for(lambda: not _accounted(settings, sent)[0], "every message accounted", 60)
        assert _accounted(settings, sent) == ([], []), "each stored or dead-lettered, not both"
        assert worker.poll() is None, workers.logs()[-3000:]

    check()
    assert worker.poll() is None
    stored, _, dead_letters = stored_counts(settings.database_url)
    assert stored > 0
    assert dead_letters > 0
