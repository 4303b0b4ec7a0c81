"""Machine labels (``role=web``, ``site=eu``): their bounds, and how they are written as text.

The bounds are declared here once: the envelope refuses labels outside them (the worker then
makes the message a dead letter saying why), and so do the ``labels`` setting and the
``--label`` flags, at start-up. See README "Message envelope".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from procmon.errors import ConfigurationError

__all__ = [
    "MAX_LABELS",
    "MAX_NAME_LENGTH",
    "MAX_VALUE_LENGTH",
    "NAME_PATTERN",
    "check_label_name",
    "check_labels",
    "format_labels",
    "labels_in_force",
    "parse_label",
    "parse_labels",
]

MAX_LABELS = 32
MAX_NAME_LENGTH = 63
MAX_VALUE_LENGTH = 256
# Prometheus' label names (letters, digits and underscores, not led by a digit), which every
# tool a researcher exports to takes as a column name as it is.
NAME_PATTERN = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{MAX_NAME_LENGTH - 1}}}")


def check_label_name(name: str) -> str:
    """``name`` if it is a valid label name; else a ValueError saying what one is."""
    if NAME_PATTERN.fullmatch(name) is None:
        shown = name if len(name) <= MAX_NAME_LENGTH else f"{name[:MAX_NAME_LENGTH]}..."
        raise ValueError(
            f"label name {shown!r} is not 1 to {MAX_NAME_LENGTH} letters, digits or"
            " underscores, not led by a digit"
        )
    return name


def _check_value(name: str, value: str) -> None:
    if not 0 < len(value) <= MAX_VALUE_LENGTH:
        raise ValueError(
            f"label {name}'s value has {len(value)} characters, not 1 to {MAX_VALUE_LENGTH}"
        )
    # PostgreSQL's jsonb holds no NUL.
    if "\x00" in value:
        raise ValueError(f"label {name}'s value contains a NUL character, which cannot be stored")


def check_labels(labels: Mapping[str, str]) -> Mapping[str, str]:
    """``labels`` if every name and value is within the bounds; else a ValueError saying
    which is not."""
    if len(labels) > MAX_LABELS:
        raise ValueError(f"{len(labels)} labels, more than the {MAX_LABELS} a machine may have")
    for name, value in labels.items():
        check_label_name(name)
        _check_value(name, value)
    return labels


def parse_label(text: str) -> tuple[str, str]:
    """One ``name=value`` (a ``--label`` flag); a ValueError says what is wrong with it."""
    name, equals, value = text.partition("=")
    if not equals:
        raise ValueError(f"label {text!r} is not name=value, e.g. role=web")
    name = name.strip()
    value = value.strip()
    check_label_name(name)
    _check_value(name, value)
    return name, value


def parse_labels(text: str) -> dict[str, str]:
    """``role=web,site=eu`` (``PROCMON_LABELS``) as a mapping; blank means none.

    A value cannot hold a comma. A name given twice is refused: which one was meant is unclear.
    """
    labels: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, value = parse_label(item)
        if name in labels:
            raise ValueError(f"label {name} is given twice")
        labels[name] = value
    return dict(check_labels(labels))


def format_labels(labels: Mapping[str, str]) -> str:
    """``labels`` as :func:`parse_labels` reads them back."""
    return ",".join(f"{name}={value}" for name, value in labels.items())


def labels_in_force(
    configured: Mapping[str, str], flags: Iterable[tuple[str, str]] | None
) -> dict[str, str]:
    """The ``labels`` setting with each ``--label`` flag (:func:`parse_label`) in place of
    its name's value; a ConfigurationError when they come to too many labels."""
    try:
        return dict(check_labels({**configured, **dict(flags or ())}))
    except ValueError as exc:
        raise ConfigurationError(f"PROCMON_LABELS with --label: {exc}") from exc
