"""Localized Windows numbers, KiB sizes, N/A markers and tasklist states."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.rows import ProcessStatus
from parsers.windows_locale import kib_to_bytes, tasklist_status, windows_number

_SEPARATORS = (",", ".", " ", "\u00a0", "\u202f", "'", "\u2019")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("9840", 9840),
        ("9,840", 9840),
        ("1.444", 1444),
        ("3\u00a0464", 3464),
        ("602\u202f988", 602_988),
        ("1'234'567", 1_234_567),
        ("12,34,567", 1_234_567),
    ],
)
def test_windows_number(text: str, value: int) -> None:
    assert windows_number(text) == value


@pytest.mark.parametrize(
    "text", ["", "-4", "1,2", "1,2345", "1,234.567", "1234,567", "1.234,5", "٣", "1_000", "1e3"]
)
def test_windows_number_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="number"):
        windows_number(text)


@given(st.integers(0, 10**14), st.sampled_from(_SEPARATORS))
def test_grouped_numbers_round_trip(value: int, separator: str) -> None:
    assert windows_number(f"{value:,}".replace(",", separator)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("8 K", 8 * 1024),
        ("9,840 K", 9840 * 1024),
        ("1\u00a0836 Ko", 1836 * 1024),
        ("3\u00a0464 КБ", 3464 * 1024),
        ("85.324 KB", 85_324 * 1024),
        ("8\u00a0K", 8 * 1024),
        ("N/A", None),
        ("Н/Д", None),  # noqa: RUF001
    ],
)
def test_kib_to_bytes(text: str, value: int | None) -> None:
    assert kib_to_bytes(text) == value


@pytest.mark.parametrize("text", ["8", "K", " K", "8 M", "8 MB", "8K", "8  K", "x K", "N/A K"])
def test_kib_to_bytes_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"KiB|number"):
        kib_to_bytes(text)


def test_tasklist_status() -> None:
    assert tasklist_status("Running") is ProcessStatus.RUNNING
    assert tasklist_status("En cours d\u2019exécution") is ProcessStatus.RUNNING
    assert tasklist_status("Not Responding") is ProcessStatus.UNKNOWN
    assert tasklist_status("Desconocido") is ProcessStatus.UNKNOWN
    assert tasklist_status("Suspended") is ProcessStatus.UNKNOWN
