"""Logging for every procmon process: readable on a terminal, JSON lines elsewhere.

A log call may pass message context as ``extra`` (``machine_id``, ``topic``, ``partition``,
``offset``, ``content_hash``); the JSON form carries those as fields of their own, so that a
log pipeline can find every line about one machine or one message.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

__all__ = ["CONTEXT_FIELDS", "JsonFormatter", "configure_logging"]

CONTEXT_FIELDS = ("machine_id", "topic", "partition", "offset", "content_hash")
_TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single line of JSON."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Send every logger's records at ``level`` and above to ``stream`` (stderr by default)."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter(_TERMINAL_FORMAT) if stream.isatty() else JsonFormatter()
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
