"""Generated processes, and tasklist's table, CSV and list of them in each language."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from hypothesis import strategies as st

from parsers.rows import ProcessRow, ProcessStatus
from parsers.windows_locale import TASKLIST_LABELS

__all__ = [
    "FIELDS",
    "LANGUAGES",
    "PROCESSES",
    "VERBOSE",
    "Language",
    "Process",
    "expected",
    "memory_text",
    "render_csv",
    "render_list",
    "render_table",
]

FIELDS = ("image", "pid", "session_name", "session_number", "memory")
VERBOSE = (*FIELDS, "status", "user", "cpu_time", "window_title")
_RIGHT = frozenset({"pid", "session_number", "memory", "cpu_time"})


@dataclass(frozen=True)
class Language:
    """How one Windows language prints tasklist: separator, unit, N/A, states, widths."""

    code: str
    separator: str
    unit: str
    not_available: str
    states: tuple[tuple[str, ProcessStatus], ...]
    memory_width: int


LANGUAGES = (
    Language(
        "en",
        ",",
        "K",
        "N/A",
        (("Running", ProcessStatus.RUNNING), ("Not Responding", ProcessStatus.UNKNOWN)),
        12,
    ),
    Language(
        "fr",
        "\u202f",
        "Ko",
        "N/A",
        (("En cours d'exécution", ProcessStatus.RUNNING), ("Inconnu", ProcessStatus.UNKNOWN)),
        12,
    ),
    Language(
        "de",
        ".",
        "K",
        "Nicht zutreffend",
        (("Wird ausgeführt", ProcessStatus.RUNNING), ("Keine Rückmeldung", ProcessStatus.UNKNOWN)),
        15,
    ),
    Language(
        "ru",
        "\u00a0",
        "КБ",
        "Н/Д",  # noqa: RUF001
        (("Работает", ProcessStatus.RUNNING), ("Неизвестно", ProcessStatus.UNKNOWN)),
        12,
    ),
    Language(
        "es",
        ".",
        "KB",
        "N/D",
        (("En ejecución", ProcessStatus.RUNNING), ("Desconocido", ProcessStatus.UNKNOWN)),
        12,
    ),
)


@dataclass(frozen=True)
class Process:
    """A generated process, whole, in Windows' units."""

    image: str
    pid: int
    session: tuple[str, int]
    kib: int
    state: int
    user: str | None
    cpu_seconds: int
    title: str


_IMAGES = st.builds(
    lambda stem, ext: stem + ext,
    st.text(st.sampled_from("abcXYZ09 ._-é"), min_size=1, max_size=30).map(str.strip).filter(bool),
    st.sampled_from([".exe", ".EXE", "", ".com"]),
)
_USERS = st.none() | st.builds(
    lambda domain, name: f"{domain}\\{name}",
    st.sampled_from(["NT AUTHORITY", "DESKTOP-7KQ2M1", "A-VERY-LONG-DOMAIN-NAME-FOR-TESTING"]),
    st.text(st.sampled_from("abc .é"), min_size=1, max_size=30).map(str.strip).filter(bool),
)
PROCESSES = st.builds(
    Process,
    image=_IMAGES,
    pid=st.integers(0, 10_000_000).map(lambda n: n * 4),
    session=st.sampled_from([("Services", 0), ("Console", 1), ("RDP-Tcp#12", 3)]),
    kib=st.integers(0, 99_999_999),
    state=st.integers(0, 1),
    user=_USERS,
    cpu_seconds=st.integers(0, 999 * 3600),
    title=st.text(st.sampled_from('ab ,:"-é'), max_size=20).map(str.strip),
)


def memory_text(process: Process, language: Language) -> str:
    """Mem Usage as the language prints it."""
    return f"{process.kib:,} {language.unit}".replace(",", language.separator)


