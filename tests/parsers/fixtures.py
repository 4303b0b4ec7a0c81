"""Reading the raw listings kept under tests/fixtures/ (see tests/fixtures/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def read_fixture(relative: str) -> str:
    """Return the text of ``tests/fixtures/<relative>``, line endings untouched."""
    return (_FIXTURES / relative).read_bytes().decode("utf-8")
