"""Producer options follow the settings: idempotence and compression."""

from __future__ import annotations

from procmon.kafka import producer_options
from procmon.settings import Settings


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
