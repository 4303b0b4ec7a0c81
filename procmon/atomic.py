"""Writing a file so that a reader sees all of it or none, and it survives a crash once written.

Shared by the object store and the collector's spool: both hand a file to another process (a
worker, a later run) that must never read one cut short.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, data: bytes, temporary: Path) -> None:
    """Write ``data`` to ``temporary`` (which must not exist), sync it, rename it to ``path``
    and sync the directory; OSError, with ``temporary`` removed, when any step fails.

    ``temporary`` is created with the umask's permissions (mkstemp would make it 0600,
    unreadable to a process running as another user on a shared mount).
    """
    file = temporary.open("xb")
    try:
        with file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _sync_directory(path.parent)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; Windows cannot open a directory)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
