"""Object storage for raw outputs too large to travel through the broker.

A listing over the broker's limit even compressed is put in the store; its envelope then
carries ``raw_output_ref`` (the object's reference) instead of the text, and the worker reads
the object back, checking it against the envelope's ``content_hash``. Objects are named by
the SHA-256 of their bytes, so a listing sent twice is stored once.

:class:`ObjectStore` is the interface a production store (S3, GCS, ...) implements;
:class:`FilesystemStore` is the implementation here, for one machine or a shared mount.
References look like ``sha256:<hex>``: they name the object, not where a store keeps it, so
collectors and workers may mount the same store at different paths.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from procmon.errors import ObjectStoreError

__all__ = ["FilesystemStore", "ObjectStore", "open_store"]

_REFERENCE = re.compile(r"sha256:([0-9a-f]{64})")


class ObjectStore(Protocol):
    """Where large raw outputs are kept, by reference."""

    def put(self, data: bytes) -> str:
        """Store ``data``; return its reference."""
        ...

    def get(self, reference: str) -> bytes:
        """The bytes stored under ``reference``; ObjectStoreError when there are none."""
        ...


class FilesystemStore:
    """Objects as files under a root directory, named by their SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, reference: str) -> Path:
        match = _REFERENCE.fullmatch(reference)
        if match is None:
            # Checked before any path is built: a reference never walks out of the root.
            raise ObjectStoreError(f"not an object reference: {reference[:100]!r}")
        digest = match[1]
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` atomically (a reader sees all of it or nothing); return its reference."""
        reference = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self._path(reference)
        if path.exists():
            return reference
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temporary:
                temporary.write(data)
            os.replace(temporary.name, path)
        except OSError as exc:
            raise ObjectStoreError(f"cannot store an object under {self.root}: {exc}") from exc
        return reference

    def get(self, reference: str) -> bytes:
        """The bytes stored under ``reference``."""
        path = self._path(reference)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ObjectStoreError(f"no object {reference} in {self.root}") from exc
        except OSError as exc:
            raise ObjectStoreError(f"cannot read object {reference}: {exc}") from exc


def open_store(url: str | None) -> ObjectStore | None:
    """The store of ``PROCMON_OBJECT_STORE_URL`` (``file:///path``), or None when unset."""
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost") or not parsed.path:
        raise ObjectStoreError(
            f"object store URL must be file:///absolute/path (the one store here), got {url!r}"
        )
    return FilesystemStore(Path(parsed.path))
