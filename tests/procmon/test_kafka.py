"""Producer options follow the settings; large listings are compressed or refused clearly."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from procmon.envelope import Envelope, make_envelope
from procmon.errors import CollectorError, ObjectStoreError
from procmon.kafka import ensure_topics, producer_options, publish
from procmon.object_store import open_store
from procmon.settings import Settings
from streams.batch import RawMessage, prepare_batch


def test_defaults_suit_apache_kafka() -> None:
    options = producer_options(Settings(kafka_bootstrap="kafka:9092"))
    assert options["bootstrap_servers"] == "kafka:9092"
    assert options["enable_idempotence"] is True
    assert options["acks"] == "all"
    assert options["compression_type"] == "lz4"


def test_compression_and_idempotence_can_be_turned_off() -> None:
    options = producer_options(Settings(kafka_compression="none", kafka_idempotence=False))
    assert options["compression_type"] is None
    assert options["enable_idempotence"] is False


def _envelope(raw_output: str) -> Envelope:
    return make_envelope(
        raw_output=raw_output,
        machine_id="big",
        machine_name="big",
        os_type="linux",
        os_version="",
        command_type="ps aux",
        timestamp=datetime(2026, 11, 28, tzinfo=UTC),
    )


async def test_an_output_over_the_limit_is_sent_compressed(broker: str) -> None:
    settings = Settings(
        kafka_bootstrap=broker,
        kafka_idempotence=False,
        kafka_max_message_bytes=200_000,
        topic=f"big-{uuid.uuid4().hex[:8]}",
    )
    await ensure_topics(settings)
    repetitive = "root 1 0.0 0.1 1024 512 ? S 10:00 0:01 /usr/bin/something --flag\n" * 20_000
    assert await publish(settings, [_envelope(repetitive)]) == 1


async def test_too_large_even_compressed_is_refused_with_both_sizes() -> None:
    settings = Settings(kafka_max_message_bytes=100_000, kafka_bootstrap="127.0.0.1:1")
    noise = random.Random(7).randbytes(300_000).hex()
    with pytest.raises(CollectorError) as caught:
        await publish(settings, [_envelope(noise)])
    message = str(caught.value)
    assert "over the broker's limit of 100000 bytes" in message
    assert re.search(r"is \d{6} bytes as a message \(\d{6} bytes compressed with lz4\)", message)


async def test_without_compression_the_limit_is_final() -> None:
    settings = Settings(
        kafka_max_message_bytes=10_000, kafka_compression="none", kafka_bootstrap="127.0.0.1:1"
    )
    with pytest.raises(CollectorError, match="PROCMON_KAFKA_COMPRESSION is none"):
        await publish(settings, [_envelope("x" * 20_000)])


def _object_names(root: Path) -> list[str]:
    return [path.name for path in root.rglob("*") if path.is_file()]


async def test_too_large_with_a_store_goes_by_reference_and_reads_back(
    broker: str, tmp_path: Path
) -> None:
    settings = Settings(
        kafka_bootstrap=broker,
        kafka_idempotence=False,
        kafka_max_message_bytes=100_000,
        topic=f"ref-{uuid.uuid4().hex[:8]}",
        object_store_url=f"file://{tmp_path}",
    )
    await ensure_topics(settings)
    header = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\n"
    small = header + "root 1 0.0 0.1 1024 512 ? S 10:00 0:01 /sbin/init\n"
    noise = random.Random(7).randbytes(100_000).hex()
    large = header + "".join(
        f"root {pid} 0.0 0.1 1024 512 ? S 10:00 0:01 /bin/p {noise[pid * 100 : pid * 100 + 90]}\n"
        for pid in range(1, 2001)
    )
    assert await publish(settings, [_envelope(small), _envelope(large)]) == 2
    consumer = AIOKafkaConsumer(
        settings.topic, bootstrap_servers=broker, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        records = [await asyncio.wait_for(consumer.getone(), 30) for _ in range(2)]
    finally:
        await consumer.stop()
    inline, by_reference = (json.loads(record.value or b"") for record in records)
    # Under the limit, a listing goes inline as always, even with a store.
    assert inline["raw_output"] == small
    assert "raw_output_ref" not in inline
    assert len(records[1].value or b"") < 1000
    assert "raw_output" not in by_reference
    digest = hashlib.sha256(large.encode()).hexdigest()
    assert by_reference["raw_output_ref"] == f"sha256:{digest}"
    assert _object_names(tmp_path) == [digest]
    batch = prepare_batch(
        [RawMessage(r.topic, r.partition, r.offset, r.key, r.value or b"") for r in records],
        store=open_store(settings.object_store_url),
    )
    assert batch.dead_letters == []
    assert [snapshot.envelope.raw_output for snapshot in batch.snapshots] == [small, large]
    assert [row.pid for row in batch.snapshots[1].rows] == list(range(1, 2001))


async def test_a_store_that_cannot_take_the_listing_sends_nothing(tmp_path: Path) -> None:
    root = tmp_path / "not-a-directory"
    root.write_bytes(b"")
    settings = Settings(
        kafka_max_message_bytes=100_000,
        kafka_bootstrap="127.0.0.1:1",
        object_store_url=f"file://{root}",
    )
    noise = random.Random(7).randbytes(300_000).hex()
    # Refused before the broker is contacted (it would fail with CollectorError).
    with pytest.raises(ObjectStoreError, match=f"cannot store an object under {root}"):
        await publish(settings, [_envelope(noise)])


async def test_too_large_without_a_store_says_how_to_send_it() -> None:
    settings = Settings(kafka_max_message_bytes=100_000, kafka_bootstrap="127.0.0.1:1")
    noise = random.Random(7).randbytes(300_000).hex()
    with pytest.raises(
        CollectorError, match="set PROCMON_OBJECT_STORE_URL to send it by reference"
    ):
        await publish(settings, [_envelope(noise)])
