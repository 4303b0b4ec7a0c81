"""What localized Windows tools print: grouped numbers, KiB sizes, N/A markers, tasklist words.

``tasklist`` (and other console tools) print in the language of the Windows installation:
numbers grouped by the locale's thousands separator (``9,840``, ``1.444``, ``3 464`` with
U+00A0 or U+202F), sizes with a localized KiB unit (``K``, ``Ko``, ``KB``, ``КБ``), a
localized "not available" marker (``N/A`` and the like), and localized column labels and states.
The readers here accept every language they know at once: none of these words means one thing
in one language and another thing in another, so no language needs to be chosen first.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from parsers.rows import ProcessStatus

__all__ = [
    "NOT_AVAILABLE",
    "TASKLIST_LABELS",
    "TASKLIST_STATUSES",
    "kib_to_bytes",
    "tasklist_status",
    "windows_number",
]

# Every thousands separator a Windows locale uses: comma (en), dot (de, es), space or U+00A0
# (fr, ru; a copy from a console may turn U+00A0 into a space), U+202F (fr since Windows 10
# 1809), apostrophes (de-CH). Groups are of three digits; en-IN's lakh grouping (12,34,567)
# has two-digit inner groups.
_GROUPED = re.compile(
    r"[0-9]{1,3}(?P<separator>[,.' \u00a0\u202f\u2019])"
    r"(?:[0-9]{2,3}(?P=separator)){0,6}[0-9]{3}"
)
# The KiB unit as each language spells it (en/de "K", fr "Ko", some "KB", ru "КБ").
_KIB_UNITS = frozenset({"K", "KB", "Ko", "КБ"})

# The second is ru's, in Cyrillic letters.
NOT_AVAILABLE = frozenset(
    {"N/A", "Н/Д", "N/D", "Nicht zutreffend", "Non applicable"}  # noqa: RUF001
)
"""The markers tasklist prints for a value it could not read, in every language known here."""

TASKLIST_STATUSES: MappingProxyType[str, ProcessStatus] = MappingProxyType(
    {
        # "Running" says the process's windows answer (or it has none in this session): the
        # process is alive and not suspended, the nearest shared state being running.
        "Running": ProcessStatus.RUNNING,
        "En cours d'exécution": ProcessStatus.RUNNING,
        "Wird ausgeführt": ProcessStatus.RUNNING,
        "Выполняется": ProcessStatus.RUNNING,
        "Работает": ProcessStatus.RUNNING,
        "En ejecución": ProcessStatus.RUNNING,
        # A hung window says nothing of the process's scheduling state: it may be spinning
        # (running) or blocked (sleeping), so it is not guessed.
        "Not Responding": ProcessStatus.UNKNOWN,
        "Ne répond pas": ProcessStatus.UNKNOWN,
        "Keine Rückmeldung": ProcessStatus.UNKNOWN,
        "Не отвечает": ProcessStatus.UNKNOWN,  # noqa: RUF001
        "No responde": ProcessStatus.UNKNOWN,
        "Unknown": ProcessStatus.UNKNOWN,
        "Inconnu": ProcessStatus.UNKNOWN,
        "Unbekannt": ProcessStatus.UNKNOWN,
        "Неизвестно": ProcessStatus.UNKNOWN,
        "Desconocido": ProcessStatus.UNKNOWN,
    }
)
"""tasklist /v Status values, in every language known here, and their shared state.