def _values(process: Process, language: Language) -> dict[str, str]:
    """Every value of the process as the language prints it, whole."""
    hours, rest = divmod(process.cpu_seconds, 3600)
    return {
        "image": process.image,
        "pid": str(process.pid),
        "session_name": process.session[0],
        "session_number": str(process.session[1]),
        "memory": memory_text(process, language),
        "status": language.states[process.state][0],
        "user": process.user or language.not_available,
        "cpu_time": f"{hours}:{rest // 60:02}:{rest % 60:02}",
        "window_title": process.title or language.not_available,
    }


def _widths(language: Language) -> dict[str, int]:
    """The columns' widths: en-US's, with the language's Mem Usage width."""
    return {
        "image": 25,
        "pid": 8,
        "session_name": 16,
        "session_number": 11,
        "memory": language.memory_width,
        "status": 15,
        "user": 50,
        "cpu_time": 12,
        "window_title": 72,
    }


def _cell(text: str, field: str, width: int, last: bool) -> str:
    """A value cut to its column and aligned in it; the last column is neither cut nor padded."""
    if last:
        return text if field not in _RIGHT else text.rjust(width)
    text = text[:width]
    return text.rjust(width) if field in _RIGHT else text.ljust(width)


def render_table(processes: list[Process], language: Language, verbose: bool) -> str:
    """tasklist's table: labels and values cut to the widths, one space apart."""
    fields = VERBOSE if verbose else FIELDS
    widths = _widths(language)
    labels = TASKLIST_LABELS[language.code]
    lines = ["", " ".join(_cell(labels[f][0], f, widths[f], False) for f in fields).rstrip()]
    lines.append(" ".join("=" * widths[field] for field in fields))
    for process in processes:
        values = _values(process, language)
        cells = [_cell(values[f], f, widths[f], f == fields[-1]) for f in fields]
        lines.append(" ".join(cells))
    return "\r\n".join(lines) + "\r\n"


def render_csv(processes: list[Process], language: Language, verbose: bool) -> str:
    """tasklist /fo csv: every value quoted, whole."""
    fields = VERBOSE if verbose else FIELDS
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(TASKLIST_LABELS[language.code][f][0] for f in fields)
    for process in processes:
        values = _values(process, language)
        writer.writerow(values[field] for field in fields)
    return "\r\n" + out.getvalue()


def render_list(processes: list[Process], language: Language, verbose: bool) -> str:
    """tasklist /fo list: ``Label: value`` lines, labels padded alike, blank between records."""
    fields = VERBOSE if verbose else FIELDS
    labels = [TASKLIST_LABELS[language.code][field][0] + ":" for field in fields]
    pad = max(len(label) for label in labels) + 1
    lines = [""]
    for process in processes:
        values = _values(process, language)
        lines.extend(f"{label:<{pad}}{values[f]}" for label, f in zip(labels, fields, strict=True))
        lines.append("")
    return "\n".join(lines)


def expected(process: Process, line_number: int, verbose: bool, table: bool) -> ProcessRow:
    """The row a parser must give for ``process``, cut where the table cuts."""
    image = process.image
    cut: tuple[str, ...] = ()
    if table and len(image) > 25:
        # The table pads with blanks, so a cut that ends in one reads as a shorter name; and a
        # name that fills the column but ends in ".exe" reads as whole (see parsers.tasklist).
        image = image[:25].rstrip()
        if len(image) == 25 and not image.endswith(".exe"):
            cut = ("process_name",)
    if not verbose:
        return ProcessRow(
            line_number=line_number,
            pid=process.pid,
            process_name=image,
            rss_bytes=process.kib * 1024,
            memory_usage_bytes=process.kib * 1024,
            truncated_fields=cut,
        )
    return ProcessRow(
        line_number=line_number,
        pid=process.pid,
        process_name=image,
        rss_bytes=process.kib * 1024,
        memory_usage_bytes=process.kib * 1024,
        cpu_time_seconds=float(process.cpu_seconds),
        user=process.user,
        truncated_fields=cut,
    )
