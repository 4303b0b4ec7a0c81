"""Log lines: JSON with message context off a terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from procmon.logs import RepeatFilter, configure_logging, mask_secrets


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_message_context_and_exceptions() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    log = logging.getLogger("procmon.test")
    log.debug("not shown")
    log.warning("dead letter: %s", "bad", extra={"machine_id": "m1", "offset": 7})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed", extra={"partition": 3})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "dead letter: bad"
    assert (first["level"], first["machine_id"], first["offset"]) == ("WARNING", "m1", 7)
    assert "partition" not in first
    assert second["partition"] == 3
    assert "RuntimeError: boom" in second["exception"]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)


def test_repeated_broker_errors_are_written_once_per_window_with_a_count() -> None:
    clock = _Clock()
    repeats = RepeatFilter(window=30, clock=clock)
    written = []
    for step in range(25):
        clock.now = 1000.0 + step * 0.1
        record = _record("aiokafka", "Unable connect to node with id %s", 111)
        if repeats.filter(record):
            written.append(record.getMessage())
    other = _record("aiokafka.consumer.fetcher", "Failed fetch messages from 111")
    assert repeats.filter(other), "another message goes through"
    clock.now = 1031.0
    late = _record("aiokafka", "Unable connect to node with id %s", 111)
    assert repeats.filter(late)
    assert written == ["Unable connect to node with id 111"]
    assert (
        late.getMessage()
        == "Unable connect to node with id 111 (24 more like this in the last 31 s)"
    )


def test_procmon_records_alike_in_text_all_go_through() -> None:
    repeats = RepeatFilter(window=30, clock=_Clock())
    records = [_record("streams.app", "dead letter: %s", "bad listing") for _ in range(3)]
    assert all(repeats.filter(record) for record in records)
    assert [record.getMessage() for record in records] == ["dead letter: bad listing"] * 3


@pytest.mark.usefixtures("restore_logging")
def test_configured_logging_holds_back_repeats() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    for _ in range(5):
        logging.getLogger("aiokafka").error("Unable to update metadata from [111]")
    assert len(stream.getvalue().splitlines()) == 1


@pytest.mark.usefixtures("restore_logging")
def test_a_logged_password_is_masked_wherever_it_appears() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    options = {"sasl_plain_username": "procmon", "sasl_plain_password": "s3cret"}
    log = logging.getLogger("procmon.test")
    log.info("kafka options %s", options)
    log.info("connecting with sasl_plain_password='s3cret' to postgresql://u:s3cret@db/procmon")
    first, second = (json.loads(line)["message"] for line in stream.getvalue().splitlines())
    assert first == "kafka options {'sasl_plain_username': 'procmon', 'sasl_plain_password': '***'}"
    assert second == "connecting with sasl_plain_password='***' to postgresql://u:***@db/procmon"


@pytest.mark.timeout(30)
def test_masking_a_long_run_of_word_characters_reads_it_once() -> None:
    # A dead letter's reason can quote megabytes of one word. Patterns that may start a match
    # at every character of it and scan to its end took minutes on 100 kB (quadratic): the
    # worker stalled logging it. Here the run of a few MB is masked within the test's timeout.
    word = "a" * 3_000_000
    text = f"{word} {word}://user:secret@host sasl_{word}password='secret'"
    masked = mask_secrets(text)
    assert "secret" not in masked
    assert masked.startswith(word)
