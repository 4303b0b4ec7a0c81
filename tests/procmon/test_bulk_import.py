"""Bulk import of a tree of saved listings, against the real broker."""

from __future__ import annotations

import asyncio
import io
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from procmon.bulk_import import MANIFEST_NAME, ImportDefaults, import_paths
from procmon.devstack import free_port
from procmon.kafka import ensure_topics
from procmon.settings import Settings
from streams.replay import replay_topic

LISTING = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n"
# What the flags say of files no manifest describes.
LOOSE = ImportDefaults(
    machine_id="loose-1",
    os_type="linux",
    command_type="ps aux",
    timestamp=datetime(2026, 11, 2, tzinfo=UTC),
)


async def _read(settings: Settings, count: int) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(
        settings.topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                assert record.value is not None
                found.append(json.loads(record.value))
                if len(found) == count:
                    break
    finally:
        await consumer.stop()
    return found


def _fresh_topic(broker: str) -> Settings:
    """Settings that send to a topic of this test's own, created."""
    settings = Settings(
        kafka_bootstrap=broker, kafka_idempotence=False, topic=f"import-{uuid.uuid4().hex[:8]}"
    )
    asyncio.run(ensure_topics(settings))
    return settings


def test_tree_with_manifest_flags_duplicates_and_bad_files(tmp_path: Path, broker: str) -> None:
    listed = tmp_path / "fleet" / "web"
    listed.mkdir(parents=True)
    (listed / "a.out").write_text(LISTING + "root 1 0 0 1 1 ? S 10:00 0:00 init\n")
    (listed / "b.out").write_text(LISTING)
    (listed / MANIFEST_NAME).write_text(
        "file,machine_id,machine_name,os,os_version,command,timestamp\n"
        "a.out,web-1,web-1.lab,linux,6.1,ps aux,2026-11-01T10:00:00+00:00\n"
        "b.out,web-2,,freebsd,14.1,ps aux,2026-11-01T10:05:00+01:00\n"
    )
    loose = tmp_path / "fleet" / "loose"
    loose.mkdir()
    (loose / "c.out").write_text(LISTING + "root 2 0 0 1 1 ? S 10:00 0:00 sh\n")
    (loose / "copy-of-c.out").write_text(LISTING + "root 2 0 0 1 1 ? S 10:00 0:00 sh\n")
    (loose / "binary.out").write_bytes(b"\xff\xfe\x00")
    settings = _fresh_topic(broker)
    summary = import_paths(settings, [tmp_path / "fleet"], LOOSE, progress=io.StringIO())

    assert (summary.sent, summary.skipped) == (3, 1)
    assert [(path.name, reason.split(":")[0]) for path, reason in summary.rejected] == [
        ("binary.out", "CollectorError")
    ]
    messages = asyncio.run(_read(settings, 3))
    by_machine = {str(m["machine_id"]): m for m in messages}
    assert set(by_machine) == {"web-1", "web-2", "loose-1"}
    assert by_machine["web-2"]["machine_name"] == "web-2"
    assert by_machine["web-2"]["os_type"] == "freebsd"
    assert by_machine["web-2"]["timestamp"] == "2026-11-01T10:05:00+01:00"
    assert by_machine["loose-1"]["timestamp"] == "2026-11-02T00:00:00Z"


def test_files_without_manifest_or_flags_are_rejected(tmp_path: Path, broker: str) -> None:
    (tmp_path / "x.out").write_text(LISTING)
    settings = Settings(kafka_bootstrap=broker, kafka_idempotence=False, topic="unused")
    summary = import_paths(settings, [tmp_path], ImportDefaults(), progress=io.StringIO())
    assert summary.sent == 0
    assert "--machine-id, --os and --command not given" in summary.rejected[0][1]


def test_a_listing_too_large_to_send_is_rejected_and_the_rest_sent(
    tmp_path: Path, broker: str
) -> None:
    rows = "".join(
        f"root {pid} 0 0 1 1 ? S 10:00 0:00 /bin/worker --id {pid}\n" for pid in range(1, 400)
    )
    (tmp_path / "big.out").write_text(LISTING + rows)
    (tmp_path / "small.out").write_text(LISTING + "root 1 0 0 1 1 ? S 10:00 0:00 init\n")
    settings = Settings(
        kafka_bootstrap=broker,
        kafka_idempotence=False,
        kafka_compression="none",
        kafka_max_message_bytes=4096,
        topic=f"import-{uuid.uuid4().hex[:8]}",
    )
    asyncio.run(ensure_topics(settings))
    summary = import_paths(settings, [tmp_path], LOOSE, progress=io.StringIO())

    assert summary.sent == 1
    [(path, reason)] = summary.rejected
    assert path.name == "big.out"
    assert reason.startswith("CollectorError: the listing of machine loose-1")
    assert "over the broker's limit of 4096 bytes" in reason
    [message] = asyncio.run(_read(settings, 1))
    assert "init" in str(message["raw_output"])


def test_empty_files_and_times_the_workers_refuse_are_rejected(tmp_path: Path, broker: str) -> None:
    (tmp_path / "empty.out").write_text("")
    (tmp_path / "blank.out").write_text("\n  \n")
    (tmp_path / "good.out").write_text(LISTING + "root 1 0 0 1 1 ? S 10:00 0:00 init\n")
    undated = tmp_path / "undated.out"
    undated.write_text(LISTING + "root 2 0 0 1 1 ? S 10:00 0:00 sh\n")
    # An archive unpacked without times: modified at the epoch.
    os.utime(undated, (0, 0))
    (tmp_path / "future.out").write_text(LISTING + "root 3 0 0 1 1 ? S 10:00 0:00 cron\n")
    (tmp_path / MANIFEST_NAME).write_text(
        "file,machine_id,machine_name,os,os_version,command,timestamp\n"
        "future.out,web-9,,linux,6.1,ps aux,2126-01-01T00:00:00+00:00\n"
    )
    settings = _fresh_topic(broker)
    loose = ImportDefaults(machine_id="loose-1", os_type="linux", command_type="ps aux")
    summary = import_paths(settings, [tmp_path], loose, progress=io.StringIO())

    rejected = {path.name: reason for path, reason in summary.rejected}
    assert summary.sent == 1
    assert set(rejected) == {"empty.out", "blank.out", "undated.out", "future.out"}
    assert rejected["empty.out"] == (
        f"CollectorError: {tmp_path / 'empty.out'} is empty: there is no listing in it to send"
    )
    assert "is empty" in rejected["blank.out"]
    assert rejected["undated.out"] == (
        "EnvelopeError: timestamp 1970-01-01T00:00:00+00:00 is before "
        "1990-01-01T00:00:00+00:00, the earliest accepted (PROCMON_EARLIEST_TIMESTAMP)"
    )
    assert rejected["future.out"].startswith(
        "EnvelopeError: timestamp 2126-01-01T00:00:00+00:00 is more than 86400 seconds ahead"
    )
    [message] = asyncio.run(_read(settings, 1))
    assert "init" in str(message["raw_output"])


def test_what_the_workers_could_not_parse_is_rejected_with_the_parsers_reason(
    tmp_path: Path, broker: str
) -> None:
    (tmp_path / "notes.txt").write_text("shopping list:\n- milk\n")
    (tmp_path / "good.out").write_text(LISTING + "root 1 0 0 1 1 ? S 10:00 0:00 init\n")
    settings = _fresh_topic(broker)
    summary = import_paths(settings, [tmp_path], LOOSE, progress=io.StringIO())

    assert summary.sent == 1
    [(path, reason)] = summary.rejected
    assert path.name == "notes.txt"
    assert reason.startswith("SnapshotParseError: ")
    [message] = asyncio.run(_read(settings, 1))
    assert "init" in str(message["raw_output"])


def test_a_manifest_without_its_columns_rejects_its_files_and_says_which(
    tmp_path: Path, broker: str
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.out").write_text(LISTING + "root 1 0 0 1 1 ? S 10:00 0:00 init\n")
    (broken / MANIFEST_NAME).write_text("file,host,when\na.out,web-1,2026-11-01T10:00:00Z\n")
    settings = Settings(
        kafka_bootstrap=broker, kafka_idempotence=False, topic=f"import-{uuid.uuid4().hex[:8]}"
    )
    summary = import_paths(settings, [tmp_path], LOOSE, progress=io.StringIO())

    assert summary.sent == 0
    [(path, reason)] = summary.rejected
    assert path.name == "a.out"
    assert reason.startswith(f"CollectorError: {broken / MANIFEST_NAME} lacks the column(s) ")
    assert "machine_id, os, command, timestamp" in reason


def test_a_manifest_row_naming_a_missing_file_is_rejected(tmp_path: Path, broker: str) -> None:
    (tmp_path / "a.out").write_text(LISTING + "root 1 0 0 1 1 ? S 10:00 0:00 init\n")
    (tmp_path / MANIFEST_NAME).write_text(
        "file,machine_id,machine_name,os,os_version,command,timestamp\n"
        "a.out,web-1,,linux,6.1,ps aux,2026-11-01T10:00:00+00:00\n"
        "gone.out,web-2,,linux,6.1,ps aux,2026-11-01T10:00:00+00:00\n"
    )
    empty = tmp_path / "only-a-manifest"
    empty.mkdir()
    (empty / MANIFEST_NAME).write_text(
        "file,machine_id,machine_name,os,os_version,command,timestamp\n"
        "lost.out,web-3,,linux,6.1,ps aux,2026-11-01T10:00:00+00:00\n"
    )
    settings = _fresh_topic(broker)
    summary = import_paths(settings, [tmp_path], LOOSE, progress=io.StringIO())

    assert summary.sent == 1
    assert sorted((path.name, reason) for path, reason in summary.rejected) == [
        ("gone.out", f"listed in {MANIFEST_NAME}, but there is no such file"),
        ("lost.out", f"listed in {MANIFEST_NAME}, but there is no such file"),
    ]


def test_a_reimport_skips_what_the_database_already_holds(
    tmp_path: Path, broker: str, database_url: str
) -> None:
    machine = f"re-{uuid.uuid4().hex[:8]}"
    for number in range(3):
        (tmp_path / f"{number}.out").write_text(
            LISTING + f"root {number + 1} 0 0 1 1 ? S 10:00 0:00 init\n"
        )
    settings = _fresh_topic(broker).model_copy(update={"database_url": database_url})
    flags = ImportDefaults(
        machine_id=machine, os_type="linux", command_type="ps aux", timestamp=LOOSE.timestamp
    )
    first = import_paths(settings, [tmp_path], flags, progress=io.StringIO())
    assert (first.sent, first.skipped, first.checked_database) == (3, 0, True)
    # Stored as the workers store them (the replay shares their write path).
    assert asyncio.run(replay_topic(settings, idle_seconds=1.5)).snapshots_stored == 3
    (tmp_path / "new.out").write_text(LISTING + "root 9 0 0 1 1 ? S 10:00 0:00 cron\n")

    again = import_paths(settings, [tmp_path], flags, progress=io.StringIO())
    assert (again.sent, again.skipped, again.rejected) == (1, 3, [])


def test_without_a_database_to_ask_a_reimport_sends_everything(tmp_path: Path, broker: str) -> None:
    (tmp_path / "a.out").write_text(LISTING + "root 1 0 0 1 1 ? S 10:00 0:00 init\n")
    settings = _fresh_topic(broker).model_copy(
        update={"database_url": f"postgresql://nobody@127.0.0.1:{free_port()}/procmon"}
    )
    for _ in range(2):
        summary = import_paths(settings, [tmp_path], LOOSE, progress=io.StringIO())
        assert (summary.sent, summary.skipped, summary.checked_database) == (1, 0, False)
