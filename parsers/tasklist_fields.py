"""Reading one tasklist process, whichever of its three outputs (table, CSV, list) printed it.

tasklist prints the same nine values everywhere (five without ``/v``): Image Name, PID,
Session Name, Session#, Mem Usage, then Status, User Name, CPU Time, Window Title. Mem Usage
is the working set in KiB: ``memory_usage_bytes``, Windows' own "memory usage", and also
``rss_bytes``, since the working set is what other systems call resident memory (as in the
Get-Process and Win32_Process parsers). Session Name,
Session# and Window Title have no field in the row: Session# is only checked, the others
skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from parsers.rows import ProcessRow, ProcessStatus
from parsers.times import parse_cpu_time
from parsers.windows_locale import (
    NOT_AVAILABLE,
    TASKLIST_LABELS,
    TASKLIST_STATUSES,
    kib_to_bytes,
    tasklist_status,
)

__all__ = [
    "DEFAULT_FIELDS",
    "VERBOSE_FIELDS",
    "TasklistReader",
    "field_of_label",
    "plain_label",
]

DEFAULT_FIELDS = ("image", "pid", "session_name", "session_number", "memory")
"""The fields of plain ``tasklist``, in its column order."""
VERBOSE_FIELDS = (*DEFAULT_FIELDS, "status", "user", "cpu_time", "window_title")
"""The fields of ``tasklist /v``, in its column order."""

_FIELD_OF_LABEL = {
    label: field
    for fields in TASKLIST_LABELS.values()
    for field, labels in fields.items()
    for label in labels
}


def plain_label(text: str) -> str:
    """A printed label as :data:`parsers.windows_locale.TASKLIST_LABELS` spells it.

    Localized labels print the typographic apostrophe U+2019 (fr ``Nom de l'image``) or,
    after a trip through another code page, the ASCII one: both compare as ``'``.
    """
    return text.strip().replace("\u2019", "'")


def field_of_label(text: str) -> str | None:
    """The field a whole printed label (CSV header, list key) names, in any language, or None."""
    return _FIELD_OF_LABEL.get(plain_label(text))


def _cpu_seconds(text: str) -> float:
    """Seconds of tasklist's CPU Time, always ``h:mm:ss`` with unbounded hours."""
    if text.count(":") != 2 or not text.replace(":", "").isdigit():
        raise ValueError(f"CPU time {text!r}: not h:mm:ss")
    return parse_cpu_time(text)


class TasklistReader:
    """Turns one listing's printed values into rows, remembering the values that repeat.

    Status, user and CPU time take a handful of distinct values in a listing, so each is
    converted once. ``status_width`` and ``user_width`` are the Status and User Name columns'
    widths where the tool cuts values to them (tables): a user name that fills its column is
    flagged as cut (``user``), and so is a Status that fills its column as the start of a
    longer known word (de ``Keine Rückmeldu``: ``status_raw``), whose state it then gets.
    """

    __slots__ = ("_cpu_times", "_status_width", "_statuses", "_user_width")

    def __init__(self, status_width: int | None = None, user_width: int | None = None) -> None:
        self._status_width = status_width
        self._user_width = user_width
        self._cpu_times: dict[str, float | None] = {}
        self._statuses: dict[str, tuple[ProcessStatus, bool]] = {}

    def row(
        self,
        line_number: int,
        values: Sequence[str],
        image_truncated: bool,
    ) -> ProcessRow:
        """The row of one process's values, stripped, in its fields' order.

        ``values`` follow :data:`DEFAULT_FIELDS` or :data:`VERBOSE_FIELDS`.
        Raises ValueError naming the column whose value does not read: an empty image name,
        a PID or Session# that is not a whole number, a size that is not in KiB, a CPU time
        that is not ``h:mm:ss``. ``N/A`` (in any known language) gives None for Mem Usage,
        User Name and CPU Time; Status words tasklist_status does not know are UNKNOWN,
        always kept in ``status_raw``.
        """
        image, pid, _, session_number, memory = values[:5]
        if not image:
            raise ValueError("Image Name: empty")
        if not (pid.isdigit() and pid.isascii() and len(pid) < 16):
            raise ValueError(f"PID: {pid!r} is not an integer")
        # Not kept, but a Session# that is no number shows the columns were misread.
        if session_number and not (session_number.isdigit() and session_number.isascii()):
            raise ValueError(f"Session#: {session_number!r} is not an integer")
        try:
            memory_bytes = kib_to_bytes(memory)
        except ValueError as exc:
            raise ValueError(f"Mem Usage: {exc}") from exc
        truncated: tuple[str, ...] = ("process_name",) if image_truncated else ()
        status: ProcessStatus | None = None
        status_raw: str | None = None
        user: str | None = None
        cpu_seconds: float | None = None
        if len(values) > 5:
            status_raw, user, cpu_time = values[5], values[6], values[7]
            if status_raw:
                known = self._statuses.get(status_raw)
                if known is None:
                    known = self._statuses[status_raw] = _status_cut(self._status_width, status_raw)
                status = known[0]
                if known[1]:
                    truncated = (*truncated, "status_raw")
            else:
                status_raw = None
            if user in NOT_AVAILABLE or not user:
                user = None
            elif self._user_width is not None and len(user) >= self._user_width:
                truncated = (*truncated, "user")
            if cpu_time in self._cpu_times:
                cpu_seconds = self._cpu_times[cpu_time]
            else:
                cpu_seconds = self._cpu_times[cpu_time] = _cpu_time(cpu_time)
        # Positional, each value naming its field: keywords double the call's cost, which took
        # 3-14% off the tasklist formats' parsing rates (measured on `make bench`'s corpora).
        return ProcessRow(
            line_number,  # line_number
            int(pid),  # pid
            image,  # process_name
            None,  # ppid
            user,  # user
            None,  # command_line
            None,  # cpu_percent
            None,  # memory_percent
            memory_bytes,  # rss_bytes
            None,  # vsz_bytes
            memory_bytes,  # memory_usage_bytes
            status,  # status
            status_raw,  # status_raw
            None,  # start_time
            None,  # start_time_precision
            cpu_seconds,  # cpu_time_seconds
            None,  # tty
            None,  # threads
            None,  # nice
            None,  # priority
            truncated,  # truncated_fields
        )


def _status_cut(width: int | None, text: str) -> tuple[ProcessStatus, bool]:
    """The state of a Status value, and whether it is a known word cut to ``width``."""
    if width is None or len(text) != width or text in TASKLIST_STATUSES:
        return tasklist_status(text), False
    plain = text.replace("\u2019", "'")
    for word, status in TASKLIST_STATUSES.items():
        if word.startswith(plain):
            return status, True
    return ProcessStatus.UNKNOWN, False


def _cpu_time(text: str) -> float | None:
    """CPU Time in seconds, None for N/A; ValueError naming the column."""
    if text in NOT_AVAILABLE:
        return None
    try:
        return _cpu_seconds(text)
    except ValueError as exc:
        raise ValueError(f"CPU Time: {exc}") from exc
