"""Log lines: JSON with message context off a terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from procmon.logs import configure_logging


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
