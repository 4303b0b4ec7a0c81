"""Reading a part of a top listing's metadata in tests."""

from __future__ import annotations

from typing import Any

from parsers.rows import Listing


def section(listing: Listing, key: str) -> dict[str, Any]:
    """The dictionary ``listing.metadata[key]`` (tasks, memory_bytes...), checked to be one."""
    value = listing.metadata[key]
    assert isinstance(value, dict)
    return value
