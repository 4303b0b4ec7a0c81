"""Pausing Python's cyclic garbage collector while a parser makes many rows."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a listing's rows are made.

    Rows hold no reference cycles, yet making hundreds of thousands of objects triggers
    collections that scan everything alive, again and again: half the parsing time of a
    large listing. Collection resumes on exit, unless it was already paused on entry.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
