"""Logging for every procmon process: readable on a terminal, JSON lines elsewhere.

A log call may pass message context as ``extra`` (``machine_id``, ``topic``, ``partition``,
``offset``, ``content_hash``); the JSON form carries those as fields of their own, so that a
log pipeline can find every line about one machine or one message.

aiokafka logs each failed reconnection, ten times a second while the broker is away: a message
of its logged again and again is written once per :data:`REPEAT_WINDOW_SECONDS`, and the next
one written says how many were held back. procmon's own records all go through: two of them
alike in text may differ in their context.

Passwords never reach a log line: both formats pass what they write through
:func:`mask_secrets` (a database URL may be part of an error's text).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

__all__ = [
    "CONTEXT_FIELDS",
    "MASK",
    "REPEAT_WINDOW_SECONDS",
    "JsonFormatter",
    "MaskingFormatter",
    "RepeatFilter",
    "configure_logging",
    "mask_secrets",
]

REPEAT_WINDOW_SECONDS = 30.0

CONTEXT_FIELDS = ("machine_id", "topic", "partition", "offset", "content_hash")
_TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
# The password of a URL (scheme://user:password@host) and of a libpq conninfo (password=...).
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@\s]*@"
)
_CONNINFO_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.I)
# A quoted value named like a password, as a repr prints keyword arguments or a mapping of
# them: sasl_plain_password='...' or 'sasl_plain_password': '...' (Kafka client options).
_QUOTED_PASSWORD = re.compile(
    r"""(?P<head>\b\w*password['"]?\s*[:=]\s*)(?P<quote>['"])(?:(?!(?P=quote)).)*(?P=quote)""", re.I
)


def mask_secrets(text: str) -> str:
    """``text`` with every password in it replaced by ``***``: of a URL, of a conninfo, and
    a quoted value named like a password (``sasl_plain_password='...'``)."""
    text = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
    text = _QUOTED_PASSWORD.sub(rf"\g<head>\g<quote>{MASK}\g<quote>", text)
    return _CONNINFO_PASSWORD.sub(rf"\g<head>{MASK}", text)


class MaskingFormatter(logging.Formatter):
    """The terminal's format, passwords masked."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as the terminal format says, with :func:`mask_secrets`."""
        return mask_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single line of JSON."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class RepeatFilter(logging.Filter):
    """Let a message of the ``loggers`` through once per ``window`` seconds; count the rest.

    Messages are the same when their logger, level and text are. The first one after a window
    has passed goes through with ``(N more like this in the last S s)`` appended. Records of
    other loggers all go through.
    """

    def __init__(
        self,
        loggers: tuple[str, ...] = ("aiokafka",),
        window: float = REPEAT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._loggers = loggers
        self._children = tuple(f"{name}." for name in loggers)
        self._window = window
        self._clock = clock
        # (logger, level, text) -> (when last let through, repeats held back since)
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to write ``record`` (rewriting its message to count held-back repeats)."""
        if record.name not in self._loggers and not record.name.startswith(self._children):
            return True
        text = record.getMessage()
        key = (record.name, record.levelno, text)
        now = self._clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self._window:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        if len(self._seen) > 10_000:
            # Bounded: forget everything rather than grow with ever-new texts.
            self._seen.clear()
        self._seen[key] = (now, 0)
        if last is not None and last[1]:
            record.msg = f"{text} ({last[1]} more like this in the last {now - last[0]:.0f} s)"
            record.args = None
        return True


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Send every logger's records at ``level`` and above to ``stream`` (stderr by default),
    repeats held back as :class:`RepeatFilter` says."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter(_TERMINAL_FORMAT) if stream.isatty() else JsonFormatter())
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