Apostrophes are written "'": :func:`tasklist_status` reads U+2019 as one.
"""

_FIELDS = (
    "image",
    "pid",
    "session_name",
    "session_number",
    "memory",
    "status",
    "user",
    "cpu_time",
    "window_title",
)
# Each column's full label per language, alternatives where captures disagree (ru "Статус"
# and "Состояние"). Typographic apostrophes (U+2019) are compared as "'", so none is listed.
_LABELS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("Image Name",),
        ("PID",),
        ("Session Name",),
        ("Session#",),
        ("Mem Usage",),
        ("Status",),
        ("User Name",),
        ("CPU Time",),
        ("Window Title",),
    ),
    "fr": (
        ("Nom de l'image",),
        ("PID",),
        ("Nom de la session",),
        ("Numéro de session",),
        ("Utilisation de la mémoire", "Utilisation mémoire"),
        ("Statut", "État"),
        ("Nom d'utilisateur",),
        ("Temps processeur", "Temps UC"),
        ("Titre de la fenêtre",),
    ),
    "de": (
        ("Abbildname",),
        ("PID",),
        ("Sitzungsname",),
        ("Sitz.-Nr.",),
        ("Speichernutzung",),
        ("Status",),
        ("Benutzername",),
        ("CPU-Zeit",),
        ("Fenstertitel",),
    ),
    "ru": (
        ("Имя образа",),
        ("PID",),
        ("Имя сессии", "Имя сеанса"),
        ("№ сеанса",),
        ("Память",),
        ("Статус", "Состояние"),
        ("Пользователь",),
        ("Время ЦП",),
        ("Заголовок окна",),
    ),
    "es": (
        ("Nombre de imagen",),
        ("PID",),
        ("Nombre de sesión",),
        ("Núm. de sesión",),
        ("Uso de memoria",),
        ("Estado",),
        ("Nombre de usuario",),
        ("Tiempo de CPU",),
        ("Título de ventana",),
    ),
}

TASKLIST_LABELS: MappingProxyType[str, MappingProxyType[str, tuple[str, ...]]] = MappingProxyType(
    {
        language: MappingProxyType(dict(zip(_FIELDS, labels, strict=True)))
        for language, labels in _LABELS.items()
    }
)
"""tasklist's column labels by language, then by field, as full labels (apostrophes as "'").

Fields, in tasklist's order: image, pid, session_name, session_number, memory (the default
five), then status, user, cpu_time, window_title (added by ``/v``). Tables cut each label to
its column's width; CSV and list outputs print it whole.
"""


def windows_number(text: str) -> int:
    """A non-negative integer as a Windows locale prints it: ``9840``, ``9,840``, ``1.444``.

    Digits may be grouped by one thousands separator used throughout: comma, dot, apostrophe
    (``'`` or U+2019), space, U+00A0 or U+202F, in groups of three (inner groups of two too,
    for en-IN). Raises ValueError on anything else, signs and decimals included.
    """
    if text.isdigit() and text.isascii():
        if len(text) > 15:
            raise ValueError(f"{text!r} is too long a number")
        return int(text)
    match = _GROUPED.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a number")
    return int(text.replace(match["separator"], ""))


def kib_to_bytes(text: str) -> int | None:
    """The bytes of a size printed in KiB with its unit (``9,840 K``, ``3 464 КБ``), or None.

    The number reads as :func:`windows_number` does; the unit, after one space (or U+00A0),
    is ``K``, ``KB``, ``Ko`` or ``КБ``. A marker of :data:`NOT_AVAILABLE` gives None. Raises
    ValueError on anything else.
    """
    number, unit = text[:-1], text[-1:]
    if unit != "K":
        if text in NOT_AVAILABLE:
            return None
        number, _, unit = text.rpartition(" ")
        if not number:
            number, _, unit = text.rpartition("\u00a0")
    elif number[-1:] in (" ", "\u00a0"):
        number = number[:-1]
    else:
        raise ValueError(f"{text!r} is not a size in KiB")
    if unit not in _KIB_UNITS:
        raise ValueError(f"{text!r} is not a size in KiB")
    return windows_number(number) * 1024


def tasklist_status(text: str) -> ProcessStatus:
    """The shared state of a tasklist /v Status value; words not known here are UNKNOWN."""
    return TASKLIST_STATUSES.get(text.replace("\u2019", "'"), ProcessStatus.UNKNOWN)
